import { setTimeout as sleep } from "node:timers/promises";
import { describeAnswer, HttpAnswer, HttpClient, TransportError } from "./http-client";

/** What one click on "buy" came back with, in the terms of the order endpoint's contract (issue 4). */
export type OrderOutcome =
  | "reserved" // 202: a unit is this buyer's
  | "already_purchased" // 409: the buyer already holds a unit
  | "sold_out" // 410 sold_out
  | "rate_limited" // 429: the service's per-user limiter; try again in a moment
  | "lb_rejected" // a 503 that is not the service's JSON: the load balancer's rate limit; try again
  | "unavailable" // 503 {"error":"unavailable"}: the service cannot reach Redis
  | "server_error" // any other 5xx
  | "unexpected" // any other answer: 401, 403 not_started, 404, 410 ended, …
  | "no_answer"; // connection refused, reset, timed out

export const ORDER_OUTCOMES: readonly OrderOutcome[] = [
  "reserved",
  "already_purchased",
  "sold_out",
  "rate_limited",
  "lb_rejected",
  "unavailable",
  "server_error",
  "unexpected",
  "no_answer",
];

const RETRY_LATER: ReadonlySet<OrderOutcome> = new Set(["rate_limited", "lb_rejected"]);

export interface CrowdOptions {
  readonly client: HttpClient;
  readonly saleId: string;
  /** One id per distinct buyer. */
  readonly buyerIds: readonly string[];
  /** Signs a buyer's bearer token. */
  readonly mintToken: (userId: string) => string;
  /** Requests each buyer fires at the same moment (2 = a double-click). @default 1 */
  readonly clicksPerBuyer?: (buyerIndex: number) => number;
  /** Requests in flight at most. */
  readonly concurrency: number;
  /** Requests per second over the whole crowd. @default - as fast as the concurrency allows */
  readonly ratePerSecond?: number;
  /** How often a click answered "try again later" (429, the load balancer's 503) is retried. */
  readonly retries: number;
  /** Called after every click got its final answer. */
  readonly onProgress?: (progress: CrowdProgress) => void;
}

export interface CrowdProgress {
  readonly clicksDone: number;
  readonly clicks: number;
  readonly outcomes: Readonly<Record<OrderOutcome, number>>;
}

export interface Reservation {
  readonly buyerId: string;
  readonly orderId: string;
  /** When the 202 arrived (performance.now()). */
  readonly at: number;
}

export interface CrowdResult {
  readonly clicks: number;
  /** HTTP requests sent, retries included. */
  readonly requests: number;
  /** Every answer counted by outcome, retried ones included. */
  readonly outcomes: Readonly<Record<OrderOutcome, number>>;
  /** Every 202, in the order they arrived. */
  readonly reservations: readonly Reservation[];
  /** The first answer seen for each outcome, for reports: `503 {"error":"unavailable",…}`. */
  readonly firstAnswer: Readonly<Partial<Record<OrderOutcome, string>>>;
  /** Clicks still told "try again later" when their retries ran out. */
  readonly clicksGivenUp: number;
  /** Duration of every request that got an HTTP answer. */
  readonly latenciesMs: readonly number[];
  /** When the first click went out (performance.now()). */
  readonly startedAt: number;
  readonly elapsedMs: number;
}

/**
 * Sends a flash crowd at one sale's order endpoint: every buyer clicks "buy" (some twice at once),
 * with bounded concurrency, and everything that came back is recorded for the caller to judge.
 */
