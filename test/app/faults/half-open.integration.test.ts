/**
 * Issue 12, cases 5 and 6: a connection whose peer vanished without a FIN or RST (host crash, NAT entry
 * lost), simulated by a proxy that stops forwarding without closing anything. The kernel keeps such a
 * connection open for many minutes. The service must notice within seconds: replace the connection, or
 * fail /healthz so the load balancer sends buyers elsewhere, and never hang a request or the order writer.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Answer } from "../support/http-client";
import { MYSQL_HOST, MYSQL_PORT, REDIS_HOST, REDIS_PORT } from "../support/resources";
import { ServiceHarness, statusCounts } from "../support/service-harness";
import { admin, createSale, order, user } from "../support/shop-api";
import { waitUntil } from "../support/wait";

const harness = ServiceHarness.forTestFile();

/** Calls `probe` every `everyMs` until `forMs` have passed, and returns every answer. */
async function sampleFor(forMs: number, everyMs: number, probe: () => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = [];
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    answers.push(await probe());
    await sleep(everyMs);
  }
  return answers;
}

/** Milliseconds until `condition` holds, polled every 100 ms; undefined if it still does not after `withinMs`. */
async function timeUntil(condition: () => Promise<boolean>, withinMs: number): Promise<number | undefined> {
  const startedAt = Date.now();
  while (Date.now() - startedAt < withinMs) {
    if (await condition()) return Date.now() - startedAt;
    await sleep(100);
  }
  return undefined;
}

/** The answer, or a 599 stand-in if none came within `ms` (a request that hangs). */
function answerWithin(ms: number, request: Promise<Answer>): Promise<Answer> {
  const hung: Answer = { status: 599, headers: {}, text: "no answer", json: undefined };
  return Promise.race([request, sleep(ms, hung, { ref: false })]);
}

test("Redis gone silent: /healthz fails after a few seconds, every 503 is true, and orders work again within seconds of its return", async () => {
  const redisProxy = await harness.startProxy({ host: REDIS_HOST, port: REDIS_PORT });
  const { api } = await harness.startService({ REDIS_URL: harness.resources.redisUrl(redisProxy.port) });
  const saleId = await createSale(api, 1000);
  expect((await order(api, saleId, "before")).status).toBe(202);

  redisProxy.blackhole();
  let buyer = 0;
  const [healthDuringOutage, ordersDuringOutage] = await Promise.all([
    sampleFor(8000, 250, () => api.get("/healthz")),
    sampleFor(8000, 250, () => answerWithin(10_000, order(api, saleId, `during-${buyer++}`))),
  ]);
  await redisProxy.restore();
  const recoveredInMs = await timeUntil(async () => (await order(api, saleId, `after-${buyer++}`)).status === 202, 30_000);

  expect({ healthDuringOutage: statusCounts(healthDuringOutage), recovered: recoveredInMs !== undefined }).toEqual({
    healthDuringOutage: { 200: expect.any(Number), 503: expect.any(Number) },
    recovered: true,
  });
  await waitUntil(async () => (await api.get("/healthz")).status === 200, "/healthz to pass again");
  // Whatever a buyer was told during the outage is true: "nothing was changed" only to those who hold nothing.
  const holders = await harness.holders(saleId);
  ordersDuringOutage.forEach((answer, i) => {
    expect(answer.status).toBe(503);
    if (answer.json.error === "unavailable") expect(holders.has(`during-${i}`)).toBe(false);
    else expect(answer.json.error).toBe("outcome_unknown");
  });
  await harness.expectFullyConfirmed(saleId, holders.size);
});

test("MySQL gone silent: lookups answer, /readyz fails, the order writer says it is stuck and confirms every order within seconds of its return", async () => {
  const mysqlProxy = await harness.startProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
  const { api, service } = await harness.startService({ MYSQL_URL: harness.resources.mysqlUrl(mysqlProxy.port) });
  const units = 500;
  const saleId = await createSale(api, units);
  const first = await order(api, saleId, "buyer-0");
  await waitUntil(async () => (await harness.orderRows(saleId)).length === 1, "the first order confirmed");

  mysqlProxy.blackhole();
  const blackholedAt = Date.now();
  const answers = await Promise.all(Array.from({ length: units - 1 }, (_, i) => order(api, saleId, `buyer-${i + 1}`)));
  expect(statusCounts(answers)).toEqual({ 202: units - 1 });
  const lookup = await answerWithin(20_000, api.get(`/api/orders/${first.json.orderId}`, user("buyer-0")));
  const ready = await answerWithin(20_000, api.get("/readyz"));
  await sleep(8000 - (Date.now() - blackholedAt));
  await mysqlProxy.restore();
  await timeUntil(async () => (await harness.orderRows(saleId)).length === units, 40_000);
  const confirmed = (await harness.orderRows(saleId)).length;

  expect({ lookup: lookup.status, ready: [ready.status, ready.json?.failing], confirmed }).toEqual({
    lookup: 503,
    ready: [503, ["mysql"]],
    confirmed: units,
  });
  await harness.expectFullyConfirmed(saleId, units);
  expect(service.count("order writer cycle is slow: Redis or MySQL may have stalled")).toBeGreaterThanOrEqual(1);
  expect((await api.get("/metrics", admin)).text).toMatch(/^seckill_order_writer_slow_cycles_total [1-9]/m);
  expect((await api.get("/readyz")).status).toBe(200);
}, 120_000);
