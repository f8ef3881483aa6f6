/**
 * Issue 17: the order lifecycle through the service as deployed, two instances (each its HTTP worker and its order
 * writer, so two expiry sweepers) on one Redis and one MySQL, with a 5 s payment window.
 */
import { orderEventsStreamKey } from "../../app/orders/order-events";
import { PAYMENT_SIGNATURE_HEADER, paymentSignature } from "../../app/http/payment-signature";
import { saleKeys } from "../../app/sales/reservations";
import type { ApiClient } from "./support/http-client";
import type { RowDataPacket } from "mysql2/promise";
import { REDIS_HOST, REDIS_PORT } from "./support/resources";
import { ServiceHarness } from "./support/service-harness";
import { admin, createSale, order, user } from "./support/shop-api";
import { waitUntil } from "./support/wait";

const WEBHOOK_SECRET = "test-payment-webhook-secret-0123456789abcdef";
const harness = ServiceHarness.forTestFile();

const pay = (api: ApiClient, orderId: string, userId: string) => api.post(`/api/orders/${orderId}/payment`, { headers: user(userId) });

function callback(api: ApiClient, body: object, secret = WEBHOOK_SECRET) {
  const raw = JSON.stringify(body);
  return api.post("/payments/callback", {
    headers: { "content-type": "application/json", [PAYMENT_SIGNATURE_HEADER]: paymentSignature(secret, raw) },
    body: raw,
  });
}

async function statusOf(api: ApiClient, orderId: string, userId: string): Promise<string> {
  return (await api.get(`/api/orders/${orderId}`, user(userId))).json?.status;
}

test("pay or expire with a 5 s window on two instances: paid stays paid, unpaid expires, each unit is sold again once", async () => {
  const env = { SECKILL_PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET };
  const { api } = await harness.startService(env);
  const { api: other } = await harness.startService(env);
  const saleId = await createSale(api, 4, { paymentWindowSeconds: 5 });
  const orders = new Map<string, string>();
  for (const userId of ["a", "b", "c", "d"]) {
    const answer = await order(api, saleId, userId);
    expect(answer.status).toBe(202);
    orders.set(userId, answer.json.orderId);
  }
  // This worker now knows the sale is sold out.
  expect((await order(api, saleId, "late")).status).toBe(410);

  // The buyer pays as soon as the order is confirmed (409 order_pending until then), twice: one payment.
  let first;
  do first = await pay(api, orders.get("a")!, "a");
  while (first.json.error === "order_pending" || first.status === 429);
  expect(first.json).toEqual({ orderId: orders.get("a"), status: "paid" });
  expect((await pay(other, orders.get("a")!, "a")).json).toEqual({ orderId: orders.get("a"), status: "paid" });
  const paid = (await api.get(`/api/orders/${orders.get("a")}`, user("a"))).json;
  expect(Date.parse(paid.payBy)).toBeGreaterThan(Date.now() - 5000);
  expect((await pay(api, orders.get("a")!, "b")).status).toBe(404);
  // The provider's callback: a bad signature changes nothing; a replayed paymentRef is the same payment.
  await waitUntil(async () => (await statusOf(api, orders.get("b")!, "b")) === "confirmed", "b confirmed");
  const paymentB = { orderId: orders.get("b"), paymentRef: "psp-0001", paidAt: new Date().toISOString() };
  const forged = await callback(other, paymentB, "not-the-secret-not-the-secret-not-the-secret");
  expect([forged.status, forged.json.error]).toEqual([401, "bad_signature"]);
  const [[afterForgery]] = await harness.resources.pool.query<RowDataPacket[]>("SELECT status FROM orders WHERE id = ?", [orders.get("b")]);
  expect(afterForgery.status).toBe("confirmed");
  expect((await callback(other, paymentB)).json).toEqual({ orderId: orders.get("b"), status: "paid" });
  expect((await callback(api, paymentB)).json).toEqual({ orderId: orders.get("b"), status: "paid" });
  const unknown = await callback(api, { ...paymentB, orderId: `${saleId}-1-0000000000000-0000000000000000`, paymentRef: "psp-0002" });
  expect(unknown.status).toBe(404);

  // c and d never pay: both sweepers see them due; each unit comes back once.
  for (const userId of ["c", "d"]) {
    await waitUntil(async () => (await statusOf(api, orders.get(userId)!, userId)) === "expired", `${userId} expired`);
  }
  const late = await pay(api, orders.get("c")!, "c");
  expect([late.status, late.json.error]).toEqual([409, "payment_window_closed"]);
  expect(await statusOf(api, orders.get("a")!, "a")).toBe("paid");
  await waitUntil(
    async () => (await harness.resources.redis.hget(saleKeys(harness.resources.keyPrefix, saleId).sale, "sold")) === "2",
    "2 units back",
  );

  // The worker's sold-out flag clears: c (whose order expired) buys again, then e; nobody else gets one.
  const again = new Map<string, string>();
  for (const userId of ["c", "e"]) {
    await waitUntil(async () => {
      const answer = await order(api, saleId, userId);
      if (answer.status === 202) again.set(userId, answer.json.orderId);
      return answer.status === 202;
    }, `${userId} buys a returned unit`);
  }
  expect((await order(api, saleId, "f")).status).toBe(410);
  expect((await order(other, saleId, "f")).status).toBe(410);
  await waitUntil(async () => (await statusOf(api, again.get("c")!, "c")) === "confirmed", "c's second order confirmed");
  await waitUntil(async () => (await statusOf(api, again.get("e")!, "e")) === "confirmed", "e's order confirmed");
  expect(await harness.soldColumn(saleId)).toBe(4);
  expect(Number(await harness.resources.redis.hget(saleKeys(harness.resources.keyPrefix, saleId).sale, "returned"))).toBe(2);
  expect((await api.get(`/admin/sales/${saleId}/stats`, admin)).json).toEqual({
    stock: 4,
    reserved: 4,
    confirmed: 4,
    pending: 0,
    paid: 2,
    expired: 2,
  });

  // Other systems heard each change (at least once, each copy under the same key).
  const expected = [
    ...[...orders.values(), ...again.values()].map((orderId) => `${orderId}:confirmed`),
    `${orders.get("a")}:paid`,
    `${orders.get("b")}:paid`,
    `${orders.get("c")}:expired`,
    `${orders.get("d")}:expired`,
  ].sort();
  const published = async () =>
    (await harness.resources.redis.xrange(orderEventsStreamKey(harness.resources.keyPrefix), "-", "+")).map(
      ([, fields]) => fields[fields.indexOf("key") + 1],
    );
  await waitUntil(async () => new Set(await published()).size === expected.length, "every change published");
  expect([...new Set(await published())].sort()).toEqual(expected);
});

