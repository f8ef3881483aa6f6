import type { RedisClient } from "../../../app/platform/redis";
import type { Pool, RowDataPacket } from "mysql2/promise";
import {
  orderEventsStreamKey,
  publishOrderEvents,
  redisEventSink,
  type OrderEventSink,
  type OrderStateChange,
} from "../../../app/orders/order-events";
import { OrderExpiry, payOrder } from "../../../app/orders/order-lifecycle";
import { findOrder } from "../../../app/orders/order-store";
import { SaleRebuilder } from "../../../app/orders/sale-rebuilder";
import { createMysqlPool } from "../../../app/platform/mysql";
import { createRedis } from "../../../app/platform/redis";
import { saleKeys } from "../../../app/sales/reservations";
import type { Sale } from "../../../app/sales/sale";
import { UnitReturns } from "../../../app/sales/unit-returns";
import { buyAndConfirm, openSale } from "../support/confirmed-orders";
import { captureLogs } from "../support/log-capture";
import { dataTierForTestFile } from "../support/data-tier";
import { waitUntil } from "../support/wait";

const tier = dataTierForTestFile();

const logger = captureLogs().logger;

function sweeper(pool: Pool = tier.resources.pool, client: RedisClient = tier.redis): OrderExpiry {
  return new OrderExpiry({ pool, unitReturns: new UnitReturns(client, tier.resources.keyPrefix), logger });
}

const newSale = (stock: number) => openSale(tier.resources.pool, tier.reservations, stock);
const buy = (sale: Sale, buyers: string[]) => buyAndConfirm(tier.resources.pool, tier.reservations, sale, buyers);

/** Closes the payment window of these orders now (MySQL's clock), instead of waiting it out. */
async function closeWindow(orderIds: readonly string[]): Promise<void> {
  await tier.resources.pool.query("UPDATE orders SET pay_by = NOW(3) - INTERVAL 1 SECOND WHERE id IN (?)", [orderIds]);
}

async function statusOf(orderId: string): Promise<string | undefined> {
  return (await findOrder(tier.resources.pool, orderId)).order?.status;
}

async function saleState(sale: Sale) {
  const keys = saleKeys(tier.resources.keyPrefix, sale.id);
  const [[row]] = await tier.resources.pool.query<RowDataPacket[]>("SELECT sold FROM sales WHERE id = ?", [sale.id]);
  return {
    redisSold: Number(await tier.redis.hget(keys.sale, "sold")),
    buyers: await tier.redis.hlen(keys.buyers),
    mysqlSold: Number(row.sold),
  };
}

