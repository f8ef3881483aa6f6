import Redis from "ioredis";
import { neverSent } from "../../../app/platform/redis";
import { ReplicaAck } from "../../../app/sales/replica-ack";
import { MAX_BATCH, ORDER_WRITER_GROUP, Reservations, saleKeys, salesIndexKey } from "../../../app/sales/reservations";
import { buyerTag, FIRST_GENERATION, newSaleId, ORDER_ID_PATTERN, parseOrderId, type Sale } from "../../../app/sales/sale";
import { createTestResources, REDIS_HOST, REDIS_PORT, type TestResources } from "../support/resources";

const HOUR = 3_600_000;
let resources: TestResources;
let redis: Redis;
let reservations: Reservations;

beforeAll(async () => {
  resources = await createTestResources();
  redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT });
  reservations = new Reservations(redis, resources.keyPrefix);
});

afterAll(async () => {
  redis.disconnect();
  await resources.dispose();
});

async function loadedSale(overrides: Partial<Sale> = {}): Promise<Sale> {
  const now = Date.now();
  const sale: Sale = { id: newSaleId(), itemName: "Phone", stock: 10, sold: 0, startsAt: now - HOUR, endsAt: now + HOUR, ...overrides };
  expect(await reservations.loadSale(sale)).toBe(true);
  return sale;
}

