import { OrderWriter } from "../../../app/orders/order-writer";
import { parseOrderEvent } from "../../../app/orders/order-store";
import { bucketKeys, ORDER_WRITER_GROUP, Reservations, saleKeys, salesIndexKey } from "../../../app/sales/reservations";
import { StockMoves } from "../../../app/sales/stock-moves";
import { newSaleId, type Sale } from "../../../app/sales/sale";
import { countOrders, insertSale } from "../../../app/sales/sale-store";
import { createMysqlPool } from "../../../app/platform/mysql";
import { orderWriterSlowCycles } from "../../../app/platform/metrics";
import { PIPELINE_LOG_MESSAGE } from "../../../contract/pipeline-log";
import { captureLogs } from "../support/log-capture";
import { orderIdFor } from "../support/order-ids";
import { openSale } from "../support/sales";
import { MYSQL_HOST, MYSQL_PORT } from "../support/resources";
import { TcpProxy } from "../support/tcp-proxy";
import { waitUntil } from "../support/wait";
import { dataTierForTestFile } from "../support/data-tier";

const tier = dataTierForTestFile();

const HOUR = 3_600_000;
const running: OrderWriter[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((writer) => writer.stop()));
});

function startWriter(options: Partial<ConstructorParameters<typeof OrderWriter>[0]> = {}) {
  const logs = options.logger ? { logger: options.logger, lines: [] } : captureLogs();
  const writer = new OrderWriter({
    redis: tier.redis,
    pool: tier.resources.pool,
    keyPrefix: tier.resources.keyPrefix,
    consumer: "writer-a",
    logger: logs.logger,
    idleDelayMs: 20,
    ...options,
  });
  writer.start();
  running.push(writer);
  return { writer, logs };
}

async function newSale(stock: number, { mysqlStock = stock, inMysql = true, stockBuckets = 1 } = {}): Promise<Sale> {
  const sale = openSale(stock, stockBuckets);
  if (inMysql) await insertSale(tier.resources.pool, { ...sale, stock: mysqlStock });
  await tier.reservations.loadSale(sale);
  return sale;
}

async function reserveFor(sale: Sale, buyers: number, prefix = "buyer"): Promise<void> {
  await Promise.all(Array.from({ length: buyers }, (_, i) => tier.reservations.reserve(sale.id, `${prefix}${i}`)));
}

async function pendingCount(sale: Sale): Promise<number> {
  const [count] = (await tier.redis.xpending(saleKeys(tier.resources.keyPrefix, sale.id).orders, ORDER_WRITER_GROUP)) as [number];
  return count;
}

