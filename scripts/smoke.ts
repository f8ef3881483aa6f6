/**
 * Post-deploy smoke test: `npm run smoke -- --url <base-url>` or `--stack seckill-<env>`.
 * Drives a real small flash sale through the load balancer and checks the service's promises
 * (issue 4's contract): exactly `stock` units sold, one per buyer, every order confirmed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { SingleBar } from "cli-progress";
import { mintUserToken } from "../app/http/auth";
import { ADMIN_PLANE_PATHS, albPathMatches } from "../contract/routes";
import { Checklist, CheckFailed } from "./lib/checklist";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./lib/cli";
import { buyersWithSeveralUnits, CrowdResult, OrderOutcome, repeatedOrderIds, Reservation, runCrowd } from "./lib/crowd";
import { describeAnswer, HttpAnswer, HttpClient, RequestOptions } from "./lib/http-client";
import { formatDuration, formatLatencies, summarizeLatencies } from "./lib/numbers";
import { orderStatus, payAsBuyer, waitForOrderStatus } from "./lib/payments";
import { DeployedStack } from "./lib/stack-outputs";

/** The expiry check's sale: the shortest window a sale takes. */
const EXPIRY_WINDOW_SECONDS = 5;

export interface SmokeOptions {
  readonly baseUrl: string;
  readonly adminToken: string;
  readonly userTokenSecret: string;
  /** Units in the smoke sale. */
  readonly stock: number;
  /** Distinct buyers; each clicks "buy" twice at once. More than `stock`. */
  readonly buyers: number;
  readonly concurrency: number;
  /** How long orders may take to be confirmed in MySQL. */
  readonly confirmTimeoutMs: number;
  /** Per-client-IP QPS of the order endpoint's ALB rule and where it came from; the rate-limit check runs when set. */
  readonly rateLimit?: { readonly perIpQps: number; readonly source: string };
  readonly rateLimitSeconds: number;
  /** Where progress goes (stderr from the CLI). */
  readonly progress: (line: string) => void;
  /** Draw progress bars (only on a terminal). */
  readonly bars: boolean;
}

const USAGE = `Usage: npm run smoke -- (--url <base-url> | --stack seckill-<env>) [options]

Runs a small flash sale against a deployed seckill service and checks it end to end.
Needs SECKILL_ADMIN_TOKEN (creates the sale) and SECKILL_USER_TOKEN_SECRET (signs buyer tokens);
with --stack, the stack's admin_token and user_token_secret outputs stand in for unset variables
(the values Terraform generated: after a rotation, set them from the OOS parameters, README "Secrets").
Run it from an operator machine inside the stack's admin_cidrs: the load balancer answers the
admin plane (/healthz, /readyz, /admin/*, /metrics) 404 for everyone else.

  --url <base-url>          the service or load balancer, e.g. http://seckill-dev-alb.example.com
  --stack seckill-<env>     read the public URL from the stack's Terraform outputs instead
  --stock <n>               units in the smoke sale (default 20)
  --buyers <n>              distinct buyers, each clicking twice at once (default 3 × stock)
  --concurrency <n>         requests in flight at most (default 20)
  --confirm-timeout <s>     how long orders may take to be confirmed (default 120)
  --rate-limit              also push past the order endpoint's ALB rate limit and expect 503s
  --rate-limit-qps <n>      that limit (per client IP); read from the stack with --stack
  --rate-limit-seconds <n>  how long to push (default 5)`;

