/**
 * The war room's pure parts: reading the service's /metrics text, turning successive readings into rates per instance
 * (behind the ALB each request may reach another instance), and rendering one screen of the view from what was read.
 * scripts/watch.ts polls and draws; the tests render recorded readings.
 */
import { routeLabel } from "../../contract/routes";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text exposition format: one sample per line, `name{label="value",...} number`; comments skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** `GET /admin/sales/:saleId/stats`; paid and expired where the service reports them. */
export interface SaleStats {
  readonly stock: number;
  readonly reserved: number;
  readonly confirmed: number;
  readonly pending: number;
  readonly paid?: number;
  readonly expired?: number;
}

/** What one poll read: the instance that answered /metrics and its figures, and each sale's stats. */
export interface Reading {
  readonly at: number;
  readonly metrics: readonly Sample[];
  readonly sales: readonly { readonly saleId: string; readonly stats?: SaleStats; readonly problem?: string }[];
}

const ORDER_ROUTE = routeLabel("placeOrder");

/** The counters the view turns into rates, as one instance reported them. */
interface Counters {
  readonly orders: number;
  readonly http5xx: number;
  readonly http503: number;
  readonly outcomes: Readonly<Record<string, number>>;
}

function countersOf(samples: readonly Sample[]): Counters {
  let orders = 0;
  let http5xx = 0;
  let http503 = 0;
  const outcomes: Record<string, number> = {};
  for (const sample of samples) {
    if (sample.name === "seckill_http_requests_total") {
      const status = Number(sample.labels.status);
      if (sample.labels.route === ORDER_ROUTE) orders += sample.value;
      if (status >= 500) http5xx += sample.value;
      if (status === 503) http503 += sample.value;
    } else if (sample.name === "seckill_reservation_outcomes_total") {
      outcomes[sample.labels.outcome] = (outcomes[sample.labels.outcome] ?? 0) + sample.value;
    }
  }
  return { orders, http5xx, http503, outcomes };
}

const gauge = (samples: readonly Sample[], name: string) => samples.find((sample) => sample.name === name)?.value;

/** The live sales the order writer reports (one gauge per sale), so the view needs no list of them. */
export function liveSaleIds(samples: readonly Sample[]): string[] {
  return [...new Set(samples.filter((sample) => sample.name === "seckill_sale_unconfirmed_orders").map((sample) => sample.labels.sale_id))];
}

export function instanceOf(samples: readonly Sample[]): string {
  return samples.find((sample) => sample.name === "seckill_instance_info")?.labels.instance ?? "(unnamed)";
}

interface Rates {
  readonly at: number;
  readonly ordersPerSecond: number;
  readonly http5xxPerSecond: number;
  readonly http503PerSecond: number;
  readonly outcomesPerSecond: Readonly<Record<string, number>>;
}

/** The figures of one screen. */
export interface WarRoomView {
  readonly target: string;
  readonly at: number;
  /** Set while the admin plane does not answer; the figures below it are then the last ones read. */
  readonly problem?: string;
  readonly lastReadAt?: number;
  readonly sales: Reading["sales"];
  /** Instances whose rates are recent enough to count (their sum is the fleet's). */
  readonly instances: number;
  readonly ordersPerSecond?: number;
  readonly outcomesPerSecond: Readonly<Record<string, number>>;
  readonly http5xxPerSecond?: number;
  readonly http503PerSecond?: number;
  readonly writerLagSeconds?: number;
  readonly writerBacklog?: number;
  /** Order events dead-lettered, as counted by the instances seen (each since its start). */
  readonly deadLetters?: number;
  /** The ALB's limit on orders for the whole fleet, requests per second, when known. */
  readonly orderLimitQps?: number;
}

/** An instance's rates count towards the fleet's for this long after they were last measured. */
export const INSTANCE_RATES_KEPT_MS = 30_000;

/**
 * Successive readings → the view. Rates are per instance: the difference of one instance's counters between two of
 * its readings (a counter that went down is a restarted instance, measured afresh); the fleet's rate is the sum of
 * the instances measured within INSTANCE_RATES_KEPT_MS.
 */
export class WarRoom {
  private readonly last = new Map<string, { at: number; counters: Counters; deadLetters: number }>();
  private readonly rates = new Map<string, Rates>();
  private lastReading?: Reading;
  private problem?: string;

  constructor(
    private readonly target: string,
    private readonly orderLimitQps?: number,
  ) {}

  read(reading: Reading): void {
    this.problem = undefined;
    this.lastReading = reading;
    const instance = instanceOf(reading.metrics);
    const counters = countersOf(reading.metrics);
    const deadLetters = gauge(reading.metrics, "seckill_order_dead_letters_total") ?? 0;
    const previous = this.last.get(instance);
    this.last.set(instance, { at: reading.at, counters, deadLetters });
    if (!previous || reading.at <= previous.at || counters.orders < previous.counters.orders) return;
    const seconds = (reading.at - previous.at) / 1000;
    const perSecond = (now: number, before: number) => Math.max(0, now - before) / seconds;
    const outcomesPerSecond: Record<string, number> = {};
    for (const [outcome, count] of Object.entries(counters.outcomes)) {
      outcomesPerSecond[outcome] = perSecond(count, previous.counters.outcomes[outcome] ?? 0);
    }
    this.rates.set(instance, {
      at: reading.at,
      ordersPerSecond: perSecond(counters.orders, previous.counters.orders),
      http5xxPerSecond: perSecond(counters.http5xx, previous.counters.http5xx),
      http503PerSecond: perSecond(counters.http503, previous.counters.http503),
      outcomesPerSecond,
    });
  }