describe("the order writer", () => {
  it("confirms every reserved order in MySQL, then acknowledges its stream entry and trims it from the stream", async () => {
    const sale = await newSale(1000);
    await reserveFor(sale, 700);
    startWriter({ batchSize: 200 });
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 700, "700 confirmed orders");
    // Acknowledged (and deleted) just after each commit.
    await waitUntil(async () => (await tier.redis.xlen(saleKeys(tier.resources.keyPrefix, sale.id).orders)) === 0, "an empty stream");
    expect(await pendingCount(sale)).toBe(0);
  });

  it("takes over entries a dead consumer had read but never acknowledged", async () => {
    const sale = await newSale(50);
    await reserveFor(sale, 20);
    await tier.redis.xreadgroup(
      "GROUP",
      ORDER_WRITER_GROUP,
      "dead-host",
      "COUNT",
      20,
      "STREAMS",
      saleKeys(tier.resources.keyPrefix, sale.id).orders,
      ">",
    );
    expect(await pendingCount(sale)).toBe(20);
    const { logs } = startWriter({ claimIdleMs: 100 });
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 20, "20 confirmed orders");
    await waitUntil(async () => (await pendingCount(sale)) === 0, "no pending entries");
    expect(logs.lines.some((line) => line.msg === "claimed order events abandoned by another consumer")).toBe(true);
  });

  it("after a restart under the same consumer name, finishes the entries it had read before dying", async () => {
    const sale = await newSale(50);
    await reserveFor(sale, 15);
    await tier.redis.xreadgroup(
      "GROUP",
      ORDER_WRITER_GROUP,
      "writer-a",
      "COUNT",
      15,
      "STREAMS",
      saleKeys(tier.resources.keyPrefix, sale.id).orders,
      ">",
    );
    startWriter({ claimIdleMs: HOUR });
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 15, "15 confirmed orders");
    await waitUntil(async () => (await pendingCount(sale)) === 0, "no pending entries");
  });

  it("moves an entry MySQL refuses, or cannot read, to the dead-letter stream with a log line, and confirms the rest of its batch", async () => {
    // MySQL believes there are 2 units while Redis hands out 3: the third order cannot be confirmed.
    const sale = await newSale(3, { mysqlStock: 2 });
    await reserveFor(sale, 3);
    const keys = saleKeys(tier.resources.keyPrefix, sale.id);
    await tier.redis.xadd(keys.orders, "*", "orderId", "garbage");
    const { logs } = startWriter({ maxAttempts: 3 });
    await waitUntil(async () => (await tier.redis.xlen(keys.deadLetters)) === 2, "two dead letters");
    await waitUntil(async () => (await tier.redis.xlen(keys.orders)) === 0, "an empty order stream");
    expect(await countOrders(tier.resources.pool, sale.id)).toBe(2);
    const deadLetters = await tier.redis.xrange(keys.deadLetters, "-", "+");
    const reasons = deadLetters.map(([, fields]) => fields[fields.indexOf("error") + 1]);
    expect(reasons).toEqual(expect.arrayContaining(["malformed order event", expect.stringContaining("exceed the stock")]));
    const deadLetterLogs = logs.lines.filter((line) => line.msg === "order event moved to the dead-letter stream");
    expect(deadLetterLogs).toHaveLength(2);
    expect(deadLetterLogs.every((line) => line.level === 50)).toBe(true);
    expect(await pendingCount(sale)).toBe(0);
    // Redis sold a unit MySQL does not have: its state is rebuilt from MySQL, which it disagreed with.
    await waitUntil(() => logs.lines.some((line) => line.msg === "sale's Redis state rebuilt from MySQL"), "the sale rebuilt");
    expect(await tier.redis.hmget(keys.sale, "stock", "sold", "generation")).toEqual(["2", "2", "2"]);
  });

  it("keeps entries pending while MySQL is unreachable and confirms every one once it is back", async () => {
    const proxy = await TcpProxy.start({ host: MYSQL_HOST, port: MYSQL_PORT });
    const pool = createMysqlPool({ ...tier.resources.config().mysql, port: proxy.port }, 2);
    try {
      const sale = await newSale(100);
      await proxy.cut();
      await reserveFor(sale, 60);
      const { logs } = startWriter({ pool });
      await waitUntil(() => logs.lines.filter((line) => line.msg.startsWith("order writer cycle failed")).length >= 2, "failed attempts");
      expect(await countOrders(tier.resources.pool, sale.id)).toBe(0);
      expect(await tier.redis.xlen(saleKeys(tier.resources.keyPrefix, sale.id).orders)).toBe(60);
      await proxy.restore();
      await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 60, "60 confirmed orders");
      await waitUntil(
        async () => (await tier.redis.xlen(saleKeys(tier.resources.keyPrefix, sale.id).orders)) === 0,
        "an empty order stream",
      );
      expect(await tier.redis.exists(saleKeys(tier.resources.keyPrefix, sale.id).deadLetters)).toBe(0);
    } finally {
      await Promise.all(running.splice(0).map((writer) => writer.stop()));
      await pool.end();
      await proxy.close();
    }
  });

  it("reports a cycle stalled on a silent MySQL (a warning and a metric), and confirms every order once it answers again", async () => {
    const proxy = await TcpProxy.start({ host: MYSQL_HOST, port: MYSQL_PORT });
    const pool = createMysqlPool({ ...tier.resources.config().mysql, port: proxy.port }, 2);
    try {
      const sale = await newSale(20);
      const slowBefore = (await orderWriterSlowCycles.get()).values[0]?.value ?? 0;
      proxy.blackhole();
      await reserveFor(sale, 20);
      const { logs } = startWriter({ pool, slowCycleMs: 300 });
      await waitUntil(
        () => logs.lines.some((line) => line.msg === "order writer cycle is slow: Redis or MySQL may have stalled"),
        "the watchdog's warning",
      );
      expect((await orderWriterSlowCycles.get()).values[0].value).toBeGreaterThan(slowBefore);
      await proxy.restore();
      await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 20, "20 confirmed orders");
    } finally {
      await Promise.all(running.splice(0).map((writer) => writer.stop()));
      // A connection attempt made while the proxy was silent may still be failing: that is not this test's finding.
      await pool.end().catch(() => undefined);
      await proxy.close();
    }
  });

  it("logs the pipeline's figures once per interval: the lag and backlog while MySQL is away, then the dead letters", async () => {
    const proxy = await TcpProxy.start({ host: MYSQL_HOST, port: MYSQL_PORT });
    const pool = createMysqlPool({ ...tier.resources.config().mysql, port: proxy.port }, 2);
    try {
      // MySQL believes there are 2 units while Redis hands out 3: the third order is refused and dead-lettered.
      const sale = await newSale(3, { mysqlStock: 2 });
      await proxy.cut();
      await reserveFor(sale, 3);
      await tier.redis.xadd(saleKeys(tier.resources.keyPrefix, sale.id).orders, "*", "orderId", "garbage");
      // A logger that drops info lines: the pipeline's line is logged all the same.
      const { logger, lines } = captureLogs();
      logger.level = "warn";
      startWriter({ pool, logger, pipelineReportMs: 100 });
      const pipelineLines = () => lines.filter((line) => line.msg === PIPELINE_LOG_MESSAGE);
      await waitUntil(() => pipelineLines().some((line) => (line.backlog as number) >= 4 && (line.lagSeconds as number) > 0), "a backlog");
      for (const line of pipelineLines()) {
        expect(line).toMatchObject({ level: 30, lagSeconds: expect.any(Number), backlog: expect.any(Number), deadLetters: 0 });
      }
      await proxy.restore();
      await waitUntil(() => pipelineLines().reduce((sum, line) => sum + (line.deadLetters as number), 0) === 2, "two dead letters logged");
      await waitUntil(() => pipelineLines().at(-1)!.backlog === 0, "an empty backlog");
      // The refusal has the sale rebuilt from MySQL (a warning): that is this writer's to finish, not the next test's.
      await waitUntil(() => lines.some((line) => line.msg === "sale's Redis state rebuilt from MySQL"), "the sale rebuilt");
    } finally {
      await Promise.all(running.splice(0).map((writer) => writer.stop()));
      await pool.end().catch(() => undefined);
      await proxy.close();
    }
  });

  it("keeps watching for a sale registered but not loaded yet, and drains the others meanwhile", async () => {
    const notYetLoaded = newSaleId();
    await tier.redis.sadd(salesIndexKey(tier.resources.keyPrefix), notYetLoaded);
    const sale = await newSale(10);
    await reserveFor(sale, 10);
    const { logs } = startWriter();
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 10, "10 confirmed orders");
    expect(logs.lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(await tier.redis.sismember(salesIndexKey(tier.resources.keyPrefix), notYetLoaded)).toBe(1);
  });

  it("stops only after the batch in progress is committed and acknowledged", async () => {
    const sale = await newSale(500);
    await reserveFor(sale, 500);
    const { writer } = startWriter({ batchSize: 100 });
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) > 0, "the first confirmed orders");
    await writer.stop();
    const confirmed = await countOrders(tier.resources.pool, sale.id);
    expect(await pendingCount(sale)).toBe(0);
    expect(await tier.redis.xlen(saleKeys(tier.resources.keyPrefix, sale.id).orders)).toBe(500 - confirmed);
  });
});