export async function runSmoke(options: SmokeOptions): Promise<Checklist> {
  const checks = new Checklist(options.progress);
  const client = new HttpClient(options.baseUrl, { maxSockets: Math.max(options.concurrency, 1) });
  const admin = options.adminToken;
  const startedAt = new Date();
  const saleName = `smoke-${startedAt.toISOString().replace(/[-:]|\.\d+/g, "")}`;
  const buyerPrefix = `smoke${startedAt.getTime()}`;
  const mint = (userId: string) => mintUserToken(userId, options.userTokenSecret);
  let serverNow = Date.now();
  let saleId = "";
  let crowd: CrowdResult | undefined;

  try {
    await checks.run("healthz", "GET /healthz answers 200 {status: ok}", async () => {
      const answer = await send(client, "GET", "/healthz");
      failIfUnreachable("healthz", answer);
      if (answer.status !== 200 || (answer.json as { status?: unknown } | undefined)?.status !== "ok") {
        fail(`/healthz answered ${answered(answer)}, expected 200 {"status":"ok"}`);
      }
      serverNow = Date.parse(String(answer.headers.date)) || Date.now();
      return describeAnswer(answer);
    });

    await checks.run("readyz", "GET /readyz: the service reaches Redis and MySQL", async () => {
      const answer = await send(client, "GET", "/readyz");
      failIfUnreachable("readyz", answer);
      if (answer.status !== 200 || (answer.json as { status?: unknown } | undefined)?.status !== "ready") {
        fail(`/readyz answered ${answered(answer)}, expected 200 {"status":"ready"}`);
      }
      return describeAnswer(answer);
    });

    await checks.run("create-sale", `POST /admin/sales "${saleName}", ${options.stock} units, then GET it`, async () => {
      saleId = await createSmokeSale(client, admin, saleName, options.stock, serverNow);
      const sale = await expectJson(client, "GET", `/api/sales/${saleId}`, 200);
      const { status, remaining } = sale.json as { status?: unknown; remaining?: unknown };
      if (status !== "active" || remaining !== options.stock) {
        fail(`new sale ${saleId} shows ${answered(sale)}; expected status "active" and remaining ${options.stock}`);
      }
      return `sale ${saleId} is active with ${options.stock} units`;
    });

    await checks.run(
      "flash-crowd",
      `${options.buyers} buyers click "buy" twice each, ${options.concurrency} requests at a time`,
      async () => {
        crowd = await withBar(options, "buyers' clicks", options.buyers * 2, (tick) =>
          runCrowd({
            client,
            saleId,
            buyerIds: Array.from({ length: options.buyers }, (_, i) => `${buyerPrefix}-${i}`),
            mintToken: mint,
            clicksPerBuyer: () => 2,
            concurrency: options.concurrency,
            retries: 20,
            onProgress: (p) => tick(p.clicksDone),
          }),
        );
        assertEveryClickAnswered(crowd);
        return describeCrowd(crowd);
      },
    );

    await checks.run("exactly-stock-sold", `exactly ${options.stock} buyers were answered 202`, async () => {
      const buyers = new Set(crowd!.reservations.map((r) => r.buyerId)).size;
      if (buyers > options.stock) {
        fail(`${buyers} buyers got a unit (202) for a stock of ${options.stock}: oversold by ${buyers - options.stock}`);
      }
      if (buyers < options.stock) {
        fail(`only ${buyers} of ${options.stock} units went to ${options.buyers} buyers: units were lost or refused`);
      }
      return `${buyers} buyers got a unit, the rest heard sold_out`;
    });

    await checks.run("one-unit-per-buyer", "no buyer got two units, no order id was handed out twice", async () => {
      const greedy = buyersWithSeveralUnits(crowd!.reservations);
      if (greedy.length > 0) fail(`${greedy.length} buyers got two units (e.g. ${greedy[0]}): the one-per-buyer check is not atomic`);
      const repeated = repeatedOrderIds(crowd!.reservations);
      if (repeated.length > 0)
        fail(`order id ${repeated[0]} was handed to ${repeated.length > 1 ? "several reservations" : "two reservations"}`);
      return `${crowd!.reservations.length} orders for ${crowd!.reservations.length} distinct buyers; second clicks got 409 or 410`;
    });

    await checks.run("orders-confirmed", `every order reaches "confirmed" within ${formatDuration(options.confirmTimeoutMs)}`, async () => {
      const waited = await waitForConfirmation(client, crowd!.reservations, mint, options);
      return `${crowd!.reservations.length} orders confirmed, the last after ${formatDuration(waited)}`;
    });

    await checks.run("my-order", "GET /api/sales/:id/my-order shows a buyer their order, and answers 404 to one without", async () => {
      const holder = crowd!.reservations[0];
      const mine = await expectJson(client, "GET", `/api/sales/${saleId}/my-order`, 200, mint(holder.buyerId));
      const { orderId, status } = mine.json as { orderId?: unknown; status?: unknown };
      if (orderId !== holder.orderId || status !== "confirmed") {
        fail(`my-order for ${holder.buyerId} answered ${answered(mine)}; expected order ${holder.orderId}, confirmed`);
      }
      const holders = new Set(crowd!.reservations.map((r) => r.buyerId));
      const empty = Array.from({ length: options.buyers }, (_, i) => `${buyerPrefix}-${i}`).find((buyer) => !holders.has(buyer))!;
      const none = await send(client, "GET", `/api/sales/${saleId}/my-order`, { bearer: mint(empty) });
      if (none.status !== 404) fail(`my-order for ${empty}, who holds nothing, answered ${answered(none)}; expected 404`);
      return `${holder.buyerId}: ${holder.orderId} confirmed; ${empty}: 404`;
    });

    await checks.run("stats-agree", "GET /admin/sales/:id/stats and the sale agree with what the buyers saw", async () => {
      const stats = await expectJson(client, "GET", `/admin/sales/${saleId}/stats`, 200, admin);
      const expected = { stock: options.stock, reserved: options.stock, confirmed: options.stock, pending: 0 };
      const seen = stats.json as Record<string, unknown>;
      const wrong = Object.entries(expected).filter(([key, value]) => seen[key] !== value);
      if (wrong.length > 0) {
        fail(`stats answered ${answered(stats)}; expected ${JSON.stringify(expected)}`);
      }
      const sale = await expectJson(client, "GET", `/api/sales/${saleId}`, 200);
      const { status, remaining } = sale.json as { status?: unknown; remaining?: unknown };
      if (status !== "sold_out" || remaining !== 0) {
        fail(`the sold-out sale shows ${answered(sale)}; expected status "sold_out" and remaining 0`);
      }
      return `stock ${options.stock}, reserved ${options.stock}, confirmed ${options.stock}, pending 0; sale sold_out`;
    });

    await checks.run("pay", "a buyer pays their order, twice: one payment, the order shows paid", async () => {
      const { buyerId, orderId } = crowd!.reservations[0];
      for (const attempt of [1, 2]) {
        const paid = await payAsBuyer(client, orderId, mint(buyerId), options.confirmTimeoutMs);
        if (paid.status !== 200 || (paid.json as { status?: unknown }).status !== "paid") {
          fail(`payment ${attempt} of ${orderId} answered ${answered(paid)}; expected 200 {"status":"paid"}`);
        }
      }
      const status = await orderStatus(client, orderId, mint(buyerId));
      if (status !== "paid") fail(`after paying, GET /api/orders/${orderId} says ${status}; expected paid`);
      return `${orderId} paid (the second payment answered 200 too)`;
    });

    await checks.run("expiry", `an order unpaid for ${EXPIRY_WINDOW_SECONDS} s expires and its unit sells again`, async () => {
      const expirySaleId = await createSmokeSale(client, admin, `${saleName}-expiry`, 1, serverNow, EXPIRY_WINDOW_SECONDS);
      const [first, second] = [`${buyerPrefix}-x1`, `${buyerPrefix}-x2`];
      const taken = await send(client, "POST", `/api/sales/${expirySaleId}/orders`, { bearer: mint(first) });
      const orderId = (taken.json as { orderId?: unknown } | undefined)?.orderId;
      if (taken.status !== 202 || typeof orderId !== "string") fail(`the one unit answered ${answered(taken)}; expected 202`);
      const waitMs = EXPIRY_WINDOW_SECONDS * 1000 + options.confirmTimeoutMs;
      if (!(await waitForOrderStatus(client, orderId as string, mint(first), "expired", waitMs))) {
        fail(`order ${String(orderId)} was not expired ${formatDuration(waitMs)} after it was taken`);
      }
      // Every worker offers the returned unit within 2 s: ask until one answers 202.
      const deadline = Date.now() + 5000;
      for (;;) {
        const again = await send(client, "POST", `/api/sales/${expirySaleId}/orders`, { bearer: mint(second) });
        if (again.status === 202) break;
        if (Date.now() > deadline) fail(`the returned unit was not sold again: the last answer was ${answered(again)}`);
        await sleep(250);
      }
      return `sale ${expirySaleId}: ${String(orderId)} expired, its unit sold again`;
    });

    if (options.rateLimit === undefined) {
      checks.skip("rate-limit", "not asked for (--rate-limit)");
    } else {
      await checkRateLimit(checks, client, saleId, `${buyerPrefix}rl`, mint, options, options.rateLimit);
    }
  } finally {
    client.close();
  }
  return checks;
}

