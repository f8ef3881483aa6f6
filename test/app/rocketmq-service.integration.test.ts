/**
 * The service as deployed (`node main.js`, a cluster of HTTP workers plus the order writer) with ORDER_QUEUE=rocketmq
 * and Nacos configured, against the RocketMQ and Nacos test doubles and the real Redis and MariaDB.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RowDataPacket } from "mysql2/promise";
import { LIVE_SETTINGS_DATA_ID } from "../../app/live-settings/nacos-live-settings";
import { instanceIp } from "../../app/platform/nacos";
import { saleKeys } from "../../app/sales/reservations";
import { freePort } from "../../scripts/lib/local-services";
import { NacosServerDouble } from "../doubles/nacos-server-double";
import { RocketMqBrokerDouble } from "../doubles/rocketmq-broker-double";
import { ApiClient } from "./support/http-client";
import { createTestResources, type TestResources } from "./support/resources";
import { ServiceProcess } from "./support/service-process";
import { admin, createSale, order } from "./support/shop-api";
import { waitUntil } from "./support/wait";

// Each test starts the service, whose order writer waits out a first RocketMQ long poll: see START_TIMEOUT_MS.
jest.setTimeout(150_000);
// Known flake, not understood yet: in a full CI run, with both cores busy, one start in a few has had its order writer
// never report started (RocketMQ client start-up against the broker double). Alone, the file passes every time. A test
// is tried again once, with its first error logged, so a hang that happens every time still fails.
jest.retryTimes(1, { logErrorsBeforeRetry: true });

const NAMESPACE = "rmq-cn-test0001";
const TOPIC = "seckill-test-orders";
const EVENTS_TOPIC = "seckill-test-order-events";
const GROUP = "seckill-test-order-writer";
/** The stated time for a Nacos change to take effect in every worker. */
const PROPAGATION_MS = 2000;

/** The service's temporary files (the Nacos client's config snapshots) go here, not to the machine's /tmp. */
const serviceTmpdir = mkdtempSync(path.join(tmpdir(), "rocketmq-service-test-"));
let resources: TestResources;
let broker: RocketMqBrokerDouble;
let nacos: NacosServerDouble;
let nacosGroup: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  resources = await createTestResources();
});

beforeEach(async () => {
  // The broker double keeps the proxy's defaults (10 s minimum invisible time, 5 s minimum long poll): the service's own settings must fit them.
  broker = await RocketMqBrokerDouble.listen({ topics: [TOPIC, EVENTS_TOPIC], consumerGroups: [GROUP], namespace: NAMESPACE });
  nacos = await NacosServerDouble.listen();
  nacosGroup = `test-${randomBytes(4).toString("hex")}`;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all([broker.stop(), nacos.stop()]);
});

afterAll(async () => {
  await resources.dispose();
  rmSync(serviceTmpdir, { recursive: true, force: true });
});

async function startService(): Promise<{ service: ServiceProcess; api: ApiClient; port: number }> {
  const port = await freePort();
  const service = await ServiceProcess.start(
    resources.env({
      PORT: String(port),
      WORKERS: "2",
      ORDER_QUEUE: "rocketmq",
      ROCKETMQ_ENDPOINTS: broker.endpoint,
      ROCKETMQ_NAMESPACE: NAMESPACE,
      ROCKETMQ_TOPIC: TOPIC,
      ROCKETMQ_EVENTS_TOPIC: EVENTS_TOPIC,
      ROCKETMQ_CONSUMER_GROUP: GROUP,
      NACOS_SERVER_ADDR: nacos.address,
      NACOS_GROUP: nacosGroup,
      TMPDIR: serviceTmpdir,
    }),
  );
  const api = new ApiClient(service.baseUrl, 64);
  cleanups.push(async () => {
    api.close();
    await service.stop();
  });
  return { service, api, port };
}

async function orderIdsInMysql(saleId: string): Promise<string[]> {
  const [rows] = await resources.pool.query<RowDataPacket[]>("SELECT id FROM orders WHERE sale_id = ?", [saleId]);
  return rows.map((row) => row.id as string).sort();
}

