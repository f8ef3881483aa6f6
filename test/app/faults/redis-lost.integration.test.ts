import Redis from "ioredis";
import { freePort, startThrowawayRedis, type ThrowawayRedis } from "../../../scripts/lib/local-services";
import { ApiClient, type Answer } from "../support/http-client";
import { buyerNames, clickAll, lookUpOrder, metricValue, OrderLedger, orderRows, report, statusCounts } from "../support/crowd-orders";
import { createTestResources, MYSQL_HOST, MYSQL_PORT, type TestResources } from "../support/resources";
import { ServiceProcess } from "../support/service-process";
import { createSale } from "../support/shop-api";
import { TcpProxy } from "../support/tcp-proxy";
import { waitUntil } from "../support/wait";

/**
 * Issue 12, case 2: Redis loses everything while the order writer is behind the crowd (MySQL out of its reach).
 * On one server nothing can bring the undrained orders back: their buyers must be told so, and counted. With
 * REDIS_REPLICA_ACK=1 and a replica, a primary failure loses none.
 */

let resources: TestResources;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  resources = await createTestResources();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await resources.dispose();
});

async function startRedis(options: Parameters<typeof startThrowawayRedis>[0] = {}): Promise<ThrowawayRedis> {
  const server = await startThrowawayRedis(options);
  cleanups.push(() => server.stop());
  return server;
}

async function startProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(target);
  cleanups.push(() => proxy.close());
  return proxy;
}

async function startService(env: Record<string, string>): Promise<{ service: ServiceProcess; api: ApiClient }> {
  const service = await ServiceProcess.start(resources.env({ PORT: String(await freePort()), WORKERS: "2", ...env }));
  const api = new ApiClient(service.baseUrl, 200);
  cleanups.push(async () => {
    api.close();
    await service.stop();
  });
  return { service, api };
}

/** What the buyer's order page ends up saying: polls until the order is confirmed or lost, or the time is up. */
async function finalLookups(api: ApiClient, accepted: readonly { buyer: string; orderId: string }[]): Promise<Answer[]> {
  return Promise.all(
    accepted.map(async ({ buyer, orderId }) => {
      let answer = await lookUpOrder(api, buyer, orderId);
      for (let i = 0; i < 150 && !["confirmed", "lost"].includes(answer.json?.status); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await lookUpOrder(api, buyer, orderId);
      }
      return answer;
    }),
  );
}

function lookupFigures(lookups: readonly Answer[]): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const answer of lookups) {
    const what = answer.status === 200 ? answer.json.status : String(answer.status);
    figures[what] = (figures[what] ?? 0) + 1;
  }
  return figures;
}

