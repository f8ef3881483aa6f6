/**
 * `npm run demo`: a flash sale on this machine, end to end. Starts the service against the local
 * Redis and MariaDB (throwaway ones when none answers), sends a crowd of buyers at one sale and
 * reports what happened: units sold, orders confirmed, oversold, duplicates, req/s, latencies. Then half the buyers
 * pay, the others let their payment window close, and the returned units are sold again: paid, expired, resold and
 * the final balance.
 * Everything it creates (database, Redis keys, processes) is removed when it ends.
 */
import { availableParallelism } from "node:os";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SingleBar } from "cli-progress";
import type { Pool } from "mysql2/promise";
import { mintUserToken } from "../app/http/auth";
import { countOrders } from "../app/sales/sale-store";
import { createMysqlPool } from "../app/platform/mysql";
import { findOrder } from "../app/orders/order-store";
import { parseFlags, runMain, wholeNumberFlag } from "./lib/cli";
import { buyersWithSeveralUnits, CrowdResult, repeatedOrderIds, Reservation, runCrowd } from "./lib/crowd";
import { describeAnswer, HttpClient } from "./lib/http-client";
import { payAsBuyer, waitForOrderStatus } from "./lib/payments";
import { startApp } from "./lib/local-app";
import { Cleanups } from "./lib/cleanups";
import { createScratch, localMysql, localRedis } from "./lib/local-services";
import { formatDuration, formatLatencies, summarizeLatencies } from "./lib/numbers";
import { watchSale } from "./watch";

export interface DemoOptions {
  readonly buyers: number;
  readonly stock: number;
  readonly concurrency: number;
  /** App worker processes. @default - the app's default (one per CPU) */
  readonly workers?: number;
  /** Start throwaway Redis and MariaDB even when local ones answer. */
  readonly throwaway: boolean;
  readonly confirmTimeoutMs: number;
  /** The sale's payment window; it must outlast the crowd, or orders expire while it runs. */
  readonly paymentWindowSeconds: number;
  /** After the report, leave the service running (sale page and API) until Ctrl-C. */
  readonly keepRunning: boolean;
  /** Draws the war room (npm run watch) of the sale while the crowd buys, instead of the progress bar. */
  readonly watch?: (screen: string) => void;
  readonly progress: (line: string) => void;
  /** Shows the result; called before anything is cleaned up. */
  readonly report: (result: DemoResult) => void;
  readonly bars: boolean;
}

export interface DemoResult {
  readonly stock: number;
  readonly buyers: number;
  /** Buyers answered 202. */
  readonly unitsSold: number;
  /** Units the service counts as handed out in Redis (its stats endpoint). */
  readonly reservedInRedis: number;
  /** Order rows in MySQL for the sale. */
  readonly ordersConfirmed: number;
  readonly oversold: number;
  /** Buyers holding more than one unit, plus order ids handed out twice. */
  readonly duplicates: number;
  /** 202s without their order row (right buyer, right sale) in MySQL when the wait ended. */
  readonly unconfirmed: number;
  /** From the first click to the last 202. */
  readonly soldOutAfterMs: number;
  /** From the last 202 (as the crowd saw it) to the moment MySQL held every order, ≤ 0 if it held them first; undefined if it never did. */
  readonly lastConfirmationMs?: number;
  readonly crowd: CrowdResult;
  /** Answers outside the contract (5xx, no answer, …), described; must be empty. */
  readonly errors: readonly string[];
  readonly services: string;
  readonly lifecycle: LifecycleResult;
}

export interface LifecycleResult {
  /** Orders paid in the end (the first buyers who paid, then the resale's). */
  readonly paid: number;
  /** Orders whose window closed unpaid: their units went back on sale. */
  readonly expired: number;
  /** Returned units bought by new buyers. */
  readonly resold: number;
  /** Units held by confirmed orders not paid (yet). */
  readonly holding: number;
  /** Units still on sale in Redis. */
  readonly onSale: number;
  /** paid + holding + on sale = stock, and Redis's units handed out = MySQL's orders holding one. */
  readonly balanced: boolean;
}

