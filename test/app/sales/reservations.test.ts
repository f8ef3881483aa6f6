import Redis from "ioredis";
import { ORDER_WRITER_GROUP, Reservations, saleKeys, salesIndexKey } from "../../../app/sales/reservations";
import { newSaleId, type Sale } from "../../../app/sales/sale";
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
    const now = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 500 }, (_, i) => reservations.reserve(sale.id, `buyer${i}`, now)));
    const reserved = outcomes.filter((o) => o.kind === "reserved");
    expect(reserved).toHaveLength(50);
    expect(outcomes.filter((o) => o.kind === "sold_out")).toHaveLength(450);
    const orderIds = reserved.map((o) => ("orderId" in o ? o.orderId : ""));
    expect(new Set(orderIds)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `${sale.id}-${i + 1}`)));
    const keys = saleKeys(resources.keyPrefix, sale.id);
    expect(await redis.hget(keys.sale, "sold")).toBe("50");
    expect(await redis.hlen(keys.buyers)).toBe(50);
    expect(await redis.xlen(keys.orders)).toBe(50);
  });

  it("gives a buyer one unit: a second attempt answers already_purchased with the same order id", async () => {
    const sale = await loadedSale();
    const first = await reservations.reserve(sale.id, "alice", Date.now());
    const second = await reservations.reserve(sale.id, "alice", Date.now());
    expect(first).toEqual({ kind: "reserved", orderId: `${sale.id}-1` });
    expect(second).toEqual({ kind: "already_purchased", orderId: `${sale.id}-1` });
    expect(await redis.xlen(saleKeys(resources.keyPrefix, sale.id).orders)).toBe(1);
  });

  it("lets a buyer racing themself take one unit", async () => {
    const sale = await loadedSale();
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => reservations.reserve(sale.id, "racer", Date.now())));
    expect(outcomes.filter((o) => o.kind === "reserved")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "already_purchased")).toHaveLength(29);
    expect(await redis.hget(saleKeys(resources.keyPrefix, sale.id).sale, "sold")).toBe("1");
  });

  it("enforces the window [startsAt, endsAt) using the time it is given", async () => {
    const sale = await loadedSale({ startsAt: 1_000_000, endsAt: 2_000_000 });
    expect(await reservations.reserve(sale.id, "early", 999_999)).toEqual({ kind: "not_started" });
    expect(await reservations.reserve(sale.id, "late", 2_000_000)).toEqual({ kind: "ended" });
    expect(await reservations.reserve(sale.id, "onTime", 1_000_000)).toMatchObject({ kind: "reserved" });
    expect(await redis.hget(saleKeys(resources.keyPrefix, sale.id).sale, "sold")).toBe("1");
  });

  it("answers unknown_sale and writes nothing for a sale that was never loaded", async () => {
    const saleId = newSaleId();
    expect(await reservations.reserve(saleId, "alice", Date.now())).toEqual({ kind: "unknown_sale" });
    const keys = saleKeys(resources.keyPrefix, saleId);
    expect(await redis.exists(keys.sale, keys.buyers, keys.orders)).toBe(0);
  });

  it("writes an order event with the order id, sale, buyer and reservation time", async () => {
    const sale = await loadedSale({ startsAt: 1_700_000_000_000 });
    await reservations.reserve(sale.id, "frank", 1_700_000_000_000);
    const keys = saleKeys(resources.keyPrefix, sale.id);
    const [[, fields]] = await redis.xrange(keys.orders, "-", "+");
    expect(fields).toEqual(["orderId", `${sale.id}-1`, "saleId", sale.id, "userId", "frank", "reservedAt", "1700000000000"]);
  });

  it("keeps every per-sale key under the sale's hash tag, so the script is valid on a cluster", async () => {
    const sale = await loadedSale();
    await reservations.reserve(sale.id, "alice", Date.now());
    const keys = await redis.keys(`${resources.keyPrefix}*${sale.id}*`);
    expect(keys.length).toBe(3);
    for (const key of keys) expect(key.slice(key.indexOf("{"), key.indexOf("}") + 1)).toBe(`{sale:${sale.id}}`);
  });

  it("remembers in process that a sale is sold out or ended, so later attempts skip Redis", async () => {
    const soldOut = await loadedSale({ stock: 1 });
    await reservations.reserve(soldOut.id, "first", Date.now());
    expect(reservations.knownClosed(soldOut.id)).toBeUndefined();
    await reservations.reserve(soldOut.id, "second", Date.now());
    expect(reservations.knownClosed(soldOut.id)).toBe("sold_out");
    const ended = await loadedSale({ startsAt: 1, endsAt: 2 });
    await reservations.reserve(ended.id, "late", Date.now());
    expect(reservations.knownClosed(ended.id)).toBe("ended");
  });
});

describe("loading a sale", () => {
  it("makes the sale readable with its full stock, registers it with the order writer and creates the consumer group", async () => {
    const sale = await loadedSale({ stock: 7, priceCents: 1999, itemName: "手机 Phone" });
    expect(await reservations.readSale(sale.id, Date.now())).toEqual(sale);
    expect(await redis.sismember(salesIndexKey(resources.keyPrefix), sale.id)).toBe(1);
    const groups = (await redis.xinfo("GROUPS", saleKeys(resources.keyPrefix, sale.id).orders)) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual([ORDER_WRITER_GROUP]);
  });

  it("never overwrites a live sale's counters", async () => {
    const sale = await loadedSale({ stock: 5 });
    await reservations.reserve(sale.id, "alice", Date.now());
    expect(await reservations.loadSale({ ...sale, stock: 100 })).toBe(false);
    expect(await reservations.readSale(sale.id, Date.now())).toMatchObject({ stock: 5, sold: 1 });
  });
});