test("an order writer killed after the expiry's MySQL commit, before the Redis return: after a restart each unit returns once", async () => {
  const redisProxy = await harness.startProxy({ host: REDIS_HOST, port: REDIS_PORT });
  const { api, service } = await harness.startService({ REDIS_URL: harness.resources.redisUrl(redisProxy.port) });
  const saleId = await createSale(api, 2, { paymentWindowSeconds: 5 });
  const orders = new Map<string, string>();
  for (const userId of ["k1", "k2"]) orders.set(userId, (await order(api, saleId, userId)).json.orderId);
  for (const [userId, orderId] of orders)
    await waitUntil(async () => (await statusOf(api, orderId, userId)) === "confirmed", `${userId} confirmed`);
  const inMysql = async () => {
    const [rows] = await harness.resources.pool.query<RowDataPacket[]>(
      "SELECT status, unit_returned FROM orders WHERE sale_id = ? ORDER BY id",
      [saleId],
    );
    return rows.map((row) => `${row.status}/${row.unit_returned}`);
  };

  // Redis stops answering: the sweep commits the expiry in MySQL, then waits on the return for as long as it likes.
  redisProxy.freeze();
  await waitUntil(async () => (await inMysql()).join() === "expired/0,expired/0", "both orders expired in MySQL, units not yet returned");
  await service.crash();
  const keys = saleKeys(harness.resources.keyPrefix, saleId);
  expect(await harness.resources.redis.hget(keys.sale, "sold")).toBe("2");

  const { api: restarted } = await harness.startService();
  await waitUntil(async () => (await inMysql()).join() === "expired/1,expired/1", "both units marked returned");
  expect(await harness.resources.redis.hmget(keys.sale, "sold", "returned")).toEqual(["0", "2"]);
  expect(await harness.resources.redis.hlen(keys.buyers)).toBe(0);
  expect(await harness.soldColumn(saleId)).toBe(0);
  for (const userId of ["k3", "k4"]) expect((await order(restarted, saleId, userId)).status).toBe(202);
  expect((await order(restarted, saleId, "k5")).status).toBe(410);
});