/**
 * Creates a sale from 5 s ago (by the service's clock, the Date header, so a skewed local clock cannot make it "not
 * started") to a quarter of an hour later; returns its id.
 */
async function createSmokeSale(
  client: HttpClient,
  admin: string,
  itemName: string,
  stock: number,
  serverNow: number,
  paymentWindowSeconds?: number,
): Promise<string> {
  const created = await send(client, "POST", "/admin/sales", {
    bearer: admin,
    body: {
      itemName,
      stock,
      startsAt: new Date(serverNow - 5_000).toISOString(),
      endsAt: new Date(serverNow + 15 * 60_000).toISOString(),
      priceCents: 1,
      ...(paymentWindowSeconds === undefined ? {} : { paymentWindowSeconds }),
    },
  });
  if (created.status === 401) fail("the service rejected SECKILL_ADMIN_TOKEN (401): it is not this deployment's admin token");
  if (created.status !== 201) fail(`POST /admin/sales answered ${answered(created)}, expected 201`);
  const saleId = String((created.json as { id?: unknown }).id ?? "");
  if (saleId === "") fail(`POST /admin/sales answered ${answered(created)} without an id`);
  return saleId;
}

async function checkRateLimit(
  checks: Checklist,
  client: HttpClient,
  saleId: string,
  buyerPrefix: string,
  mint: (userId: string) => string,
  options: SmokeOptions,
  limit: { perIpQps: number; source: string },
): Promise<void> {
  // All requests come from this one machine, so the per-client-IP limit is the one to exceed.
  // Twice that, on the sold-out sale: the service answers 410 without touching Redis, so the
  // push costs the backend little and reserves nothing.
  const limitQps = limit.perIpQps;
  const rate = limitQps * 2;
  const total = rate * options.rateLimitSeconds;
  await checks.run(
    "rate-limit",
    `${rate} req/s for ${options.rateLimitSeconds} s on the order endpoint (per-IP limit ${limitQps}/s from ${limit.source}): the ALB answers 503`,
    async () => {
      const push = await withBar(options, "requests", total, (tick) =>
        runCrowd({
          client,
          saleId,
          buyerIds: Array.from({ length: total }, (_, i) => `${buyerPrefix}-${i}`),
          mintToken: mint,
          concurrency: Math.min(rate, 256),
          ratePerSecond: rate,
          retries: 0,
          onProgress: (p) => tick(p.clicksDone),
        }),
      );
      const achieved = Math.round(push.requests / (push.elapsedMs / 1000));
      const errors = serverSideFailures(push);
      if (errors.length > 0) fail(`besides the load balancer's 503s: ${errors.join("; ")}`);
      if (push.outcomes.lb_rejected === 0) {
        fail(
          `no 503 from the load balancer at ${achieved} req/s` +
            (achieved < limitQps
              ? ` (this client could not exceed the ${limitQps}/s limit: raise it from a bigger machine)`
              : ": is the TrafficLimit rule on the order path?"),
        );
      }
      return `${push.requests} requests at ${achieved} req/s: ${push.outcomes.lb_rejected} × 503 from the load balancer, ${push.outcomes.sold_out} × 410 sold_out`;
    },
  );
}