  /** The admin plane did not answer: the view says why, over the last figures read. */
  failed(problem: string): void {
    this.problem = problem;
  }

  view(at: number): WarRoomView {
    const recent = [...this.rates.values()].filter((rates) => at - rates.at <= INSTANCE_RATES_KEPT_MS);
    const sum = (pick: (rates: Rates) => number) => (recent.length === 0 ? undefined : recent.reduce((total, r) => total + pick(r), 0));
    const outcomesPerSecond: Record<string, number> = {};
    for (const rates of recent) {
      for (const [outcome, rate] of Object.entries(rates.outcomesPerSecond))
        outcomesPerSecond[outcome] = (outcomesPerSecond[outcome] ?? 0) + rate;
    }
    const metrics = this.lastReading?.metrics ?? [];
    return {
      target: this.target,
      at,
      problem: this.problem,
      lastReadAt: this.lastReading?.at,
      sales: this.lastReading?.sales ?? [],
      instances: recent.length,
      ordersPerSecond: sum((r) => r.ordersPerSecond),
      outcomesPerSecond,
      http5xxPerSecond: sum((r) => r.http5xxPerSecond),
      http503PerSecond: sum((r) => r.http503PerSecond),
      writerLagSeconds: gauge(metrics, "seckill_order_writer_lag_seconds"),
      writerBacklog: gauge(metrics, "seckill_order_writer_backlog"),
      deadLetters: this.last.size === 0 ? undefined : [...this.last.values()].reduce((total, seen) => total + seen.deadLetters, 0),
      orderLimitQps: this.orderLimitQps,
    };
  }
}

const number = (value: number | undefined, digits = 0) =>
  value === undefined ? "-" : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const perSecond = (value: number | undefined) => (value === undefined ? "-" : `${number(value, 1)}/s`);
const time = (ms: number) => new Date(ms).toISOString().slice(11, 19) + "Z";

/** Outcomes in the order a buyer meets them; any other the service reports follows. */
const OUTCOME_ORDER = ["reserved", "already_purchased", "sold_out", "rate_limited", "paused", "unavailable", "outcome_unknown"];
const BAR_WIDTH = 30;

/** One screen of the war room, plain text (no colours): what a terminal shows and a test compares. */
export function renderWarRoom(view: WarRoomView): string {
  const lines = [`seckill war room  ${view.target}  ${time(view.at)}  (refreshed every second; Ctrl-C leaves)`, ""];
  if (view.problem) {
    lines.push(`!! ADMIN PLANE UNREACHABLE: ${view.problem}`);
    lines.push(`!! retrying every second; ${view.lastReadAt ? `the figures below are from ${time(view.lastReadAt)}` : "nothing read yet"}`);
    lines.push("");
  }
  const columns = ["stock", "reserved", "confirmed", "pending", "paid", "expired"] as const;
  lines.push(`${"SALE".padEnd(28)}${columns.map((column) => column.padStart(10)).join("")}`);
  if (view.sales.length === 0) lines.push("  no live sale (name one with --sale <id>)");
  for (const sale of view.sales) {
    const stats = sale.stats;
    const cells = stats ? columns.map((column) => number(stats[column]).padStart(10)).join("") : `  ${sale.problem ?? "no stats"}`;
    lines.push(`${sale.saleId.slice(0, 27).padEnd(28)}${cells}`);
  }
  lines.push("");
  lines.push(`ORDERS      ${perSecond(view.ordersPerSecond).padEnd(12)}${limitGauge(view)}`);
  lines.push(`OUTCOMES    ${outcomeMix(view.outcomesPerSecond)}`);
  lines.push(
    `PIPELINE    writer lag ${view.writerLagSeconds === undefined ? "-" : `${number(view.writerLagSeconds, 1)} s`}  ` +
      `backlog ${number(view.writerBacklog)}  dead letters ${number(view.deadLetters)}`,
  );
  lines.push(
    `ERRORS      5xx ${perSecond(view.http5xxPerSecond)}  503 ${perSecond(view.http503PerSecond)}  ` +
      "(the fleet's; the ALB's own 503s: SLS alert \"throttled\")",
  );
  lines.push(
    `FLEET       ${view.instances} instance${view.instances === 1 ? "" : "s"} measured in the last ${INSTANCE_RATES_KEPT_MS / 1000} s`,
  );
  return lines.join("\n");
}

/** The reservation outcomes of the last second, most common first by the buyer's path, each with its share. */
function outcomeMix(outcomesPerSecond: Readonly<Record<string, number>>): string {
  const seen = Object.entries(outcomesPerSecond).filter(([, rate]) => rate > 0);
  const total = seen.reduce((sum, [, rate]) => sum + rate, 0);
  if (total === 0) return "none";
  return seen
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([outcome, rate]) => `${outcome} ${perSecond(rate)} (${number((rate / total) * 100)}%)`)
    .join("  ");
}

function rank(outcome: string): number {
  const index = OUTCOME_ORDER.indexOf(outcome);
  return index < 0 ? OUTCOME_ORDER.length : index;
}

/** How close orders run to the ALB's limit: a bar and a percentage. */
function limitGauge(view: WarRoomView): string {
  if (view.orderLimitQps === undefined) return "ALB limit unknown (pass --order-limit-qps, or --stack)";
  if (view.ordersPerSecond === undefined) return `of the ALB limit ${number(view.orderLimitQps)}/s`;
  const share = view.ordersPerSecond / view.orderLimitQps;
  const filled = Math.min(BAR_WIDTH, Math.round(share * BAR_WIDTH));
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${number(share * 100)}% of the ALB limit ${number(view.orderLimitQps)}/s`;
}
