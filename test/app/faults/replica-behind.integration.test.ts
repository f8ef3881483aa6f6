import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { freePort, startThrowawayRedis, type ThrowawayRedis } from "../../../scripts/lib/local-services";
import { saleKeys } from "../../../app/sales/reservations";
import { ApiClient } from "../support/http-client";
import { buyerNames, clickAll, OrderLedger, orderRows, report, statusCounts } from "../support/crowd-orders";
import { createTestResources, type TestResources } from "../support/resources";
import { ServiceProcess } from "../support/service-process";
import { createSale } from "../support/shop-api";
import { waitUntil } from "../support/wait";

/**
 * Issue 12, case 1: Tair fails over to a replica that is behind. A throwaway redis-server stands in for Tair: it is
 * snapshotted after the first units are sold, sells more (confirmed in MySQL), dies, and comes back from the old
 * snapshot, as a replica restored from it would. Then new buyers arrive, and some of the earlier ones click again.
 */

let resources: TestResources;
let dataDir: string;
let redisServer: ThrowawayRedis | undefined;
let service: ServiceProcess | undefined;
let api: ApiClient | undefined;
let redis: Redis | undefined;

beforeAll(async () => {
  resources = await createTestResources();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "seckill-replica-behind-"));
});

afterAll(async () => {
  api?.close();
  await service?.stop();
  redis?.disconnect();
  await redisServer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  await resources.dispose();
});

const STOCK = 200;
const BEFORE_SNAPSHOT = 80;
const AFTER_SNAPSHOT = 60;
const NEW_BUYERS = 100;
const RETRYING = 30;

describe("issue 12, case 1: Redis comes back from a snapshot older than what MySQL confirmed", () => {
  it("reuses no order id, gives no 202 without an order, keeps MySQL equal to the 202s, and sells exactly the stock", async () => {
    redisServer = await startThrowawayRedis({ args: ["--dir", dataDir, "--dbfilename", "dump.rdb"] });
    redis = new Redis({ port: redisServer.port, maxRetriesPerRequest: null });
    const port = await freePort();
    service = await ServiceProcess.start(
      resources.env({ PORT: String(port), WORKERS: "2", REDIS_URL: resources.redisUrl(redisServer.port) }),
    );
    api = new ApiClient(service.baseUrl, 200);
    const saleId = await createSale(api, STOCK);
    const ledger = new OrderLedger();

    const early = await clickAll(api, saleId, buyerNames("early", BEFORE_SNAPSHOT));
    ledger.record(early);
    await redis.save();
    copyFileSync(path.join(dataDir, "dump.rdb"), path.join(dataDir, "snapshot.rdb"));
    const later = buyerNames("later", AFTER_SNAPSHOT);
    ledger.record(await clickAll(api, saleId, later));
    const confirmedBeforeFailover = BEFORE_SNAPSHOT + AFTER_SNAPSHOT;
    await waitUntil(
      async () => (await orderRows(resources.pool, saleId)).size === confirmedBeforeFailover,
      "the orders confirmed in MySQL",
    );

    await redisServer.crash();
    redis.disconnect();
    redisServer = await startThrowawayRedis({ port: redisServer.port, args: ["--dir", dataDir, "--dbfilename", "snapshot.rdb"] });
    redis = new Redis({ port: redisServer.port, maxRetriesPerRequest: null });
    await waitUntil(async () => (await api!.get("/readyz")).status === 200, "the service back on Redis");

    const newBuyers = buyerNames("new", NEW_BUYERS);
    const afterFailover = await clickAll(api, saleId, [...newBuyers, ...later.slice(0, RETRYING)]);
    ledger.record(afterFailover);
    const keys = saleKeys(resources.keyPrefix, saleId);
    await waitUntil(async () => (await redis!.xlen(keys.orders)) === 0, "the order writer to drain", 60_000);
    const rows = await orderRows(resources.pool, saleId);

    const figures = {
      ...ledger.figures(rows),
      newBuyersAfterFailover: statusCounts(afterFailover.slice(0, NEW_BUYERS).map((click) => click.final)),
      retryingAfterFailover: statusCounts(afterFailover.slice(NEW_BUYERS).map((click) => click.final)),
      deadLetters: await redis.xlen(keys.deadLetters),
    };
    const everyAnswer = afterFailover.flatMap((click) => click.answers);
    report("case 1, replica behind", figures);

    const sold = STOCK - confirmedBeforeFailover;
    expect(Object.keys(figures.retryingAfterFailover).every((status) => ["409", "410"].includes(status))).toBe(true);
    expect(figures).toEqual({
      accepted: STOCK,
      idsOfSeveralBuyers: 0,
      acceptedWithoutOrder: 0,
      alreadyHeldWithoutOrder: 0,
      buyersWithSeveralIds: 0,
      mysqlRows: STOCK,
      newBuyersAfterFailover: { 202: sold, 410: NEW_BUYERS - sold },
      // They hold a unit already: 409 with the order id MySQL has for them (checked by buyersWithSeveralIds), or,
      // once the sale is sold out, 410 (no units left) from a worker that knows it without asking Redis.
      retryingAfterFailover: expect.not.objectContaining({ 202: expect.anything() }),
      deadLetters: 0,
    });
    expect(new Map(ledger.accepted.map(({ buyer, orderId }) => [orderId, buyer]))).toEqual(rows);
    // Until Redis is rebuilt from MySQL, buyers are asked to retry, never told the sale does not exist.
    expect(service.count("sale's Redis state rebuilt from MySQL")).toBe(1);
    expect(everyAnswer.filter((answer) => answer.status === 503).map((answer) => answer.json.error)).toEqual(
      expect.arrayContaining(["rebuilding"]),
    );
    expect(everyAnswer.filter((answer) => answer.status === 404)).toEqual([]);
  });
});