/** Fails the crowd check when any click did not get an answer the contract allows. */
function assertEveryClickAnswered(crowd: CrowdResult): void {
  const problems = serverSideFailures(crowd);
  if (crowd.clicksGivenUp > 0) {
    problems.push(
      `${crowd.clicksGivenUp} clicks were still rate limited, or still without a known outcome, after 20 retries ` +
        `(${crowd.firstAnswer.rate_limited ?? crowd.firstAnswer.lb_rejected ?? crowd.firstAnswer.outcome_unknown}): lower --concurrency`,
    );
  }
  if (problems.length > 0) fail(problems.join("; "));
}

const FAILURE_WORDS: Partial<Record<OrderOutcome, string>> = {
  unavailable: "503 from the service itself (it cannot reach Redis)",
  server_error: "other 5xx",
  unexpected: "answers outside the contract",
  no_answer: "requests without an answer",
};

function serverSideFailures(crowd: CrowdResult): string[] {
  return (Object.keys(FAILURE_WORDS) as OrderOutcome[])
    .filter((outcome) => crowd.outcomes[outcome] > 0)
    .map((outcome) => `${crowd.outcomes[outcome]} × ${FAILURE_WORDS[outcome]}, e.g. ${crowd.firstAnswer[outcome]}`);
}

function describeCrowd(crowd: CrowdResult): string {
  const o = crowd.outcomes;
  const retried = o.rate_limited + o.lb_rejected;
  return (
    `${crowd.requests} requests in ${formatDuration(crowd.elapsedMs)}: ${o.reserved} × 202, ` +
    `${o.already_purchased} × 409, ${o.sold_out} × 410` +
    (retried > 0 ? `, ${retried} retried after 429/ALB 503` : "") +
    (o.outcome_unknown > 0 ? `, ${o.outcome_unknown} retried after 503 outcome_unknown` : "") +
    `; ${formatLatencies(summarizeLatencies(crowd.latenciesMs))}`
  );
}