export async function runCrowd(options: CrowdOptions): Promise<CrowdResult> {
  const clicksPerBuyer = options.clicksPerBuyer ?? (() => 1);
  const clickBuyers: number[] = [];
  options.buyerIds.forEach((_, index) => {
    for (let click = 0; click < clicksPerBuyer(index); click++) clickBuyers.push(index);
  });
  const tokens = options.buyerIds.map((id) => options.mintToken(id));
  const path = `/api/sales/${encodeURIComponent(options.saleId)}/orders`;

  const outcomes = Object.fromEntries(ORDER_OUTCOMES.map((o) => [o, 0])) as Record<OrderOutcome, number>;
  const reservations: Reservation[] = [];
  const firstAnswer: Partial<Record<OrderOutcome, string>> = {};
  const latenciesMs: number[] = [];
  let requests = 0;
  let clicksDone = 0;
  let clicksGivenUp = 0;
  let nextClick = 0;
  const pacing = options.ratePerSecond === undefined ? undefined : new Pacer(options.ratePerSecond);
  const startedAt = performance.now();

  async function click(buyerIndex: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await pacing?.nextSlot();
      requests++;
      const { outcome, answer, detail } = await sendOrder(options.client, path, tokens[buyerIndex]);
      outcomes[outcome]++;
      firstAnswer[outcome] ??= detail;
      if (answer) latenciesMs.push(answer.durationMs);
      if (outcome === "reserved") {
        const orderId = String((answer?.json as { orderId: string }).orderId);
        reservations.push({ buyerId: options.buyerIds[buyerIndex], orderId, at: performance.now() });
      }
      if (!RETRY_LATER.has(outcome)) return;
      if (attempt >= options.retries) {
        clicksGivenUp++;
        return;
      }
      await sleep(Math.min(100 * 2 ** attempt, 2_000) * (0.5 + Math.random()));
    }
  }

  async function worker(): Promise<void> {
    while (nextClick < clickBuyers.length) {
      await click(clickBuyers[nextClick++]);
      clicksDone++;
      options.onProgress?.({ clicksDone, clicks: clickBuyers.length, outcomes });
    }
  }

  await Promise.all(Array.from({ length: Math.min(options.concurrency, clickBuyers.length) }, worker));
  return {
    clicks: clickBuyers.length,
    requests,
    outcomes,
    reservations,
    firstAnswer,
    clicksGivenUp,
    latenciesMs,
    startedAt,
    elapsedMs: performance.now() - startedAt,
  };
}

async function sendOrder(
  client: HttpClient,
  path: string,
  bearer: string,
): Promise<{ outcome: OrderOutcome; answer?: HttpAnswer; detail: string }> {
  try {
    const answer = await client.request("POST", path, { bearer, body: {} });
    return { outcome: classifyOrderAnswer(answer), answer, detail: describeAnswer(answer) };
  } catch (error) {
    if (error instanceof TransportError) return { outcome: "no_answer", detail: error.message };
    throw error;
  }
}

export function classifyOrderAnswer(answer: HttpAnswer): OrderOutcome {
  const code = (answer.json as { error?: unknown } | undefined)?.error;
  const orderId = (answer.json as { orderId?: unknown } | undefined)?.orderId;
  if (answer.status === 202 && typeof orderId === "string" && orderId !== "") return "reserved";
  if (answer.status === 409 && code === "already_purchased") return "already_purchased";
  if (answer.status === 410 && code === "sold_out") return "sold_out";
  if (answer.status === 429) return "rate_limited";
  if (answer.status === 503) return code === "unavailable" ? "unavailable" : "lb_rejected";
  if (answer.status >= 500) return "server_error";
  return "unexpected";
}

/** Buyers who were answered 202 more than once: each holds more than one unit. */
export function buyersWithSeveralUnits(reservations: readonly Reservation[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { buyerId } of reservations) (seen.has(buyerId) ? repeated : seen).add(buyerId);
  return [...repeated];
}

/** Order ids handed to more than one reservation. */
export function repeatedOrderIds(reservations: readonly Reservation[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { orderId } of reservations) (seen.has(orderId) ? repeated : seen).add(orderId);
  return [...repeated];
}

/** Hands out send times `1000 / rate` ms apart, so that a crowd holds a given request rate. */
class Pacer {
  private nextAt = performance.now();
  private readonly intervalMs: number;

  constructor(ratePerSecond: number) {
    this.intervalMs = 1000 / ratePerSecond;
  }

  async nextSlot(): Promise<void> {
    const now = performance.now();
    const slot = Math.max(now, this.nextAt);
    this.nextAt = slot + this.intervalMs;
    if (slot > now) await sleep(slot - now);
  }
}
