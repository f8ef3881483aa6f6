import { setTimeout as sleep } from "node:timers/promises";
import { mintUserToken } from "../../../app/http/auth";
import { bearer, type Answer, type ApiClient } from "./http-client";
import { ADMIN_TOKEN, USER_TOKEN_SECRET } from "./resources";

const HOUR = 3_600_000;

/** The admin API's authorization header. */
export const admin = bearer(ADMIN_TOKEN);

/** A buyer's authorization header: a token minted the way the shop's login mints them. */
export const user = (userId: string) => bearer(mintUserToken(userId, USER_TOKEN_SECRET));

/**
 * Creates a sale of `stock` phones (in `stockBuckets`), open from an hour ago to an hour from now, and returns its id.
 * `authorization`: the admin header of a service with another admin token (one read from a secret store).
 */
export async function createSale(
  api: ApiClient,
  stock: number,
  {
    authorization = admin,
    paymentWindowSeconds,
    stockBuckets,
  }: { authorization?: Record<string, string>; paymentWindowSeconds?: number; stockBuckets?: number } = {},
): Promise<string> {
  const now = Date.now();
  const answer = await api.post("/admin/sales", {
    headers: { ...authorization, "content-type": "application/json" },
    body: JSON.stringify({
      itemName: "Phone",
      stock,
      stockBuckets,
      startsAt: new Date(now - HOUR).toISOString(),
      endsAt: new Date(now + HOUR).toISOString(),
      ...(paymentWindowSeconds === undefined ? {} : { paymentWindowSeconds }),
    }),
  });
  expect(answer.status).toBe(201);
  return answer.json.id;
}

export const order = (api: ApiClient, saleId: string, userId: string): Promise<Answer> =>
  api.post(`/api/sales/${saleId}/orders`, { headers: user(userId) });

/**
 * Orders as a buyer does who is told to try again (503 with Retry-After, 429): again after a moment,
 * until another answer comes. A second attempt never takes a second unit, so this converges.
 */
export async function orderUntilAnswered(api: ApiClient, saleId: string, userId: string, timeoutMs = 30_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await order(api, saleId, userId);
    if (answer.status !== 503 && answer.status !== 429) return answer;
    if (Date.now() > deadline) throw new Error(`still ${answer.status} ${answer.text} for ${userId} after ${timeoutMs} ms`);
    await sleep(250); // sooner than Retry-After asks, within the per-buyer limit: a test need not wait
  }
}