describe("the reservation script", () => {
  it("hands out exactly `stock` units to many concurrent buyers and records one order event per unit", async () => {
    const sale = await loadedSale({ stock: 50 });
    const outcomes = await Promise.all(Array.from({ length: 500 }, (_, i) => reservations.reserve(sale.id, `buyer${i}`)));
    const reserved = outcomes.filter((o) => o.kind === "reserved");
    expect(reserved).toHaveLength(50);
    expect(outcomes.filter((o) => o.kind === "sold_out")).toHaveLength(450);
    const orderIds = reserved.map((o) => ("orderId" in o ? o.orderId : ""));
    expect(new Set(orderIds).size).toBe(50);
    for (const orderId of orderIds) expect(parseOrderId(orderId)).toMatchObject({ saleId: sale.id, generation: FIRST_GENERATION });
    const keys = saleKeys(resources.keyPrefix, sale.id);
    expect(await redis.hget(keys.sale, "sold")).toBe("50");
    expect(await redis.hlen(keys.buyers)).toBe(50);
    expect(await redis.xlen(keys.orders)).toBe(50);
  });

  it("gives a buyer one unit: a second attempt answers already_purchased with the same order id", async () => {
    const sale = await loadedSale();
    const first = await reservations.reserve(sale.id, "alice");
    const second = await reservations.reserve(sale.id, "alice");
    expect(first).toEqual({ kind: "reserved", orderId: expect.stringMatching(ORDER_ID_PATTERN) });
    expect(second).toEqual({ kind: "already_purchased", orderId: (first as { orderId: string }).orderId });
    expect(await redis.xlen(saleKeys(resources.keyPrefix, sale.id).orders)).toBe(1);
  });

  it("lets a buyer racing themself take one unit", async () => {
    const sale = await loadedSale();
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => reservations.reserve(sale.id, "racer")));
    expect(outcomes.filter((o) => o.kind === "reserved")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "already_purchased")).toHaveLength(29);
    expect(await redis.hget(saleKeys(resources.keyPrefix, sale.id).sale, "sold")).toBe("1");
  });

  it("enforces the window [startsAt, endsAt) by Redis's clock", async () => {
    const [seconds] = await redis.time();
    const redisNow = Number(seconds) * 1000;
    const upcoming = await loadedSale({ startsAt: redisNow + HOUR, endsAt: redisNow + 2 * HOUR });
    const over = await loadedSale({ startsAt: redisNow - 2 * HOUR, endsAt: redisNow - HOUR });
    const open = await loadedSale({ startsAt: redisNow - HOUR, endsAt: redisNow + HOUR });
    expect(await reservations.reserve(upcoming.id, "early")).toEqual({ kind: "not_started" });
    expect(await reservations.reserve(over.id, "late")).toEqual({ kind: "ended" });
    expect(await reservations.reserve(open.id, "onTime")).toMatchObject({ kind: "reserved" });
    for (const sale of [upcoming, over]) expect(await redis.hget(saleKeys(resources.keyPrefix, sale.id).sale, "sold")).toBe("0");
  });

  it("answers unknown_sale and writes nothing for a sale that was never loaded", async () => {
    const saleId = newSaleId();
    expect(await reservations.reserve(saleId, "alice")).toEqual({ kind: "unknown_sale" });
    const keys = saleKeys(resources.keyPrefix, saleId);
    expect(await redis.exists(keys.sale, keys.buyers, keys.orders)).toBe(0);
  });

  it("writes an order event with the order id, sale, buyer and reservation time (Redis's)", async () => {
    const sale = await loadedSale();
    const [before] = await redis.time();
    const outcome = await reservations.reserve(sale.id, "frank");
    const [after] = await redis.time();
    const keys = saleKeys(resources.keyPrefix, sale.id);
    const [[, fields]] = await redis.xrange(keys.orders, "-", "+");
    expect(fields).toEqual([
      "orderId",
      (outcome as { orderId: string }).orderId,
      "saleId",
      sale.id,
      "userId",
      "frank",
      "reservedAt",
      expect.any(String),
    ]);
    expect(Number(fields[7])).toBeGreaterThanOrEqual(Number(before) * 1000);
    expect(Number(fields[7])).toBeLessThan((Number(after) + 1) * 1000);
  });

  it("makes order ids that name the sale, its generation and the buyer, from Redis's clock rather than a counter", async () => {
    const sale = await loadedSale();
    const outcome = await reservations.reserve(sale.id, "grace");
    const parts = parseOrderId((outcome as { orderId: string }).orderId);
    expect(parts).toEqual({ saleId: sale.id, generation: FIRST_GENERATION, buyerTag: buyerTag(sale.id, "grace") });
    // Redis going back to an older state must not hand the same id to someone else: no unit number in it.
    const keys = saleKeys(resources.keyPrefix, sale.id);
    await redis.multi().hset(keys.sale, "sold", 0).del(keys.buyers).exec();
    const again = await new Reservations(redis, resources.keyPrefix).reserve(sale.id, "heidi");
    expect((again as { orderId: string }).orderId).not.toBe((outcome as { orderId: string }).orderId);
  });

  it("stops a sale found behind what this process has seen, until it is rebuilt, and says so to every process", async () => {
    const sale = await loadedSale();
    await reservations.reserve(sale.id, "ivan");
    await reservations.reserve(sale.id, "judy");
    const keys = saleKeys(resources.keyPrefix, sale.id);
    // An older snapshot comes back: one unit sold, judy unknown.
    await redis.multi().hset(keys.sale, "sold", 1).hdel(keys.buyers, "judy").exec();
    expect(await reservations.reserve(sale.id, "judy")).toEqual({ kind: "rebuilding" });
    expect(await redis.hget(keys.sale, "rebuildReason")).toEqual(expect.stringContaining("behind"));
    const otherProcess = new Reservations(redis, resources.keyPrefix);
    expect(await otherProcess.reserve(sale.id, "karl")).toEqual({ kind: "rebuilding" });
    expect(await otherProcess.readSale(sale.id)).toEqual({ kind: "rebuilding" });
    expect(await redis.hget(keys.sale, "sold")).toBe("1");
  });

  it("answers rebuilding, not unknown_sale, for a sale MySQL says is live but Redis lost", async () => {
    const liveSales = { generation: (saleId: string) => (saleId === "0123456789abcdef" ? 1 : undefined) };
    const withCatalog = new Reservations(redis, resources.keyPrefix, { liveSales });
    expect(await withCatalog.reserve("0123456789abcdef", "alice")).toEqual({ kind: "rebuilding" });
    expect(await withCatalog.readSale("0123456789abcdef")).toEqual({ kind: "rebuilding" });
    expect(await withCatalog.reserve(newSaleId(), "alice")).toEqual({ kind: "unknown_sale" });
  });

  it("keeps every per-sale key under the sale's hash tag, so the script is valid on a cluster", async () => {
    const sale = await loadedSale();
    await reservations.reserve(sale.id, "alice");
    const keys = await redis.keys(`${resources.keyPrefix}*${sale.id}*`);
    expect(keys.length).toBe(3);
    for (const key of keys) expect(key.slice(key.indexOf("{"), key.indexOf("}") + 1)).toBe(`{sale:${sale.id}}`);
  });

  it("remembers in process that a sale is sold out or ended, so later attempts skip Redis", async () => {
    const soldOut = await loadedSale({ stock: 1 });
    await reservations.reserve(soldOut.id, "first");
    expect(reservations.knownClosed(soldOut.id)).toBeUndefined();
    await reservations.reserve(soldOut.id, "second");
    expect(reservations.knownClosed(soldOut.id)).toBe("sold_out");
    const ended = await loadedSale({ startsAt: 1, endsAt: 2 });
    await reservations.reserve(ended.id, "late");
    expect(reservations.knownClosed(ended.id)).toBe("ended");
  });
});