/** Polls every reserved order as its buyer until all are confirmed; returns how long that took. */
async function waitForConfirmation(
  client: HttpClient,
  reservations: readonly Reservation[],
  mint: (userId: string) => string,
  options: SmokeOptions,
): Promise<number> {
  const startedAt = performance.now();
  const deadline = startedAt + options.confirmTimeoutMs;
  let pending = [...reservations];
  return withBar(options, "orders confirmed", reservations.length, async (tick) => {
    for (;;) {
      const stillPending: Reservation[] = [];
      for (const reservation of pending) {
        const answer = await expectJson(client, "GET", `/api/orders/${reservation.orderId}`, 200, mint(reservation.buyerId));
        const order = answer.json as { orderId?: unknown; userId?: unknown; saleId?: unknown; status?: unknown };
        if (order.orderId !== reservation.orderId || order.userId !== reservation.buyerId) {
          fail(`GET /api/orders/${reservation.orderId} as ${reservation.buyerId} answered ${answered(answer)}`);
        }
        if (order.status === "confirmed") continue;
        if (order.status !== "pending") fail(`order ${reservation.orderId} has status ${JSON.stringify(order.status)}`);
        stillPending.push(reservation);
      }
      pending = stillPending;
      tick(reservations.length - pending.length);
      if (pending.length === 0) return performance.now() - startedAt;
      if (performance.now() > deadline) {
        fail(
          `${pending.length} of ${reservations.length} orders still pending after ${formatDuration(options.confirmTimeoutMs)} ` +
            `(e.g. ${pending[0].orderId}): is the order writer running, can it reach MySQL?`,
        );
      }
      await sleep(500);
    }
  });
}

async function expectJson(client: HttpClient, method: string, path: string, status: number, bearer?: string): Promise<HttpAnswer> {
  const answer = await send(client, method, path, { bearer });
  if (answer.status !== status || typeof answer.json !== "object" || answer.json === null) {
    fail(`${method} ${path} answered ${answered(answer)}, expected ${status} with a JSON body`);
  }
  return answer;
}

/** One request, retried a few times while the load balancer (not the service) answers 503: its rate limit. */
async function send(client: HttpClient, method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await client.request(method, path, options);
    if (answer.status === 404 && ADMIN_PLANE_PATHS.some((pattern) => albPathMatches(pattern, path))) {
      fail(
        `${method} ${path} answered 404: the load balancer answers the admin plane (${ADMIN_PLANE_PATHS.join(", ")}) only from ` +
          "the stack's admin_cidrs, and this machine is outside them; run the smoke test from an operator machine inside admin_cidrs",
      );
    }
    if (!fromLoadBalancer(answer) || answer.status !== 503 || attempt === 10) return answer;
    await sleep(200 * attempt);
  }
}

/** A 5xx without the service's JSON body comes from the load balancer itself. */
function fromLoadBalancer(answer: HttpAnswer): boolean {
  return answer.status >= 500 && answer.json === undefined;
}

/** An answer for a failure message, with a hint when the load balancer gave it rather than the service. */
function answered(answer: HttpAnswer): string {
  const hint = answer.status === 503 ? "its rate limit, or no healthy instance behind it" : "no healthy instance behind it?";
  return fromLoadBalancer(answer) ? `${describeAnswer(answer)} (from the load balancer, not the service: ${hint})` : describeAnswer(answer);
}

/** /healthz and /readyz answer 503 naming what the service cannot reach. */
function failIfUnreachable(path: string, answer: HttpAnswer): void {
  const failing = (answer.json as { failing?: unknown } | undefined)?.failing;
  if (answer.status === 503 && Array.isArray(failing)) {
    fail(`the service cannot reach ${failing.join(" and ")} (/${path} answered ${answered(answer)})`);
  }
}

function fail(message: string): never {
  throw new CheckFailed(message);
}

