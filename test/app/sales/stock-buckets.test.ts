import Redis from "ioredis";
import { bucketKeys, bucketShare, buyerKeys, homeBucket, Reservations, saleKeys } from "../../../app/sales/reservations";
import type { Sale } from "../../../app/sales/sale";
import { StockMoves } from "../../../app/sales/stock-moves";
import { openSale } from "../support/sales";
import { createTestResources, REDIS_HOST, REDIS_PORT, type TestResources } from "../support/resources";

let resources: TestResources;
let redis: Redis;
let reservations: Reservations;
let moves: StockMoves;

beforeAll(async () => {
  resources = await createTestResources();
  redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT });
  reservations = new Reservations(redis, resources.keyPrefix);
  moves = new StockMoves(redis, resources.keyPrefix);
});

afterAll(async () => {
  redis.disconnect();
  await resources.dispose();
});

async function loadedSale(stock: number, stockBuckets: number): Promise<Sale> {
  const sale = openSale(stock, stockBuckets);
  expect(await reservations.loadSale(sale)).toBe(true);
  return sale;
}

/** Each bucket's stock and sold, and the units recorded as moving out of it. */
async function bucketStates(sale: Sale): Promise<{ stock: number; sold: number; moving: number }[]> {
  return Promise.all(
    Array.from({ length: sale.stockBuckets ?? 1 }, async (_, bucket) => {
      const keys = bucketKeys(resources.keyPrefix, sale.id, bucket);
      const [stock, sold] = await redis.hmget(keys.sale, "stock", "sold");
      const moving = Object.values(await redis.hgetall(keys.moves)).reduce((sum, move) => sum + Number(move.split(":")[1]), 0);
      return { stock: Number(stock), sold: Number(sold), moving };
    }),
  );
}

/** Units in bucket stocks plus units on their way: never more or less than the sale's stock. */
async function unitsAccountedFor(sale: Sale): Promise<number> {
  return (await bucketStates(sale)).reduce((sum, { stock, moving }) => sum + stock + moving, 0);
}

/** `count` buyers whose home bucket is `bucket`. */
function buyersOfBucket(sale: Sale, bucket: number, count: number, prefix = "b"): string[] {
  const buyers: string[] = [];
  for (let i = 0; buyers.length < count; i++) {
    if (homeBucket(sale.id, `${prefix}${i}`, sale.stockBuckets!) === bucket) buyers.push(`${prefix}${i}`);
  }
  return buyers;
}

describe("a sale split into stock buckets", () => {
  it("shares the stock out over buckets with hash tags of their own, and shows the totals", async () => {
    const sale = await loadedSale(50, 8);
    const states = await bucketStates(sale);
    expect(states.map((s) => s.stock)).toEqual(Array.from({ length: 8 }, (_, b) => bucketShare(50, 8, b)));
    expect(states.reduce((sum, s) => sum + s.stock, 0)).toBe(50);
    const tags = new Set(Array.from({ length: 8 }, (_, b) => /\{[^}]+\}/.exec(bucketKeys(resources.keyPrefix, sale.id, b).sale)![0]));
    expect(tags.size).toBe(8);
    expect(bucketKeys(resources.keyPrefix, sale.id, 0)).toEqual(saleKeys(resources.keyPrefix, sale.id));
    await reservations.reserve(sale.id, "alice");
    expect(await reservations.readSale(sale.id)).toEqual({ kind: "found", sale: { ...sale, sold: 1 }, now: expect.any(Number) });
  });

  it("hands out exactly the stock to a crowd with racing duplicates, each buyer once, in their home bucket", async () => {
    const sale = await loadedSale(60, 8);
    const buyers = Array.from({ length: 400 }, (_, i) => `crowd${i}`);
    const clicks = [...buyers, ...buyers.slice(0, 100), ...buyers.slice(0, 100)];
    const outcomes = await Promise.all(clicks.map((buyer) => reservations.reserve(sale.id, buyer)));
    const reserved = outcomes.flatMap((o, i) => (o.kind === "reserved" ? [clicks[i]] : []));
    expect(reserved).toHaveLength(60);
    expect(new Set(reserved).size).toBe(60);
    expect(outcomes.every((o) => ["reserved", "already_purchased", "sold_out", "stock_moving"].includes(o.kind))).toBe(true);
    for (const buyer of reserved) {
      expect(await redis.hexists(buyerKeys(resources.keyPrefix, sale.id, buyer, 8).buyers, buyer)).toBe(1);
    }
    const states = await bucketStates(sale);
    expect(states.reduce((sum, s) => sum + s.sold, 0)).toBe(60);
    expect(await unitsAccountedFor(sale)).toBe(60);
    expect(await reservations.readSale(sale.id)).toMatchObject({ sale: { stock: 60, sold: 60 } });
    expect(reservations.knownClosed(sale.id)).toBe("sold_out");
  });

  it("answers sold out only once every bucket is empty: one bucket's buyers take the whole stock", async () => {
    const sale = await loadedSale(12, 4);
    const buyers = buyersOfBucket(sale, 2, 14);
    const outcomes = [];
    for (const buyer of buyers) outcomes.push((await reservations.reserve(sale.id, buyer)).kind);
    expect(outcomes).toEqual([...Array<string>(12).fill("reserved"), "sold_out", "sold_out"]);
    expect((await bucketStates(sale)).map((s) => s.sold)).toEqual([0, 0, 12, 0]);
  });

  it("gives a buyer racing themself one unit across the buckets", async () => {
    const sale = await loadedSale(3, 8);
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => reservations.reserve(sale.id, "racer")));
    expect(outcomes.filter((o) => o.kind === "reserved")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "already_purchased")).toHaveLength(29);
    expect((await bucketStates(sale)).reduce((sum, s) => sum + s.sold, 0)).toBe(1);
  });

  it("finds a buyer's order in their home bucket", async () => {
    const sale = await loadedSale(10, 8);
    const outcome = await reservations.reserve(sale.id, "dora");
    expect(await reservations.buyerOrderId(sale.id, "dora")).toBe((outcome as { orderId: string }).orderId);
    expect(await reservations.buyerOrderId(sale.id, "nobody")).toBeNull();
  });
});