describe("batched reservations", () => {
  /** Counts the script calls a Reservations on the shared client makes. */
  function countScriptCalls(): jest.SpyInstance {
    return jest.spyOn(redis as unknown as { seckillReserve: (...args: unknown[]) => Promise<unknown> }, "seckillReserve");
  }

  afterEach(() => jest.restoreAllMocks());

  it("serves the orders of one event-loop turn with one script call, first come first served, each with its own answer", async () => {
    const sale = await loadedSale({ stock: 3 });
    const calls = countScriptCalls();
    const buyers = ["ann", "ben", "ann", "cat", "dan", "eve"];
    const outcomes = await Promise.all(buyers.map((buyer) => reservations.reserve(sale.id, buyer)));
    expect(calls).toHaveBeenCalledTimes(1);
    expect(outcomes.map((o) => o.kind)).toEqual(["reserved", "reserved", "already_purchased", "reserved", "sold_out", "sold_out"]);
    expect(outcomes[2]).toEqual(outcomes[0] && { kind: "already_purchased", orderId: (outcomes[0] as { orderId: string }).orderId });
    const orderIds = outcomes.slice(0, 4).map((o) => (o as { orderId: string }).orderId);
    expect(new Set(orderIds).size).toBe(3);
    const keys = saleKeys(resources.keyPrefix, sale.id);
    expect(await redis.hget(keys.sale, "sold")).toBe("3");
    const events = await redis.xrange(keys.orders, "-", "+");
    expect(events.map(([, fields]) => fields[5])).toEqual(["ann", "ben", "cat"]);
  });

  it("sends a lone order at once, without waiting for another to share its call (also with a batch wait)", async () => {
    const sale = await loadedSale();
    const waiting = new Reservations(redis, resources.keyPrefix, { batchWaitMicros: 1000 });
    const calls = countScriptCalls();
    expect(await reservations.reserve(sale.id, "solo")).toMatchObject({ kind: "reserved" });
    expect(await waiting.reserve(sale.id, "alone")).toMatchObject({ kind: "reserved" });
    expect(calls).toHaveBeenCalledTimes(2);
  });

  it("says nothing was sent when reading a new sale's number of buckets failed, and needs no read for a sale it loaded", async () => {
    const sale = await loadedSale();
    const fresh = new Reservations(redis, resources.keyPrefix);
    jest.spyOn(redis, "hmget").mockRejectedValueOnce(new Error("Command timed out"));
    const failure = await fresh.reserve(sale.id, "alice").catch((error: unknown) => error);
    expect(neverSent(failure)).toBe(true);
    expect(await redis.hexists(saleKeys(resources.keyPrefix, sale.id).buyers, "alice")).toBe(0);
    jest.restoreAllMocks();
    const reads = jest.spyOn(redis, "hmget");
    expect(await reservations.reserve(sale.id, "bob")).toMatchObject({ kind: "reserved" });
    expect(reads).not.toHaveBeenCalled();
  });

  it("splits a burst larger than MAX_BATCH into several calls, and fails every order of a call that failed", async () => {
    const sale = await loadedSale({ stock: MAX_BATCH * 2 });
    const calls = countScriptCalls();
    const outcomes = await Promise.all(Array.from({ length: MAX_BATCH + 1 }, (_, i) => reservations.reserve(sale.id, `burst${i}`)));
    expect(calls).toHaveBeenCalledTimes(2);
    expect(outcomes.every((o) => o.kind === "reserved")).toBe(true);
    calls.mockRejectedValueOnce(new Error("Command timed out"));
    const failed = await Promise.allSettled([reservations.reserve(sale.id, "x"), reservations.reserve(sale.id, "y")]);
    expect(failed.map((f) => f.status)).toEqual(["rejected", "rejected"]);
  });
});

