/**
 * Issue 12, case 9: a hot-path Redis timeout whose real bound was twice the configured one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { REQUEST_COMMAND_TIMEOUT_MS } from "../../../app/platform/redis";
import { createTestResources, REDIS_HOST, REDIS_PORT, type TestResources } from "../support/resources";
import { ServiceHarness } from "../support/service-harness";
import { createSale, order } from "../support/shop-api";

let resources: TestResources;
let harness: ServiceHarness;

beforeAll(async () => {
  resources = await createTestResources();
  harness = new ServiceHarness(resources);
});

afterEach(async () => {
  await harness.cleanUp();
});

afterAll(async () => {
  await resources.dispose();
});

test("while Redis does not answer, no order waits longer than the configured timeout for its 503", async () => {
  const redisProxy = await harness.startProxy({ host: REDIS_HOST, port: REDIS_PORT });
  const { api } = await harness.startService({ REDIS_URL: resources.redisUrl(redisProxy.port) });
  const saleId = await createSale(api, 1000);

  redisProxy.blackhole();
  const waits: number[] = [];
  const orders: Promise<unknown>[] = [];
  // Orders arriving steadily, as in a sale: each one must not queue behind the one before it.
  for (let i = 0; i < 40; i++) {
    const sentAt = Date.now();
    orders.push(order(api, saleId, `steady-${i}`).then(() => waits.push(Date.now() - sentAt)));
    await sleep(50);
  }
  await Promise.all(orders);

  // A bound of the contract, with room for scheduling on a busy machine; queueing behind a stuck command doubles it.
  expect(Math.max(...waits)).toBeLessThan(1.5 * REQUEST_COMMAND_TIMEOUT_MS);
});