describe("moving units between buckets, crashing at each step", () => {
  it("loses nothing when the mover stops after taking the units out of the donor: the next dry bucket finishes the move", async () => {
    const sale = await loadedSale(8, 2);
    const move = await moves.give(sale.id, 0, 1, 4, 1);
    expect(move).toMatchObject({ from: 0, to: 1, units: 4 });
    // The mover stops here. The units are in no bucket's stock, but not lost.
    expect((await bucketStates(sale)).map((s) => s.stock)).toEqual([0, 4]);
    expect(await unitsAccountedFor(sale)).toBe(8);
    expect(await reservations.readSale(sale.id)).toMatchObject({ sale: { stock: 8, sold: 0 } });
    const outcomes = await Promise.all(buyersOfBucket(sale, 0, 9).map((buyer) => reservations.reserve(sale.id, buyer)));
    expect(outcomes.filter((o) => o.kind === "reserved")).toHaveLength(8);
    expect(await moves.pending(sale.id, 2)).toEqual([]);
    expect(await unitsAccountedFor(sale)).toBe(8);
  });

  it("adds a move once when the mover stops after the receiver took it, and it is finished again", async () => {
    const sale = await loadedSale(8, 2);
    const move = (await moves.give(sale.id, 0, 1, 4, 1))!;
    expect(await moves.take(sale.id, move)).toBe(4);
    // The mover stops before settling: the record is still there, and finishing it again adds nothing.
    expect(await moves.pending(sale.id, 2)).toEqual([move]);
    expect(await moves.finishPending(sale.id, 2)).toBe(0);
    expect(await moves.take(sale.id, move)).toBe(0);
    expect((await bucketStates(sale)).map((s) => s.stock)).toEqual([0, 8]);
    expect(await moves.pending(sale.id, 2)).toEqual([]);
  });

  it("adds a move once when two processes finish it at the same time", async () => {
    const sale = await loadedSale(8, 2);
    const move = (await moves.give(sale.id, 1, 0, 4, 1))!;
    const other = new StockMoves(redis, resources.keyPrefix);
    const arrived = await Promise.all([moves.finishPending(sale.id, 2), other.finishPending(sale.id, 2), moves.finish(sale.id, move)]);
    expect(arrived.reduce((a, b) => a + b, 0)).toBe(4);
    expect(await unitsAccountedFor(sale)).toBe(8);
  });

  it("refuses a move of an older generation: the rebuild from MySQL shared the units out again", async () => {
    const sale = await loadedSale(8, 2);
    const move = (await moves.give(sale.id, 0, 1, 4, 1))!;
    await redis.hset(bucketKeys(resources.keyPrefix, sale.id, 1).sale, "generation", 2);
    expect(await moves.take(sale.id, move)).toBe(-1);
    expect(await moves.give(sale.id, 0, 1, 4, 2)).toBeUndefined();
  });

  it("takes nothing out of a bucket being rebuilt, and leaves a move to it pending", async () => {
    const sale = await loadedSale(8, 2);
    const move = (await moves.give(sale.id, 0, 1, 2, 1))!;
    await redis.hset(bucketKeys(resources.keyPrefix, sale.id, 1).sale, "rebuildReason", "test");
    expect(await moves.finish(sale.id, move)).toBe(0);
    expect(await moves.pending(sale.id, 2)).toEqual([move]);
    expect(await moves.give(sale.id, 1, 0, 2, 1)).toBeUndefined();
  });
});