describe("with REDIS_REPLICA_ACK", () => {
  it("answers outcome_unknown, not reserved, when no replica takes the unit in time, and keeps answering so on a retry", async () => {
    // The shared Redis has no replica: WAIT 1 times out with 0.
    const waiting = new Reservations(redis, resources.keyPrefix, { replicaAck: new ReplicaAck(redis, 20) });
    const sale = await loadedSale();
    expect(await waiting.reserve(sale.id, "alice")).toEqual({ kind: "outcome_unknown" });
    expect(await waiting.reserve(sale.id, "alice")).toEqual({ kind: "outcome_unknown" });
    // The unit is alice's on this server all the same: only a failover could take it back.
    expect(await redis.hget(saleKeys(resources.keyPrefix, sale.id).buyers, "alice")).toEqual(expect.stringMatching(ORDER_ID_PATTERN));
    expect(await waiting.reserve(sale.id, "bob")).toEqual({ kind: "outcome_unknown" });
  });
});

describe("what a process remembers of a sale", () => {
  it("forgets that a sale was sold out once MySQL has a newer generation of it (a rebuild may have put units back)", async () => {
    let mysqlGeneration = FIRST_GENERATION;
    const withCatalog = new Reservations(redis, resources.keyPrefix, { liveSales: { generation: () => mysqlGeneration } });
    const sale = await loadedSale({ stock: 1 });
    await withCatalog.reserve(sale.id, "first");
    await withCatalog.reserve(sale.id, "second");
    expect(withCatalog.knownClosed(sale.id)).toBe("sold_out");
    mysqlGeneration++;
    expect(withCatalog.knownClosed(sale.id)).toBeUndefined();
  });
});

describe("loading a sale", () => {
  it("makes the sale readable with its full stock, registers it with the order writer and creates the consumer group", async () => {
    const sale = await loadedSale({ stock: 7, priceCents: 1999, itemName: "手机 Phone" });
    expect(await reservations.readSale(sale.id)).toEqual({ kind: "found", sale, now: expect.any(Number) });
    expect(await redis.sismember(salesIndexKey(resources.keyPrefix), sale.id)).toBe(1);
    const groups = (await redis.xinfo("GROUPS", saleKeys(resources.keyPrefix, sale.id).orders)) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual([ORDER_WRITER_GROUP]);
  });

  it("never overwrites a live sale's counters", async () => {
    const sale = await loadedSale({ stock: 5 });
    await reservations.reserve(sale.id, "alice");
    expect(await reservations.loadSale({ ...sale, stock: 100 })).toBe(false);
    expect(await reservations.readSale(sale.id)).toMatchObject({ sale: { stock: 5, sold: 1 } });
  });
});