describe("issue 12, case 2: Redis loses its data while the order writer lags", () => {
  it("on one server: tells every buyer whose order was lost so (metric and error log), and sells exactly the remaining stock", async () => {
    const stock = 400;
    const mysqlProxy = await startProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const redisServer = await startRedis();
    const { service, api } = await startService({
      REDIS_URL: resources.redisUrl(redisServer.port),
      MYSQL_URL: resources.mysqlUrl(mysqlProxy.port),
    });
    const saleId = await createSale(api, stock);
    const ledger = new OrderLedger();
    const firstWave = await clickAll(api, saleId, buyerNames("first", 100));
    await waitUntil(async () => (await orderRows(resources.pool, saleId)).size === 100, "the first wave confirmed");
    // The writer is certainly behind the second wave: a slow MySQL alone let a fast run confirm all 300 (CI, once).
    await mysqlProxy.cut();
    const secondWave = await clickAll(api, saleId, buyerNames("second", 200));
    ledger.record([...firstWave, ...secondWave]);

    // Redis dies and comes back empty while the writer is still behind the second wave.
    await redisServer.crash();
    await startRedis({ port: redisServer.port });
    await mysqlProxy.restore();
    await waitUntil(async () => (await api.get("/readyz")).status === 200, "the service back on Redis");
    const lookups = await finalLookups(api, ledger.accepted);
    const confirmed = (await orderRows(resources.pool, saleId)).size;
    const accepted = ledger.accepted.length;

    const thirdWave = await clickAll(api, saleId, buyerNames("third", stock));
    ledger.record(thirdWave);
    await waitUntil(async () => (await orderRows(resources.pool, saleId)).size >= stock, "the third wave's orders in MySQL").catch(
      () => undefined,
    );
    const rows = await orderRows(resources.pool, saleId);
    const lost = lookups.filter((answer) => answer.json?.status === "lost").length;
    const figures = {
      accepted,
      confirmedOfThem: confirmed,
      lookups: lookupFigures(lookups),
      lostMetric: await metricValue(api, "seckill_orders_lost_total"),
      lostErrorLogs: service.logs.filter((line) => line.level === 50 && line.msg === "order lost").length,
      thirdWave: statusCounts(thirdWave.map((click) => click.final)),
      mysqlRows: rows.size,
    };
    report("case 2, Redis restarted empty", figures);

    expect(figures.accepted).toBe(300);
    expect(confirmed).toBe(100);
    expect(figures.lookups).toEqual({ confirmed, lost: 300 - confirmed });
    expect(figures.lostMetric).toBe(lost);
    expect(figures.lostErrorLogs).toBe(lost);
    for (const answer of lookups.filter((a) => a.json?.status === "lost")) expect(answer.json.reason).toEqual(expect.any(String));
    // The units of lost orders are for sale again; those MySQL holds are not.
    expect(figures.thirdWave).toEqual({ 202: stock - confirmed, 410: confirmed });
    expect(rows.size).toBe(stock);
    expect(ledger.idsOfSeveralBuyers()).toEqual([]);
  }, 180_000);

  it("with REDIS_REPLICA_ACK=1 and a replica: a primary failure in the middle of the crowd loses no 202", async () => {
    const mysqlProxy = await startProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const primary = await startRedis();
    // Asynchronous replication that lags, as across zones under load.
    const replicationLink = await startProxy({ host: "127.0.0.1", port: primary.port });
    replicationLink.slow(100);
    const replica = await startRedis({ args: ["--replicaof", "127.0.0.1", String(replicationLink.port)] });
    const redisAddress = await startProxy({ host: "127.0.0.1", port: primary.port });
    const replicaClient = new Redis({ port: replica.port, maxRetriesPerRequest: null });
    cleanups.push(async () => replicaClient.disconnect());
    await waitUntil(async () => (await replicaClient.info("replication")).includes("master_link_status:up"), "the replica in sync");
    const { api } = await startService({
      REDIS_URL: resources.redisUrl(redisAddress.port),
      MYSQL_URL: resources.mysqlUrl(mysqlProxy.port),
      REDIS_REPLICA_ACK: "1",
      REDIS_REPLICA_ACK_TIMEOUT_MS: "1000",
    });
    const stock = 300;
    const saleId = await createSale(api, stock);
    mysqlProxy.slow(100);

    const firstWave = await clickAll(api, saleId, buyerNames("first", 200));
    // Fail over right after the first wave's 202s, with the second wave under way: the primary dies, its replica
    // takes over the address and gets a replica of its own, as Tair's high availability does.
    const secondWave = clickAll(api, saleId, buyerNames("second", 200));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await primary.crash();
    await replicaClient.replicaof("NO", "ONE");
    redisAddress.retarget({ host: "127.0.0.1", port: replica.port });
    await startRedis({ args: ["--replicaof", "127.0.0.1", String(replica.port)] });
    const clicks = [...firstWave, ...(await secondWave)];
    const ledger = new OrderLedger();
    ledger.record(clicks);
    await mysqlProxy.restore();

    const lookups = await finalLookups(api, ledger.accepted);
    const rows = await orderRows(resources.pool, saleId);
    const everyAnswer = clicks.flatMap((click) => click.answers);
    const figures = {
      ...ledger.figures(rows),
      finalAnswers: statusCounts(clicks.map((click) => click.final)),
      outcomeUnknown: everyAnswer.filter((answer) => answer.json?.error === "outcome_unknown").length,
      lookups: lookupFigures(lookups),
    };
    report("case 2, primary failure with REDIS_REPLICA_ACK=1", figures);

    expect(figures.accepted).toBeGreaterThan(0);
    expect(figures.acceptedWithoutOrder).toBe(0);
    expect(figures.idsOfSeveralBuyers).toBe(0);
    expect(figures.lookups).toEqual({ confirmed: figures.accepted });
    // A buyer holding an order they were not told about was told the outcome was unknown (and can ask for it).
    const toldUncertain = new Set(
      clicks.filter((click) => click.answers.some((a) => a.json?.error === "outcome_unknown")).map((c) => c.buyer),
    );
    const told = new Set(ledger.accepted.map(({ buyer }) => buyer));
    for (const buyer of rows.values()) expect(told.has(buyer) || toldUncertain.has(buyer)).toBe(true);
  }, 180_000);
});
