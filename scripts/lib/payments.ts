import { setTimeout as sleep } from "node:timers/promises";
import { describeAnswer, type HttpAnswer, type HttpClient } from "./http-client";

/** Lookups are limited per buyer (429) and may meet a busy instance (503): worth asking again this long. */
const RETRY_FOR_MS = 10_000;
const RETRY_PAUSE_MS = 250;

const worthRetrying = (answer: HttpAnswer) =>
  answer.status === 429 || answer.status === 503 || (answer.json as { error?: string } | undefined)?.error === "order_pending";

/** The status of an order as its buyer reads it (GET /api/orders/:orderId); undefined when no answer says. */
export async function orderStatus(client: HttpClient, orderId: string, token: string): Promise<string | undefined> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    const answer = await client.request("GET", `/api/orders/${encodeURIComponent(orderId)}`, { bearer: token });
    if (!worthRetrying(answer) || Date.now() > deadline) return (answer.json as { status?: string } | undefined)?.status;
    await sleep(RETRY_PAUSE_MS);
  }
}

/**
 * Pays an order as its buyer (POST /api/orders/:orderId/payment), waiting out `order_pending` (not in MySQL yet) and
 * 429s until `timeoutMs`. Returns the final answer: 200 paid, 409 payment_window_closed, or whatever else came.
 */
export async function payAsBuyer(client: HttpClient, orderId: string, token: string, timeoutMs = 30_000): Promise<HttpAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await client.request("POST", `/api/orders/${encodeURIComponent(orderId)}/payment`, { bearer: token });
    if (!worthRetrying(answer)) return answer;
    if (Date.now() > deadline) throw new Error(`paying ${orderId}: still ${describeAnswer(answer)} after ${timeoutMs} ms`);
    await sleep(RETRY_PAUSE_MS);
  }
}

/** Waits until the order's status is `status`; false when `timeoutMs` passed first. */
export async function waitForOrderStatus(
  client: HttpClient,
  orderId: string,
  token: string,
  status: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() <= deadline) {
    if ((await orderStatus(client, orderId, token)) === status) return true;
    await sleep(RETRY_PAUSE_MS);
  }
  return false;
}