/** Runs `work` with a progress bar on the terminal (nothing otherwise); `tick` sets the bar's value. */
async function withBar<T>(
  options: SmokeOptions,
  unit: string,
  total: number,
  work: (tick: (value: number) => void) => Promise<T>,
): Promise<T> {
  if (!options.bars) return work(() => undefined);
  const bar = new SingleBar({ format: `  {bar} {value}/{total} ${unit}`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
  bar.start(total, 0);
  try {
    return await work((value) => bar.update(value));
  } finally {
    bar.stop();
  }
}

/** What the command line and the environment ask for: a sale to run, or undefined after --help. */
export type SmokeRequest = Omit<SmokeOptions, "progress" | "bars">;

/**
 * Reads the flags, then the stack's outputs (with --stack, under `projectDir`) and the secrets from `env`; a missing
 * or contradictory setting is a UsageError that says what to pass.
 */
export function smokeRequestFrom(args: readonly string[], env: NodeJS.ProcessEnv, projectDir = process.cwd()): SmokeRequest | undefined {
  const values = parseFlags(
    USAGE,
    {
      url: { type: "string" },
      stack: { type: "string" },
      stock: { type: "string" },
      buyers: { type: "string" },
      concurrency: { type: "string" },
      "confirm-timeout": { type: "string" },
      "rate-limit": { type: "boolean" },
      "rate-limit-qps": { type: "string" },
      "rate-limit-seconds": { type: "string" },
    },
    args,
  );
  if (values === undefined) return undefined;
  if ((values.url === undefined) === (values.stack === undefined)) {
    throw new UsageError(`give exactly one of --url <base-url> or --stack seckill-<env>\n\n${USAGE}`);
  }
  const stock = wholeNumberFlag("stock", values.stock, 20);
  const buyers = wholeNumberFlag("buyers", values.buyers, stock * 3);
  if (buyers <= stock)
    throw new UsageError(`--buyers (${buyers}) must be more than --stock (${stock}): the crowd has to outnumber the units`);
  const stack = values.stack === undefined ? undefined : new DeployedStack(values.stack, projectDir);
  const baseUrl = values.url ?? stack!.publicUrl();
  const secret = (variable: string, purpose: string, outputName: string): string => {
    const value = env[variable] || stack?.output(outputName);
    if (value) return value;
    throw new UsageError(
      `${variable} is not set: ${purpose}. ` +
        (stack
          ? `Stack ${stack.name} has no "${outputName}" output either.`
          : `With --stack it is read from the stack's "${outputName}" output.`),
    );
  };
  const adminToken = secret("SECKILL_ADMIN_TOKEN", "the service's admin bearer token", "admin_token");
  const userTokenSecret = secret("SECKILL_USER_TOKEN_SECRET", "the key buyer tokens are signed with", "user_token_secret");
  let rateLimit: SmokeOptions["rateLimit"];
  if (values["rate-limit"]) {
    if (values["rate-limit-qps"] !== undefined) {
      rateLimit = { perIpQps: wholeNumberFlag("rate-limit-qps", values["rate-limit-qps"], 0), source: "--rate-limit-qps" };
    } else if (stack !== undefined) {
      rateLimit = stack.orderRateLimitPerIp();
    } else {
      throw new UsageError("--rate-limit with --url needs --rate-limit-qps <n>: the order endpoint's per-client-IP limit");
    }
  }
  return {
    baseUrl,
    adminToken,
    userTokenSecret,
    stock,
    buyers,
    concurrency: wholeNumberFlag("concurrency", values.concurrency, 20),
    confirmTimeoutMs: wholeNumberFlag("confirm-timeout", values["confirm-timeout"], 120) * 1000,
    rateLimit,
    rateLimitSeconds: wholeNumberFlag("rate-limit-seconds", values["rate-limit-seconds"], 5),
  };
}

async function main(): Promise<number> {
  const request = smokeRequestFrom(process.argv.slice(2), process.env);
  if (request === undefined) return 0;
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  progress(`Smoke test of ${request.baseUrl}`);
  const checks = await runSmoke({ ...request, progress, bars: process.stderr.isTTY === true });
  process.stdout.write(`\n${checks.report(`Smoke test of ${request.baseUrl}: ${request.stock} units, ${request.buyers} buyers`)}\n`);
  return checks.failed ? 1 : 0;
}

if (require.main === module) runMain(main);
