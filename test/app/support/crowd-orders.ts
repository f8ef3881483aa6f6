import { setTimeout as sleep } from "node:timers/promises";
import type { Pool, RowDataPacket } from "mysql2/promise";
import type { Answer, ApiClient } from "./http-client";
import { admin, order, user } from "./shop-api";

/** One buyer's click on "buy", retried the way the sale page does while the answer is "try again": 503, 429, no answer. */
export interface Click {
  readonly buyer: string;
  /** Every answer the click got, the last one final. */
  readonly answers: readonly Answer[];
  readonly final: Answer;
}

/** Within the per-buyer rate limit (5 orders/s by default). */
const RETRY_DELAY_MS = 250;
const RETRY_LATER = new Set([0, 429, 503]);

export async function clickBuy(api: ApiClient, saleId: string, buyer: string, retries = 60): Promise<Click> {
  const answers: Answer[] = [];
  for (let attempt = 0; ; attempt++) {
    let answer: Answer;
    try {
      answer = await order(api, saleId, buyer);
    } catch (error) {
      // No answer at all: the page retries it like a 503.
      answer = { status: 0, headers: {}, text: String(error), json: undefined };
    }
    answers.push(answer);
    if (!RETRY_LATER.has(answer.status) || attempt >= retries) return { buyer, answers, final: answer };
    await sleep(RETRY_DELAY_MS);
  }
}

export function clickAll(api: ApiClient, saleId: string, buyers: readonly string[]): Promise<Click[]> {
  return Promise.all(buyers.map((buyer) => clickBuy(api, saleId, buyer)));
}

export const buyerNames = (prefix: string, count: number, from = 0) => Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);

/**
 * Everything buyers were told, for the figures of issue 12: which order ids went to which buyers, and what MySQL
 * holds at the end.
 */
export class OrderLedger {
  /** Order id → the buyers a 202 or 409 named it to. */
  private readonly holders = new Map<string, Set<string>>();
  /** Buyer → the order ids they were told they hold. */
  private readonly heldBy = new Map<string, Set<string>>();
  /** Buyer and order id of each 202. */
  readonly accepted: { buyer: string; orderId: string }[] = [];
  /** Buyer and order id of each 409 (the buyer already holds that order). */
  readonly alreadyHeld: { buyer: string; orderId: string }[] = [];

  record(clicks: readonly Click[]): void {
    for (const { buyer, answers } of clicks) {
      for (const answer of answers) {
        const orderId = answer.json?.orderId as string | undefined;
        if ((answer.status !== 202 && answer.status !== 409) || orderId === undefined) continue;
        (answer.status === 202 ? this.accepted : this.alreadyHeld).push({ buyer, orderId });
        add(this.holders, orderId, buyer);
        add(this.heldBy, buyer, orderId);
      }
    }
  }

  /** Order ids handed to two or more different buyers. */
  idsOfSeveralBuyers(): string[] {
    return [...this.holders].filter(([, buyers]) => buyers.size > 1).map(([orderId]) => orderId);
  }

  /** Buyers told two or more different order ids. */
  buyersWithSeveralIds(): string[] {
    return [...this.heldBy].filter(([, ids]) => ids.size > 1).map(([buyer]) => buyer);
  }

  /** 202s whose order id is not that buyer's row in MySQL. */
  acceptedWithoutOrder(rows: ReadonlyMap<string, string>): { buyer: string; orderId: string }[] {
    return this.accepted.filter(({ buyer, orderId }) => rows.get(orderId) !== buyer);
  }

  /** Buyers a 202 or a 409 named an order to. */
  buyersTold(): Set<string> {
    return new Set(this.heldBy.keys());
  }

  figures(rows: ReadonlyMap<string, string>) {
    return {
      accepted: this.accepted.length,
      idsOfSeveralBuyers: this.idsOfSeveralBuyers().length,
      acceptedWithoutOrder: this.acceptedWithoutOrder(rows).length,
      alreadyHeldWithoutOrder: this.alreadyHeld.filter(({ buyer, orderId }) => rows.get(orderId) !== buyer).length,
      buyersWithSeveralIds: this.buyersWithSeveralIds().length,
      mysqlRows: rows.size,
    };
  }
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

/** The sale's orders in MySQL: order id → buyer. */
export async function orderRows(pool: Pool, saleId: string): Promise<Map<string, string>> {
  const [rows] = await pool.query<RowDataPacket[]>("SELECT id, user_id FROM orders WHERE sale_id = ?", [saleId]);
  return new Map(rows.map((row) => [row.id as string, row.user_id as string]));
}

export function statusCounts(answers: readonly Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** The buyer's view of an order: GET /api/orders/:orderId with their token. */
export function lookUpOrder(api: ApiClient, buyer: string, orderId: string): Promise<Answer> {
  return api.get(`/api/orders/${orderId}`, user(buyer));
}

/** The value of one sample in the service's /metrics (summed over matching label sets), or undefined when absent. */
export async function metricValue(api: ApiClient, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { text } = await api.get("/metrics", admin);
  let total: number | undefined;
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ?? "";
    if (Object.entries(labels).every(([key, value]) => present.includes(`${key}="${value}"`))) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

/** Prints a case's figures where the test run shows them (they go into the closing note of issue 12). */
export function report(caseName: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[issue 12] ${caseName}: ${JSON.stringify(figures)}\n`);
}