const PAYMENTS_IN_FLIGHT = 20;
/** The sweep runs each second; this covers it and a busy machine. */
const EXPIRY_GRACE_MS = 15_000;
/** More resale buyers than returned units: the surplus must be told sold out. */
const RESALE_EXTRA_BUYERS = 10;
/** Every worker offers a returned unit within this long (the service's promise; it rechecks every 500 ms). */
const SOLD_OUT_FLAGS_CLEAR_MS = 2000;

const USAGE = `Usage: npm run demo -- [options]

A flash sale on this machine: starts the service against the local Redis and MariaDB (or throwaway
ones from the installed redis-server/mariadbd), sends a crowd of buyers at one sale and reports
units sold, orders confirmed, oversold, duplicates, req/s, latencies. Cleans up after itself.

  --buyers <n>           distinct buyers; every 10th clicks twice at once (default 20000)
  --stock <n>            units on sale (default 1000)
  --concurrency <n>      requests in flight at most (default 100)
  --workers <n>          app worker processes (default: one per CPU)
  --throwaway            start throwaway Redis and MariaDB even when local ones answer
  --confirm-timeout <s>  how long orders may take to reach MySQL (default 60)
  --payment-window <s>   the sale's payment window, 5 or more; must outlast the crowd (default 30)
  --keep-running         after the report, keep the service up (API, sale page) until Ctrl-C
  --watch                show the war room (npm run watch) of the sale while the crowd buys

REDIS_URL / MYSQL_URL, when set, name the servers to use (the demo adds its own key prefix and database).`;

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const cleanups = new Cleanups();
  let lingering: (() => void) | undefined;
  const stopInterrupts = cleanups.onInterrupt(options.progress, () => {
    lingering?.();
    return lingering !== undefined;
  });
  try {
    const redis = await localRedis(process.env.REDIS_URL, options.throwaway);
    cleanups.add(redis.stop);
    const mysqlServer = await localMysql(process.env.MYSQL_URL, options.throwaway);
    cleanups.add(mysqlServer.stop);
    const services = `Redis ${redis.description}, MariaDB ${mysqlServer.description}`;
    options.progress(`Using ${services}`);

    const scratch = await createScratch(redis.url, mysqlServer.url, "demo");
    cleanups.add(scratch.dispose);
    options.progress(`Own database ${scratch.database}, Redis key prefix ${scratch.keyPrefix}`);

    const adminToken = randomBytes(24).toString("base64url");
    const userTokenSecret = randomBytes(24).toString("base64url");
    const app = await startApp({
      REDIS_URL: scratch.redisUrl,
      MYSQL_URL: scratch.mysqlUrl,
      SECKILL_ADMIN_TOKEN: adminToken,
      SECKILL_USER_TOKEN_SECRET: userTokenSecret,
      ...(options.workers === undefined ? {} : { WORKERS: String(options.workers) }),
    });
    cleanups.add(app.stop);
    const workers = options.workers ?? availableParallelism();
    options.progress(`Service on ${app.baseUrl} (${workers} worker processes)`);

    const client = new HttpClient(app.baseUrl, { maxSockets: options.concurrency });
    cleanups.add(async () => client.close());
    const pool = createMysqlPool(mysqlConnection(scratch.mysqlUrl), 2);
    cleanups.add(() => pool.end());
    await waitForReady(client);

    const saleId = await createSale(client, adminToken, options.stock, options.paymentWindowSeconds);
    options.progress(`Sale ${saleId}: ${options.stock} units, ${options.buyers} buyers on their way`);
    const salePage = await salePageOf(client, saleId);
    if (salePage) options.progress(`Sale page: ${salePage}`);

    const confirmations = new ConfirmationWatch(pool, saleId);
    cleanups.add(() => confirmations.stop());
    let stopWatching: () => Promise<void> = async () => undefined;
    if (options.watch) {
      const abort = new AbortController();
      const watching = watchSale({
        baseUrl: app.baseUrl,
        adminToken,
        sales: [saleId],
        orderLimitQps: undefined,
        intervalMs: 1000,
        draw: options.watch,
        signal: abort.signal,
        drawOnStop: true,
      });
      stopWatching = cleanups.add(async () => {
        abort.abort();
        await watching;
      });
    }
    const crowd = await withCrowdBar(options, (onProgress) =>
      runCrowd({
        client,
        saleId,
        buyerIds: Array.from({ length: options.buyers }, (_, i) => `buyer${i}`),
        mintToken: (userId) => mintUserToken(userId, userTokenSecret),
        clicksPerBuyer: (i) => (i % 10 === 0 ? 2 : 1),
        concurrency: options.concurrency,
        retries: 20,
        onProgress,
      }),
    );
    options.progress(`Crowd done in ${formatDuration(crowd.elapsedMs)}; waiting for the order writer`);
    const allConfirmedAt = await confirmations.waitFor(crowd.reservations.length, options.confirmTimeoutMs);
    // The war room's last screen shows the confirmed sale; the report follows it, not under it.
    await stopWatching();

    const stats = await client.request("GET", `/admin/sales/${saleId}/stats`, { bearer: adminToken });
    const reservedInRedis = Number((stats.json as { reserved?: unknown } | undefined)?.reserved ?? NaN);
    const ordersConfirmed = await countOrders(pool, saleId);
    const unconfirmed = await countUnconfirmed(pool, saleId, crowd.reservations);
    const unitsSold = crowd.reservations.length;
    const mint = (userId: string) => mintUserToken(userId, userTokenSecret);
    const expiredEarly = Number((stats.json as { expired?: unknown } | undefined)?.expired ?? 0);
    const lifecycle =
      expiredEarly === 0
        ? await payOrLetExpire(client, adminToken, saleId, crowd.reservations, mint, options)
        : windowTooShort(expiredEarly, crowd, options);
    const lastReservedAt = crowd.reservations.reduce((latest, r) => Math.max(latest, r.at), crowd.startedAt);
    const result: DemoResult = {
      stock: options.stock,
      buyers: options.buyers,
      unitsSold,
      reservedInRedis,
      ordersConfirmed,
      oversold: Math.max(0, Math.max(unitsSold, reservedInRedis, ordersConfirmed) - options.stock),
      duplicates: buyersWithSeveralUnits(crowd.reservations).length + repeatedOrderIds(crowd.reservations).length,
      unconfirmed,
      soldOutAfterMs: lastReservedAt - crowd.startedAt,
      lastConfirmationMs: allConfirmedAt === undefined || unitsSold === 0 ? undefined : allConfirmedAt - lastReservedAt,
      crowd,
      errors: [...crowdErrors(crowd, stats.status === 200 ? undefined : `stats answered ${describeAnswer(stats)}`), ...lifecycle.errors],
      services,
      lifecycle: lifecycle.result,
    };
    options.report(result);
    if (options.keepRunning) {
      options.progress(
        `\nThe service keeps running at ${app.baseUrl}${salePage ? `, sale page ${salePage}` : ""}. Ctrl-C stops it and cleans up.`,
      );
      await new Promise<void>((resolve) => (lingering = resolve));
    }
    return result;
  } finally {
    stopInterrupts();
    await cleanups.runAll(options.progress);
  }
}

