import { setTimeout as sleep } from "node:timers/promises";
import { describeAnswer, HttpAnswer, HttpClient, TransportError } from "./http-client";

/** What one click on "buy" came back with, in the terms of the order endpoint's contract (issue 4). */
export type OrderOutcome =
  | "reserved" // 202: a unit is this buyer's
  | "already_purchased" // 409: the buyer already holds a unit
  | "sold_out" // 410 sold_out: no units left (whether this buyer holds one is another question)
  | "rate_limited" // 429: the service's per-user limiter; try again in a moment
  | "lb_rejected" // a 503 that is not the service's JSON: the load balancer's rate limit; try again
  | "unavailable" // 503 {"error":"unavailable"}: the service cannot reach Redis; nothing was changed
  | "outcome_unknown" // 503 {"error":"outcome_unknown"}: the attempt may have taken a unit; try again
  | "server_error" // any other 5xx
  | "unexpected" // any other answer: 401, 403 not_started, 404, 410 ended, …
  | "no_answer"; // connection refused, reset, timed out: the attempt may have taken a unit too

export const ORDER_OUTCOMES: readonly OrderOutcome[] = [
  "reserved",
  "already_purchased",
  "sold_out",
  "rate_limited",
  "lb_rejected",
  "unavailable",
  "outcome_unknown",
  "server_error",
  "unexpected",
  "no_answer",
];

const RETRY_LATER: ReadonlySet<OrderOutcome> = new Set(["rate_limited", "lb_rejected"]);
/** Answers that leave it unknown whether the attempt took a unit. Retrying converges: 202, or 409 with the unit. */
const UNKNOWN_OUTCOME: ReadonlySet<OrderOutcome> = new Set(["outcome_unknown", "no_answer"]);

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
  /**
   * How often a click answered "try again later" (429, the load balancer's 503), or whose outcome is unknown,
   * is retried; and how often a my-order lookup that got no answer is.
   */
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
  /** When the buyer learned of it (performance.now()). */
  readonly at: number;
  /**
   * How: a 202; or, after an attempt whose outcome was unknown, the 409 or the my-order lookup that named
   * the unit that attempt had taken.
   */
  readonly learnedFrom: "202" | "409" | "my-order";
}

export interface CrowdResult {
  readonly clicks: number;
  /** HTTP requests sent, retries included. */
  readonly requests: number;
  /** Every answer counted by outcome, retried ones included. */
  readonly outcomes: Readonly<Record<OrderOutcome, number>>;
  /** Every unit a buyer was told they hold, once each, in the order they learned of it. */
  readonly reservations: readonly Reservation[];
  /** The first answer seen for each outcome, for reports: `503 {"error":"unavailable",…}`. */
  readonly firstAnswer: Readonly<Partial<Record<OrderOutcome, string>>>;
  /** Clicks still told "try again later", or still not knowing their outcome, when their retries ran out. */
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
 * Like the sale page, a buyer whose attempt had an unknown outcome tries again, and asks
 * GET /api/sales/:saleId/my-order before taking a 410 sold_out as "no unit for me".
 */
export async function runCrowd(options: CrowdOptions): Promise<CrowdResult> {
  const clicksPerBuyer = options.clicksPerBuyer ?? (() => 1);
  const clickBuyers: number[] = [];
  options.buyerIds.forEach((_, index) => {
    for (let click = 0; click < clicksPerBuyer(index); click++) clickBuyers.push(index);
  });
  const tokens = options.buyerIds.map((id) => options.mintToken(id));
  const path = `/api/sales/${encodeURIComponent(options.saleId)}/orders`;
  const myOrderPath = `/api/sales/${encodeURIComponent(options.saleId)}/my-order`;

  const outcomes = Object.fromEntries(ORDER_OUTCOMES.map((o) => [o, 0])) as Record<OrderOutcome, number>;
  const reservations: Reservation[] = [];
  const firstAnswer: Partial<Record<OrderOutcome, string>> = {};
  const latenciesMs: number[] = [];
  let requests = 0;
  let clicksDone = 0;
  let clicksGivenUp = 0;
  let nextClick = 0;
  /** Buyers with an attempt whose outcome is still unknown. */
  const uncertain = new Set<number>();
  const known = new Set<string>();
  const pacing = options.ratePerSecond === undefined ? undefined : new Pacer(options.ratePerSecond);
  const startedAt = performance.now();

  function learned(buyerIndex: number, orderId: string, learnedFrom: Reservation["learnedFrom"]): void {
    uncertain.delete(buyerIndex);
    const buyerId = options.buyerIds[buyerIndex];
    // The same unit can be named twice: by a retry's 409 and by the 202 of the attempt that took it.
    if (known.has(`${buyerId} ${orderId}`)) return;
    known.add(`${buyerId} ${orderId}`);
    reservations.push({ buyerId, orderId, at: performance.now(), learnedFrom });
  }

  async function click(buyerIndex: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await pacing?.nextSlot();
      requests++;
      const { outcome, answer, detail } = await sendOrder(options.client, path, tokens[buyerIndex]);
      outcomes[outcome]++;
      firstAnswer[outcome] ??= detail;
      if (answer) latenciesMs.push(answer.durationMs);
      if (UNKNOWN_OUTCOME.has(outcome)) uncertain.add(buyerIndex);
      const orderId = (answer?.json as { orderId?: unknown } | undefined)?.orderId;
      if (outcome === "reserved") learned(buyerIndex, String(orderId), "202");
      else if (outcome === "already_purchased" && uncertain.has(buyerIndex)) learned(buyerIndex, String(orderId), "409");
      else if (outcome === "sold_out" && uncertain.has(buyerIndex)) return findOutIfHeld(buyerIndex);
      // While an earlier outcome is unknown, "nothing was changed" by this attempt is no answer either.
      const tryAgain = RETRY_LATER.has(outcome) || UNKNOWN_OUTCOME.has(outcome) || (uncertain.has(buyerIndex) && outcome === "unavailable");
      if (!tryAgain) return;
      if (attempt >= options.retries) {
        clicksGivenUp++;
        return;
      }
      await backOff(attempt);
    }
  }

  /** A 410 says the sale has no units left; whether one of them is this buyer's, only my-order says. */
  async function findOutIfHeld(buyerIndex: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      requests++;
      const answer = await options.client.request("GET", myOrderPath, { bearer: tokens[buyerIndex] }).catch(noAnswer);
      const orderId = (answer?.json as { orderId?: unknown } | undefined)?.orderId;
      if (answer?.status === 200 && typeof orderId === "string") return learned(buyerIndex, orderId, "my-order");
      if (answer?.status === 404) {
        uncertain.delete(buyerIndex);
        return;
      }
      if (attempt >= options.retries) {
        clicksGivenUp++;
        return;
      }
      await backOff(attempt);
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
  if (answer.status === 503 && code === "unavailable") return "unavailable";
  if (answer.status === 503 && code === "outcome_unknown") return "outcome_unknown";
  if (answer.status === 503) return "lb_rejected";
  if (answer.status >= 500) return "server_error";
  return "unexpected";
}

function noAnswer(error: unknown): undefined {
  if (error instanceof TransportError) return undefined;
  throw error;
}

function backOff(attempt: number): Promise<void> {
  return sleep(Math.min(100 * 2 ** attempt, 2_000) * (0.5 + Math.random()));
}

/** Buyers told of more than one unit: each holds more than one. */
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