const publishSettings = (document: unknown) =>
  nacos.publishConfig(LIVE_SETTINGS_DATA_ID, nacosGroup, typeof document === "string" ? document : JSON.stringify(document));

describe("the service with ORDER_QUEUE=rocketmq and Nacos", () => {
  test("orders go HTTP → Redis outbox → relay → RocketMQ → order consumer → MySQL, one message per order keyed by its id", async () => {
    const { api } = await startService();
    const saleId = await createSale(api, 20);

    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => order(api, saleId, `buyer-${i}`)));
    const accepted = answers
      .filter((a) => a.status === 202)
      .map((a) => a.json.orderId as string)
      .sort();
    expect(accepted).toHaveLength(20);

    await waitUntil(async () => (await orderIdsInMysql(saleId)).length === 20, "20 orders confirmed in MySQL");
    expect(await orderIdsInMysql(saleId)).toEqual(accepted);
    expect(
      broker
        .messages(TOPIC)
        .map((m) => m.keys[0])
        .sort(),
    ).toEqual(accepted);
    await waitUntil(async () => (await resources.redis.xlen(saleKeys(resources.keyPrefix, saleId).orders)) === 0, "an empty outbox");
    expect((await api.get(`/admin/sales/${saleId}/stats`, admin)).json).toEqual({
      stock: 20,
      reserved: 20,
      confirmed: 20,
      pending: 0,
      paid: 0,
      expired: 0,
    });
    // Each confirmation goes to the order-events topic from the MySQL outbox, keyed by order and state.
    await waitUntil(() => broker.messages(EVENTS_TOPIC).length >= 20, "20 confirmed events on the order-events topic");
    const events = broker.messages(EVENTS_TOPIC);
    expect(new Set(events.map((m) => m.keys[0]))).toEqual(new Set(accepted.map((orderId) => `${orderId}:confirmed`)));
    expect(events.every((m) => m.tag === "confirmed")).toBe(true);
  });

  test("registers the instance (service seckill, its IP and port) once it listens, and deregisters it on SIGTERM", async () => {
    const { service, port } = await startService();

    await waitUntil(() => nacos.instances("seckill", nacosGroup).length === 1, "the registration");
    expect(nacos.instances("seckill", nacosGroup).map((i) => [i.ip, i.port])).toEqual([[instanceIp(), port]]);

    expect((await service.stop()).code).toBe(0);
    expect(nacos.instances("seckill", nacosGroup)).toEqual([]);
  });

  test(`the Nacos kill switch stops new orders in every worker within ${PROPAGATION_MS} ms; a malformed document changes nothing`, async () => {
    const { service, api } = await startService();
    const saleId = await createSale(api, 100);
    expect((await order(api, saleId, "early")).status).toBe(202);

    publishSettings({ ordersEnabled: false });
    await waitUntil(
      async () => {
        const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => order(api, saleId, `paused-${i}`)));
        return answers.every((a) => a.status === 503 && a.json.error === "orders_paused");
      },
      "every worker to refuse new orders",
      PROPAGATION_MS,
    );

    publishSettings("{ordersEnabled: true");
    await waitUntil(
      () => service.count("rejected live settings from Nacos; keeping the last good ones") >= 2,
      "both workers to reject the document",
    );
    expect((await order(api, saleId, "still-paused")).status).toBe(503);

    publishSettings({ ordersEnabled: true });
    await waitUntil(async () => (await order(api, saleId, `resumed-${Date.now()}`)).status === 202, "orders to resume", PROPAGATION_MS);
  });

  test("with the broker down, orders are still accepted and wait in the outbox; they reach MySQL once it is back", async () => {
    const { api } = await startService();
    const saleId = await createSale(api, 10);

    await broker.stop();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => order(api, saleId, `buyer-${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    await broker.resume();

    await waitUntil(async () => (await orderIdsInMysql(saleId)).length === 10, "10 orders confirmed once the broker is back", 60_000);
  });
});