/** Watches the order rows of one sale in MySQL from the moment the crowd starts. */
class ConfirmationWatch {
  private count = 0;
  /** When `count` first reached its current value (performance.now()). */
  private countSince = performance.now();
  private stopped = false;
  private failure?: Error;
  private readonly polling: Promise<void>;

  constructor(
    private readonly pool: Pool,
    private readonly saleId: string,
  ) {
    this.polling = this.poll();
  }

  /** Waits until `expected` orders are in MySQL; returns when that first happened, or undefined on timeout. */
  async waitFor(expected: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (this.count < expected && performance.now() < deadline && !this.failure) await sleep(20);
    await this.stop();
    if (this.failure) throw this.failure;
    return this.count >= expected ? this.countSince : undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.polling;
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      let count: number;
      try {
        count = await countOrders(this.pool, this.saleId);
      } catch (error) {
        if (!this.stopped) this.failure = error as Error;
        return;
      }
      if (count !== this.count) {
        this.count = count;
        this.countSince = performance.now();
      }
      await sleep(25);
    }
  }
}

/** The sale page for this sale when the service serves one at `/`. */
async function salePageOf(client: HttpClient, saleId: string): Promise<string | undefined> {
  const page = await client.request("GET", "/");
  const html = page.status === 200 && String(page.headers["content-type"]).startsWith("text/html");
  return html ? new URL(`/?sale=${saleId}`, client.baseUrl).toString() : undefined;
}