describe("pay or expire", () => {
  it("keeps paid orders, expires unpaid ones, and sells their units again to exactly as many new buyers", async () => {
    const sale = await newSale(4);
    const orders = await buy(sale, ["a", "b", "c", "d"]);
    expect(await tier.reservations.reserve(sale.id, "late")).toEqual({ kind: "sold_out" });
    for (const userId of ["a", "b"]) {
      expect(await payOrder(tier.resources.pool, { orderId: orders.get(userId)!, userId, paymentRef: `ref-${userId}` })).toEqual({
        kind: "paid",
        userId,
      });
    }
    await closeWindow([...orders.values()]);

    expect(await sweeper().sweep()).toEqual({ expired: 2, returned: 2 });

    expect(await statusOf(orders.get("a")!)).toBe("paid");
    expect(await statusOf(orders.get("c")!)).toBe("expired");
    expect(await saleState(sale)).toEqual({ redisSold: 2, buyers: 2, mysqlSold: 2 });
    // The sold-out flag this process set goes at the next recheck (every SOLD_OUT_RECHECK_MS in a worker).
    expect(tier.reservations.knownClosed(sale.id)).toBe("sold_out");
    await tier.reservations.recheckSoldOut();
    expect(tier.reservations.knownClosed(sale.id)).toBeUndefined();
    const again = await Promise.all(["e", "f", "g"].map((userId) => tier.reservations.reserve(sale.id, userId)));
    expect(again.map((outcome) => outcome.kind).sort()).toEqual(["reserved", "reserved", "sold_out"]);
    expect(await sweeper().sweep()).toEqual({ expired: 0, returned: 0 });
  });

  it("gives an expired order's unit back to its buyer's bucket of a sale in stock buckets, where any new buyer can take it", async () => {
    const sale = await openSale(tier.resources.pool, tier.reservations, 8, 60, 4);
    const buyers = Array.from({ length: 8 }, (_, i) => `bucketed-${i}`);
    const orders = await buy(sale, buyers);
    expect(await tier.reservations.reserve(sale.id, "late-0")).toEqual({ kind: "sold_out" });
    await closeWindow(buyers.slice(0, 3).map((userId) => orders.get(userId)!));

    expect(await sweeper().sweep()).toEqual({ expired: 3, returned: 3 });
    await tier.reservations.recheckSoldOut();
    expect(tier.reservations.knownClosed(sale.id)).toBeUndefined();
    // One after another, so no unit is on its way between buckets when a buyer asks: exactly three get one.
    const outcomes = [];
    for (const userId of ["bucketed-0", ...Array.from({ length: 6 }, (_, i) => `late-${i + 1}`)]) {
      outcomes.push((await tier.reservations.reserve(sale.id, userId)).kind);
    }
    expect(outcomes).toEqual(["reserved", "reserved", "reserved", "sold_out", "sold_out", "sold_out", "sold_out"]);
    expect((await tier.reservations.readSale(sale.id)) as { sale: Sale }).toMatchObject({ sale: { stock: 8, sold: 8 } });
    expect(await sweeper().sweep()).toEqual({ expired: 0, returned: 0 });
  });

  it("lets a buyer whose order expired buy again, and confirms the new order in MySQL", async () => {
    const sale = await newSale(1);
    const first = (await buy(sale, ["a"])).get("a")!;
    await closeWindow([first]);
    await sweeper().sweep();
    const second = (await buy(sale, ["a"])).get("a")!;
    expect(second).not.toBe(first);
    expect(await statusOf(second)).toBe("confirmed");
    expect(await statusOf(first)).toBe("expired");
    expect(await saleState(sale)).toEqual({ redisSold: 1, buyers: 1, mysqlSold: 1 });
  });

  it("records paying twice as one payment, and refuses paying an expired order", async () => {
    const sale = await newSale(2);
    const orders = await buy(sale, ["a", "b"]);
    const payA = { orderId: orders.get("a")!, userId: "a", paymentRef: "twice-a" };
    expect(await payOrder(tier.resources.pool, payA)).toEqual({ kind: "paid", userId: "a" });
    expect(await payOrder(tier.resources.pool, payA)).toEqual({ kind: "paid", userId: "a" });
    expect(await payOrder(tier.resources.pool, { orderId: payA.orderId, paymentRef: "twice-other" })).toEqual({ kind: "paid_otherwise" });
    // The buyer asking again is told it is paid, whoever's payment it was.
    expect(await payOrder(tier.resources.pool, { ...payA, paymentRef: "twice-other" })).toEqual({ kind: "paid", userId: "a" });
    expect(await payOrder(tier.resources.pool, { orderId: orders.get("b")!, userId: "b", paymentRef: "twice-a" })).toEqual({
      kind: "reference_reused",
    });
    expect(await payOrder(tier.resources.pool, { ...payA, userId: "b" })).toEqual({ kind: "not_found" });

    await closeWindow([orders.get("b")!]);
    // Past pay_by the window is closed even before a sweep has expired it.
    expect(await payOrder(tier.resources.pool, { orderId: orders.get("b")!, userId: "b", paymentRef: "ref-b" })).toEqual({
      kind: "window_closed",
    });
    await sweeper().sweep();
    expect(await payOrder(tier.resources.pool, { orderId: orders.get("b")!, userId: "b", paymentRef: "ref-b" })).toEqual({
      kind: "window_closed",
    });
    const [events] = await tier.resources.pool.query<RowDataPacket[]>(
      "SELECT order_id, status FROM order_events WHERE sale_id = ? ORDER BY id",
      [sale.id],
    );
    expect(events.map((row) => [row.order_id, row.status])).toEqual([
      [orders.get("a"), "confirmed"],
      [orders.get("b"), "confirmed"],
      [orders.get("a"), "paid"],
      [orders.get("b"), "expired"],
    ]);
  });

  it("gives a payment racing the expiry exactly one outcome", async () => {
    const buyers = Array.from({ length: 20 }, (_, i) => `racer${i}`);
    const sale = await newSale(buyers.length);
    const orders = await buy(sale, buyers);
    // The window closes while the payments are in flight: each one lands before the sweep's compare-and-set or after.
    await tier.resources.pool.query("UPDATE orders SET pay_by = NOW(3) + INTERVAL 0.2 SECOND WHERE sale_id = ?", [sale.id]);
    const payments = Promise.all(
      buyers.map((userId) => payOrder(tier.resources.pool, { orderId: orders.get(userId)!, userId, paymentRef: `r-${userId}` })),
    );
    const sweeps = (async () => {
      const outcomes = [];
      for (let i = 0; i < 10; i++) outcomes.push(await sweeper().sweep());
      return outcomes;
    })();
    const [paid] = await Promise.all([payments, sweeps]);
    await closeWindow([...orders.values()]);
    await sweeper().sweep();

    for (const [i, userId] of buyers.entries()) {
      const status = await statusOf(orders.get(userId)!);
      expect(status).toBe(paid[i].kind === "paid" ? "paid" : "expired");
    }
    const paidCount = paid.filter((outcome) => outcome.kind === "paid").length;
    expect(await saleState(sale)).toEqual({ redisSold: paidCount, buyers: paidCount, mysqlSold: paidCount });
  });
});