describe("parseOrderEvent", () => {
  const saleId = "0123456789abcdef";
  const orderId = orderIdFor(saleId, "alice");
  const fields = ["orderId", orderId, "saleId", saleId, "userId", "alice", "reservedAt", "1700000000000"];

  it("confirms the orders of every bucket of a sale, and rebuilds all of them when Redis lost one, voiding moves", async () => {
    const sale = await newSale(40, { stockBuckets: 4 });
    await reserveFor(sale, 30);
    const { logs } = startWriter();
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 30, "the orders of every bucket confirmed");
    // A move cut short (its units in a donor's record), then Redis loses bucket 3 with its buyers.
    const stockMoves = new StockMoves(tier.redis, tier.resources.keyPrefix);
    const moves = await Promise.all([0, 1, 2, 3].map((donor) => stockMoves.give(sale.id, donor, (donor + 1) % 4, 1, 1)));
    expect(moves.some((move) => move !== undefined)).toBe(true);
    const lost = bucketKeys(tier.resources.keyPrefix, sale.id, 3);
    // Long after its creation, when a missing bucket can only mean Redis lost it.
    await tier.resources.pool.query("UPDATE sales SET created_at = NOW(3) - INTERVAL 1 MINUTE WHERE id = ?", [sale.id]);
    await tier.redis.del(lost.sale, lost.buyers, lost.orders);
    await waitUntil(() => logs.lines.some((line) => line.msg === "sale's Redis state rebuilt from MySQL"), "the sale rebuilt");
    await waitUntil(async () => (await tier.reservations.readSale(sale.id)).kind === "found", "the sale back");
    expect(await tier.reservations.readSale(sale.id)).toMatchObject({ sale: { stock: 40, sold: 30, stockBuckets: 4 } });
    expect(await stockMoves.pending(sale.id, 4)).toEqual([]);
    // Every buyer is back in their home bucket, and the 10 unsold units are for sale again, no more.
    const again = new Reservations(tier.redis, tier.resources.keyPrefix);
    const outcomes = await Promise.all(Array.from({ length: 45 }, (_, i) => again.reserve(sale.id, `buyer${i}`)));
    expect(outcomes.filter((o) => o.kind === "already_purchased")).toHaveLength(30);
    expect(outcomes.filter((o) => o.kind === "reserved")).toHaveLength(10);
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 40, "every unit confirmed");
  });

  it("reads the fields the reservation script writes", () => {
    expect(parseOrderEvent(fields)).toEqual({ orderId, saleId, userId: "alice", reservedAt: 1_700_000_000_000 });
  });

  it.each([
    ["a missing field", fields.slice(0, 6)],
    ["an order id of another sale", ["orderId", orderIdFor("fedcba9876543210", "alice"), ...fields.slice(2)]],
    ["an order id in the old `<saleId>-<unit>` form", ["orderId", `${saleId}-7`, ...fields.slice(2)]],
    ["a bad user id", [...fields.slice(0, 5), "al ice", ...fields.slice(6)]],
    ["a bad time", [...fields.slice(0, 7), "soon"]],
  ])("rejects %s", (_what, bad) => {
    expect(parseOrderEvent(bad)).toBeUndefined();
  });
});
