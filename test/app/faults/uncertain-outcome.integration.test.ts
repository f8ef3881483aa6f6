/**
 * Issue 12, case 3: a reservation sent to Redis whose answer does not come back in time. The command
 * timeout rejects the promise while the script is on its way, so a 503 saying "nothing was changed"
 * would be false for every buyer whose script then ran. Every 503 must say the outcome is unknown, and
 * a retry must converge: 409 with the order the first attempt took, or 202.
 */
import type { Answer } from "../support/http-client";
import { REDIS_HOST, REDIS_PORT } from "../support/resources";
import { ServiceHarness } from "../support/service-harness";
import { createSale, order, orderUntilAnswered } from "../support/shop-api";
import type { ApiClient } from "../support/http-client";

const harness = ServiceHarness.forTestFile();

async function serviceBehindRedisProxy() {
  const redisProxy = await harness.startProxy({ host: REDIS_HOST, port: REDIS_PORT });
  const { api } = await harness.startService({ REDIS_URL: harness.resources.redisUrl(redisProxy.port) });
  return { api, redisProxy };
}

/**
 * Retries every buyer who was answered 503, once Redis is well again, and checks what they were told
 * against what happened: a retry answered 409 proves their first attempt had taken a unit.
 */
async function expectTruthfulAndConvergent(api: ApiClient, saleId: string, buyers: readonly string[], answers: readonly Answer[]) {
  const told503 = buyers.flatMap((buyer, i) => (answers[i].status === 503 ? [{ buyer, first: answers[i] }] : []));
  expect(told503.length).toBeGreaterThan(0);
  const retries = await Promise.all(told503.map(({ buyer }) => orderUntilAnswered(api, saleId, buyer)));
  const holders = await harness.holders(saleId);
  const figures = { falselyToldNothingChanged: 0, toldAnythingButOutcomeUnknown: 0, withoutRetryAfter: 0, retriesNotConverged: 0 };
  told503.forEach(({ buyer, first }, i) => {
    const retry = retries[i];
    if (first.json.error === "unavailable" && retry.status === 409) figures.falselyToldNothingChanged++;
    if (first.json.error !== "outcome_unknown") figures.toldAnythingButOutcomeUnknown++;
    if (first.headers["retry-after"] === undefined) figures.withoutRetryAfter++;
    const converged = (retry.status === 409 || retry.status === 202) && retry.json.orderId === holders.get(buyer);
    if (!converged) figures.retriesNotConverged++;
  });
  expect(figures).toEqual({ falselyToldNothingChanged: 0, toldAnythingButOutcomeUnknown: 0, withoutRetryAfter: 0, retriesNotConverged: 0 });
  buyers.forEach((buyer, i) => {
    if (answers[i].status === 202) expect(holders.get(buyer)).toBe(answers[i].json.orderId);
  });
  await harness.expectFullyConfirmed(saleId, holders.size);
}

test("with Redis 1.2 s slow, every 503 says the outcome is unknown and every retry converges", async () => {
  const { api, redisProxy } = await serviceBehindRedisProxy();
  const saleId = await createSale(api, 1000);
  const buyers = Array.from({ length: 300 }, (_, i) => `slow-${i}`);

  redisProxy.slow(1200);
  const answers = await Promise.all(buyers.map((buyer) => order(api, saleId, buyer)));
  await redisProxy.restore();

  await expectTruthfulAndConvergent(api, saleId, buyers, answers);
});

test("after a partition that heals, every 503 says the outcome is unknown and every retry converges", async () => {
  const { api, redisProxy } = await serviceBehindRedisProxy();
  const saleId = await createSale(api, 1000);
  const buyers = Array.from({ length: 60 }, (_, i) => `partitioned-${i}`);

  // The partition holds the scripts on their way; when it heals, TCP delivers them and they run.
  redisProxy.freeze();
  const answers = await Promise.all(buyers.map((buyer) => order(api, saleId, buyer)));
  await redisProxy.restore();

  await expectTruthfulAndConvergent(api, saleId, buyers, answers);
});