describe("expiry under concurrency and crashes", () => {
  it("returns each unit once with two order writers (their own connections) sweeping the same sale at once", async () => {
    const buyers = Array.from({ length: 30 }, (_, i) => `u${i}`);
    const sale = await newSale(buyers.length);
    const orders = await buy(sale, buyers);
    await closeWindow([...orders.values()]);
    const otherRedis = createRedis(tier.resources.config().redis, "background");
    const otherPool = createMysqlPool(tier.resources.config().mysql, 2);
    try {
      const outcomes = await Promise.all([sweeper().sweep(), sweeper(otherPool, otherRedis).sweep(), sweeper().sweep()]);
      expect(outcomes.reduce((sum, o) => sum + o.expired, 0)).toBe(30);
      expect(outcomes.reduce((sum, o) => sum + o.returned, 0)).toBe(30);
    } finally {
      otherRedis.disconnect();
      await otherPool.end();
    }
    expect(await saleState(sale)).toEqual({ redisSold: 0, buyers: 0, mysqlSold: 0 });
    expect(Number(await tier.redis.hget(saleKeys(tier.resources.keyPrefix, sale.id).sale, "returned"))).toBe(30);
  });

  it("goes on batch after batch until every order due is expired and every unit returned", async () => {
    const buyers = Array.from({ length: 7 }, (_, i) => `batch${i}`);
    const sale = await newSale(buyers.length);
    const orders = await buy(sale, buyers);
    await closeWindow([...orders.values()]);
    const small = new OrderExpiry({
      pool: tier.resources.pool,
      unitReturns: new UnitReturns(tier.redis, tier.resources.keyPrefix),
      logger,
      batchSize: 2,
    });
    expect(await small.sweep()).toEqual({ expired: 7, returned: 7 });
    expect(await saleState(sale)).toEqual({ redisSold: 0, buyers: 0, mysqlSold: 0 });
  });

  it("after a crash between the MySQL update and the Redis return, the next sweep returns the unit, once", async () => {
    const sale = await newSale(2);
    const orders = await buy(sale, ["a", "b"]);
    // What a sweeper killed right after its commit leaves: expired in MySQL, unit still held in Redis.
    await tier.resources.pool.query("UPDATE orders SET status = 'expired' WHERE id = ?", [orders.get("a")]);
    await tier.resources.pool.query("UPDATE sales SET sold = sold - 1 WHERE id = ?", [sale.id]);
    expect(await saleState(sale)).toEqual({ redisSold: 2, buyers: 2, mysqlSold: 1 });

    expect(await sweeper().sweep()).toEqual({ expired: 0, returned: 1 });
    expect(await sweeper().sweep()).toEqual({ expired: 0, returned: 0 });
    expect(await saleState(sale)).toEqual({ redisSold: 1, buyers: 1, mysqlSold: 1 });
  });

  it("after a crash between the Redis return and marking it in MySQL, the next sweep returns nothing twice", async () => {
    const sale = await newSale(2);
    const orders = await buy(sale, ["a", "b"]);
    await closeWindow([orders.get("a")!]);
    const crashing = new OrderExpiry({
      pool: tier.resources.pool,
      // The return happens; the process dies before it can record it.
      unitReturns: {
        returnUnit: async (...args: Parameters<UnitReturns["returnUnit"]>) => {
          await new UnitReturns(tier.redis, tier.resources.keyPrefix).returnUnit(...args);
          throw new Error("killed");
        },
      },
      logger,
    });
    await expect(crashing.sweep()).rejects.toThrow("killed");
    expect(await saleState(sale)).toEqual({ redisSold: 1, buyers: 1, mysqlSold: 1 });

    expect(await sweeper().sweep()).toEqual({ expired: 0, returned: 0 });
    const [[row]] = await tier.resources.pool.query<RowDataPacket[]>("SELECT unit_returned FROM orders WHERE id = ?", [orders.get("a")]);
    expect(row.unit_returned).toBe(1);
    expect(await saleState(sale)).toEqual({ redisSold: 1, buyers: 1, mysqlSold: 1 });
  });

  it("rebuilds a sale's Redis state from MySQL without its expired orders", async () => {
    const sale = await newSale(3);
    const orders = await buy(sale, ["a", "b", "c"]);
    await closeWindow([orders.get("b")!]);
    await sweeper().sweep();
    await tier.redis.del(saleKeys(tier.resources.keyPrefix, sale.id).sale);
    expect(
      await new SaleRebuilder({ redis: tier.redis, pool: tier.resources.pool, keyPrefix: tier.resources.keyPrefix, logger }).rebuild(
        sale.id,
        "test",
      ),
    ).toBe(true);
    expect(await tier.redis.hgetall(saleKeys(tier.resources.keyPrefix, sale.id).buyers)).toEqual({
      a: orders.get("a"),
      c: orders.get("c"),
    });
    expect(await saleState(sale)).toEqual({ redisSold: 2, buyers: 2, mysqlSold: 2 });
  });
});