async function waitForReady(client: HttpClient): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await client.request("GET", "/readyz");
    if (answer.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the service is not ready after 30 s: /readyz answered ${describeAnswer(answer)}`);
    await sleep(200);
  }
}

async function createSale(client: HttpClient, adminToken: string, stock: number, paymentWindowSeconds: number): Promise<string> {
  const now = Date.now();
  const answer = await client.request("POST", "/admin/sales", {
    bearer: adminToken,
    body: {
      itemName: `demo-${new Date(now).toISOString()}`,
      stock,
      startsAt: new Date(now - 1_000).toISOString(),
      endsAt: new Date(now + 30 * 60_000).toISOString(),
      priceCents: 999,
      paymentWindowSeconds,
    },
  });
  const id = (answer.json as { id?: unknown } | undefined)?.id;
  if (answer.status !== 201 || typeof id !== "string") throw new Error(`POST /admin/sales answered ${describeAnswer(answer)}`);
  return id;
}

/**
 * After the crowd: every other buyer pays, the rest let their window close; once their orders expired, a second, smaller
 * crowd buys the returned units and pays for them. Ends with the sale's numbers from the stats endpoint.
 */
async function payOrLetExpire(
  client: HttpClient,
  adminToken: string,
  saleId: string,
  reservations: readonly Reservation[],
  mint: (userId: string) => string,
  options: DemoOptions,
): Promise<{ result: LifecycleResult; errors: string[] }> {
  const errors: string[] = [];
  const payAll = async (orders: readonly Reservation[]) => {
    const refused: string[] = [];
    for (let i = 0; i < orders.length; i += PAYMENTS_IN_FLIGHT) {
      const answers = await Promise.all(
        orders.slice(i, i + PAYMENTS_IN_FLIGHT).map((r) => payAsBuyer(client, r.orderId, mint(r.buyerId), options.confirmTimeoutMs)),
      );
      for (const answer of answers) if (answer.status !== 200) refused.push(describeAnswer(answer));
    }
    if (refused.length > 0) errors.push(`${thousands(refused.length)} payments were refused, e.g. ${refused[0]}`);
  };
  options.progress(`Half the buyers pay; the others let their ${options.paymentWindowSeconds} s window close`);
  const payers = reservations.filter((_, i) => i % 2 === 0);
  const leavers = reservations.filter((_, i) => i % 2 === 1);
  await payAll(payers);
  const windowMs = options.paymentWindowSeconds * 1000;
  for (const { orderId, buyerId } of leavers) {
    if (!(await waitForOrderStatus(client, orderId, mint(buyerId), "expired", windowMs + EXPIRY_GRACE_MS))) {
      errors.push(`order ${orderId} was still not expired after waiting ${formatDuration(windowMs + EXPIRY_GRACE_MS)}`);
      break;
    }
  }
  await sleep(SOLD_OUT_FLAGS_CLEAR_MS);
  options.progress(`${leavers.length} orders expired; new buyers take the returned units`);
  const resale = await runCrowd({
    client,
    saleId,
    buyerIds: Array.from({ length: leavers.length + RESALE_EXTRA_BUYERS }, (_, i) => `resale${i}`),
    mintToken: mint,
    concurrency: Math.min(options.concurrency, PAYMENTS_IN_FLIGHT),
    retries: 20,
  });
  errors.push(...crowdErrors(resale, undefined).map((error) => `resale: ${error}`));
  await payAll(resale.reservations);
  const stats = await client.request("GET", `/admin/sales/${saleId}/stats`, { bearer: adminToken });
  const numbers = (stats.json ?? {}) as Record<string, number>;
  if (stats.status !== 200) errors.push(`stats answered ${describeAnswer(stats)}`);
  const holding = numbers.confirmed - numbers.paid;
  const onSale = numbers.stock - numbers.reserved;
  const balanced = numbers.paid + holding + onSale === numbers.stock && numbers.reserved === numbers.confirmed;
  if (!balanced) errors.push(`the final balance does not add up: ${JSON.stringify(numbers)}`);
  return {
    result: { paid: numbers.paid, expired: numbers.expired, resold: resale.reservations.length, holding, onSale, balanced },
    errors,
  };
}

/**
 * Orders expired while the crowd still ran, so their units sold twice over the crowd's run and its counts mean
 * nothing: say so, and what to pass instead.
 */
function windowTooShort(expired: number, crowd: CrowdResult, options: DemoOptions): { result: LifecycleResult; errors: string[] } {
  const suggestion = Math.ceil((crowd.elapsedMs / 1000) * 2) + EXPIRY_GRACE_MS / 1000;
  return {
    result: { paid: 0, expired, resold: 0, holding: 0, onSale: 0, balanced: false },
    errors: [
      `${thousands(expired)} orders expired before the crowd was over (it took ${formatDuration(crowd.elapsedMs)}): ` +
        `the ${options.paymentWindowSeconds} s payment window must outlast it; try --payment-window ${suggestion}`,
    ],
  };
}

/** 202s whose order is not in MySQL for that buyer and sale. */
async function countUnconfirmed(pool: Pool, saleId: string, reservations: readonly Reservation[]): Promise<number> {
  let unconfirmed = 0;
  for (const { orderId, buyerId } of reservations) {
    const { order } = await findOrder(pool, orderId);
    if (order?.saleId !== saleId || order.userId !== buyerId) unconfirmed++;
  }
  return unconfirmed;
}

function crowdErrors(crowd: CrowdResult, statsProblem: string | undefined): string[] {
  const errors = (["unavailable", "server_error", "unexpected", "no_answer"] as const)
    .filter((outcome) => crowd.outcomes[outcome] > 0)
    .map((outcome) => `${crowd.outcomes[outcome]} × ${outcome.replace("_", " ")}, e.g. ${crowd.firstAnswer[outcome]}`);
  if (crowd.clicksGivenUp > 0) errors.push(`${crowd.clicksGivenUp} clicks still rate limited or without a known outcome after 20 retries`);
  if (statsProblem) errors.push(statsProblem);
  return errors;
}

function mysqlConnection(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.slice(1),
  };
}

async function withCrowdBar(
  options: DemoOptions,
  crowd: (onProgress: (p: { clicksDone: number; clicks: number; outcomes: { reserved: number } }) => void) => Promise<CrowdResult>,
): Promise<CrowdResult> {
  const clicks = options.buyers + Math.ceil(options.buyers / 10);
  const bar = new SingleBar({
    format: "  {bar} {percentage}% | {value}/{total} clicks | {rate} req/s | sold {sold}/{stock}",
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: !options.bars,
    notTTYSchedule: 1000,
  });
  const startedAt = performance.now();
  bar.start(clicks, 0, { rate: 0, sold: 0, stock: options.stock });
  try {
    return await crowd((p) =>
      bar.update(p.clicksDone, {
        rate: Math.round(p.clicksDone / ((performance.now() - startedAt) / 1000)),
        sold: p.outcomes.reserved,
      }),
    );
  } finally {
    bar.stop();
  }
}

const thousands = (n: number) => n.toLocaleString("en-US");

export function formatDemoReport(result: DemoResult): string {
  const { crowd } = result;
  const o = crowd.outcomes;
  const rate = Math.round(crowd.requests / (crowd.elapsedMs / 1000));
  const verdict = (value: number) => (value === 0 ? "0" : `${thousands(value)}  ✗ must be 0`);
  const rows: [string, string][] = [
    [
      "units sold",
      `${thousands(result.unitsSold)} of ${thousands(result.stock)} (Redis counts ${thousands(result.reservedInRedis)}), ` +
        `the last ${formatDuration(result.soldOutAfterMs)} into the sale`,
    ],
    ["orders confirmed", `${thousands(result.ordersConfirmed)} rows in MySQL`],
    ["oversold", verdict(result.oversold)],
    ["duplicates", verdict(result.duplicates)],
    ["unconfirmed", verdict(result.unconfirmed)],
    [
      "requests",
      `${thousands(crowd.requests)} from ${thousands(result.buyers)} buyers in ${formatDuration(crowd.elapsedMs)}: ${thousands(rate)} req/s`,
    ],
    [
      "answers",
      `${thousands(o.reserved)} × 202 reserved, ${thousands(o.sold_out)} × 410 sold out, ${thousands(o.already_purchased)} × 409 already purchased` +
        (o.rate_limited > 0 ? `, ${thousands(o.rate_limited)} × 429 retried` : "") +
        (o.outcome_unknown > 0 ? `, ${thousands(o.outcome_unknown)} × 503 outcome unknown retried` : ""),
    ],
    ["latency", formatLatencies(summarizeLatencies(crowd.latenciesMs))],
    ["last order confirmed", describeLastConfirmation(result.lastConfirmationMs)],
    ["paid", `${thousands(result.lifecycle.paid)} orders`],
    ["expired", `${thousands(result.lifecycle.expired)} orders unpaid at pay-by: their units went back on sale`],
    ["resold", `${thousands(result.lifecycle.resold)} returned units bought by new buyers (who paid)`],
    [
      "final balance",
      `${thousands(result.lifecycle.paid)} paid + ${thousands(result.lifecycle.holding)} holding + ` +
        `${thousands(result.lifecycle.onSale)} on sale = ${thousands(result.stock)} stock` +
        (result.lifecycle.balanced ? "" : "  ✗ must add up"),
    ],
  ];
  const lines = [`Flash sale demo (${result.services})`, ...rows.map(([label, value]) => `  ${label.padEnd(21)} ${value}`)];
  for (const error of result.errors) lines.push(`  error: ${error}`);
  lines.push(
    demoFailed(result)
      ? "FAILED: the sale broke a promise (see ✗ and errors above)"
      : "OK: nothing oversold, nobody served twice, every order confirmed, every unit paid for, held or on sale",
  );
  return lines.join("\n");
}

function describeLastConfirmation(ms: number | undefined): string {
  if (ms === undefined) return "never (see unconfirmed)";
  // Both instants are taken in this process, whose event loop is busy with the crowd: the order
  // writer can commit before the last 202 is even read off its socket.
  if (ms <= 0) return "already in MySQL when the last 202 reached the crowd";
  return `${formatDuration(ms)} after the last 202 reached the crowd`;
}

export function demoFailed(result: DemoResult): boolean {
  return result.oversold > 0 || result.duplicates > 0 || result.unconfirmed > 0 || result.errors.length > 0 || !result.lifecycle.balanced;
}

async function main(): Promise<number> {
  const values = parseFlags(USAGE, {
    buyers: { type: "string" },
    stock: { type: "string" },
    concurrency: { type: "string" },
    workers: { type: "string" },
    throwaway: { type: "boolean" },
    "keep-running": { type: "boolean" },
    "confirm-timeout": { type: "string" },
    watch: { type: "boolean" },
    "payment-window": { type: "string" },
  });
  if (values === undefined) return 0;
  const result = await runDemo({
    buyers: wholeNumberFlag("buyers", values.buyers, 20_000),
    stock: wholeNumberFlag("stock", values.stock, 1_000),
    concurrency: wholeNumberFlag("concurrency", values.concurrency, 100),
    workers: values.workers === undefined ? undefined : wholeNumberFlag("workers", values.workers, 1),
    throwaway: values.throwaway === true,
    keepRunning: values["keep-running"] === true,
    confirmTimeoutMs: wholeNumberFlag("confirm-timeout", values["confirm-timeout"], 60) * 1000,
    paymentWindowSeconds: wholeNumberFlag("payment-window", values["payment-window"], 30, 5),
    progress: (line) => process.stderr.write(`${line}\n`),
    bars: process.stderr.isTTY === true && values.watch !== true,
    watch: values.watch ? (screen) => process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${screen}\n` : `${screen}\n\n`) : undefined,
    report: (outcome) => process.stdout.write(`\n${formatDemoReport(outcome)}\n`),
  });
  return demoFailed(result) ? 1 : 0;
}

if (require.main === module) runMain(main);
