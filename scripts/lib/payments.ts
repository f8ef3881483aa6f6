import { setTimeout as sleep } from "node:timers/promises";
import { describeAnswer, type HttpAnswer, type HttpClient } from "./http-client";

/** The status of an order as its buyer reads it (GET /api/orders/:orderId). */
export async function orderStatus(client: HttpClient, orderId: string, token: string): Promise<string | undefined> {
  const answer = await client.request("GET", `/api/orders/${encodeURIComponent(orderId)}`, { bearer: token });
  return (answer.json as { status?: string } | undefined)?.status;
}

/**
 * Pays an order as its buyer (POST /api/orders/:orderId/payment), waiting out `order_pending` (not in MySQL yet) and
 * 429s until `timeoutMs`. Returns the final answer: 200 paid, 409 payment_window_closed, or whatever else came.
 */
export async function payAsBuyer(client: HttpClient, orderId: string, token: string, timeoutMs = 30_000): Promise<HttpAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await client.request("POST", `/api/orders/${encodeURIComponent(orderId)}/payment`, { bearer: token });
    const error = (answer.json as { error?: string } | undefined)?.error;
    const later = error === "order_pending" || answer.status === 429 || answer.status === 503;
    if (!later) return answer;
    if (Date.now() > deadline) throw new Error(`paying ${orderId}: still ${describeAnswer(answer)} after ${timeoutMs} ms`);
    await sleep(250);
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
    await sleep(250);
  }
  return false;
}