describe("order events", () => {
  it("publishes every state change from the outbox once, keyed by order and state; a republish after a crash repeats the key", async () => {
    const sale = await newSale(2);
    const orders = await buy(sale, ["a", "b"]);
    await payOrder(tier.resources.pool, { orderId: orders.get("a")!, userId: "a", paymentRef: "events-a" });
    await closeWindow([orders.get("b")!]);
    await sweeper().sweep();

    // A publisher that dies before marking its rows: they stay in the outbox.
    const dying: OrderEventSink = {
      async publish(changes) {
        await redisEventSink(tier.redis, tier.resources.keyPrefix).publish(changes);
        throw new Error("killed");
      },
    };
    await expect(publishOrderEvents(tier.resources.pool, dying)).rejects.toThrow("killed");
    // Its rows stay locked (and skipped) until the server notices the destroyed connection and rolls back.
    const publisher = redisEventSink(tier.redis, tier.resources.keyPrefix);
    await waitUntil(async () => {
      await publishOrderEvents(tier.resources.pool, publisher);
      return (await unpublishedEvents()) === 0;
    }, "the outbox to drain after the dead publisher");

    const entries = await tier.redis.xrange(orderEventsStreamKey(tier.resources.keyPrefix), "-", "+");
    const keys = entries.map(([, fields]) => fields[fields.indexOf("key") + 1]).filter((key) => key.startsWith(sale.id));
    const expected = [
      `${orders.get("a")}:confirmed`,
      `${orders.get("b")}:confirmed`,
      `${orders.get("a")}:paid`,
      `${orders.get("b")}:expired`,
    ];
    // Everything twice (the dead publisher's copy, then the real one), in order, and nothing else.
    expect(keys).toEqual([...expected, ...expected]);
  });

  it("writes each change as one stream entry whose fields are the change's, in the order given", async () => {
    const changes: OrderStateChange[] = ["confirmed", "paid", "expired"].map((status, i) => ({
      key: `order-${i}:${status}`,
      orderId: `order-${i}`,
      saleId: "sale-x",
      userId: `buyer-${i}`,
      status: status as OrderStateChange["status"],
      occurredAt: new Date(Date.UTC(2026, 11, 8, 0, 0, i)).toISOString(),
    }));
    const stream = orderEventsStreamKey(tier.resources.keyPrefix);
    const before = await tier.redis.xlen(stream);
    await redisEventSink(tier.redis, tier.resources.keyPrefix).publish(changes);

    const entries = (await tier.redis.xrange(stream, "-", "+")).slice(before);
    expect(entries.map(([, fields]) => fields)).toEqual(changes.map((change) => Object.entries(change).flat()));
  });

  async function unpublishedEvents(): Promise<number> {
    const [[row]] = await tier.resources.pool.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS unpublished FROM order_events WHERE published_at IS NULL",
    );
    return Number(row.unpublished);
  }
});
