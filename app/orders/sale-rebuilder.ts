import { randomBytes } from "node:crypto";
import type { RedisClient } from "../platform/redis";
import type { Pool, RowDataPacket } from "mysql2/promise";
import type { Logger } from "../platform/logger";
import { ordersRefused, saleRebuilds } from "../platform/metrics";
import { REBUILD_SALE_SCRIPT, RELEASE_LOCK_SCRIPT } from "../sales/reservation-script";
import { bucketKeys, bucketShare, homeBucket, ORDER_WRITER_GROUP, type SaleKeys } from "../sales/reservations";
import type { Sale } from "../sales/sale";
import { lockSaleRow, stockBucketsOf } from "../sales/sale-store";
import { transaction } from "../platform/mysql";
import { deadLetter } from "./dead-letters";
import { LOST_IN_REDIS, recordLostOrder } from "./lost-orders";
import { confirmOrders, parseOrderEvent, type OrderEvent, type RefusedOrder } from "./order-store";

export interface SaleRebuilderOptions {
  readonly redis: RedisClient;
  readonly pool: Pool;
  readonly keyPrefix: string;
  readonly logger: Logger;
}

interface RebuildCommands {
  seckillRebuildSale(
    sale: string,
    buyers: string,
    stagedBuyers: string,
    orders: string,
    lock: string,
    moves: string,
    movedIn: string,
    ...args: (string | number)[]
  ): Promise<number>;
  seckillReleaseLock(lock: string, token: string): Promise<number>;
}

type StreamEntry = [id: string, fields: string[]];

/** Longer than any rebuild takes; a rebuilder that dies holding the lock delays the next one by this much at most. */
const LOCK_MS = 60_000;
const CHUNK = 1000;

/**
 * Restores a sale's Redis state from MySQL after Redis lost it or went back in time (a restart without data, a
 * failover to a replica that lagged, a restored snapshot). The sale takes no order meanwhile (RESERVE_SCRIPT answers
 * `rebuilding`), and one order writer at a time rebuilds it, across instances (a Redis lock with an expiry):
 * 1. what is left of the order stream is confirmed in MySQL (a redelivery for most of it);
 * 2. in the same transaction, holding the sale's row, the sale's generation moves on: an order of an older generation
 *    that a slow writer still holds can no longer be confirmed, so one that is not in MySQL now never will be (lost);
 * 3. Redis gets MySQL's orders as its buyers (nobody buys twice, units sold = orders), a fresh stream, the new
 *    generation, in one step per bucket: each buyer in their home bucket, the unsold units shared out evenly, stock
 *    moves of the old generation voided.
 */
export class SaleRebuilder {
  private readonly commands: RebuildCommands;

  constructor(private readonly options: SaleRebuilderOptions) {
    options.redis.defineCommand("seckillRebuildSale", { numberOfKeys: 7, lua: REBUILD_SALE_SCRIPT });
    options.redis.defineCommand("seckillReleaseLock", { numberOfKeys: 1, lua: RELEASE_LOCK_SCRIPT });
    this.commands = options.redis as unknown as RebuildCommands;
  }

  /** Rebuilds the sale (every bucket of it) unless another instance is at it; returns whether this call did. */
  async rebuild(saleId: string, reason: string): Promise<boolean> {
    const { redis, keyPrefix, logger, pool } = this.options;
    const buckets = await stockBucketsOf(pool, saleId);
    if (buckets === undefined) {
      logger.error({ saleId, reason }, "cannot rebuild a sale MySQL does not know; it stays closed");
      return false;
    }
    const allKeys = Array.from({ length: buckets }, (_, bucket) => bucketKeys(keyPrefix, saleId, bucket));
    const token = randomBytes(16).toString("hex");
    // Bucket 0's lock decides who rebuilds; each other bucket's lock (which its rebuild script checks, as a script
    // cannot reach bucket 0's shard) is then taken over, so a rebuilder that stalled past its locks can write nowhere.
    if ((await redis.set(allKeys[0].rebuildLock, token, "PX", LOCK_MS, "NX")) === null) return false;
    try {
      for (const keys of allKeys.slice(1)) await redis.set(keys.rebuildLock, token, "PX", LOCK_MS);
      // No more sales (and no stock moves) from here on: the streams must not grow while they are read.
      for (const keys of allKeys) await redis.hset(keys.sale, "rebuildReason", reason);
      const entryOf = new Map<string, { keys: SaleKeys; entry: StreamEntry }>();
      const events: OrderEvent[] = [];
      for (const keys of allKeys) {
        for (const entry of await this.readStream(keys)) {
          const event = parseOrderEvent(entry[1]);
          if (event?.saleId !== saleId) continue;
          events.push(event);
          entryOf.set(event.orderId, { keys, entry });
        }
      }
      const restored = await this.restoreFromMysql(saleId, events);
      if (!restored) {
        logger.error({ saleId, reason }, "cannot rebuild a sale MySQL does not know; it stays closed");
        return false;
      }
      const { sale, generation } = restored;
      const buyersOf = allKeys.map((): [string, string][] => []);
      for (const buyer of restored.buyers) buyersOf[homeBucket(saleId, buyer[0], buckets)].push(buyer);
      const unsold = sale.stock - restored.buyers.length;
      let sold = 0;
      // Bucket 0 last: until it is rebuilt the sale answers `rebuilding` as a whole.
      for (let bucket = buckets - 1; bucket >= 0; bucket--) {
        const keys = allKeys[bucket];
        await this.stageBuyers(keys, buyersOf[bucket]);
        sold += await this.commands.seckillRebuildSale(
          keys.sale,
          keys.buyers,
          keys.stagedBuyers,
          keys.orders,
          keys.rebuildLock,
          keys.moves,
          keys.movedIn,
          token,
          ORDER_WRITER_GROUP,
          sale.itemName,
          bucketShare(unsold, buckets, bucket),
          sale.startsAt,
          sale.endsAt,
          sale.priceCents ?? "",
          generation,
          buckets,
          sale.stock,
        );
      }
      for (const refused of restored.refused) {
        const { keys, entry } = entryOf.get(refused.event.orderId)!;
        await this.settle(keys, refused, entry);
      }
      saleRebuilds.inc();
      logger.warn(
        { saleId, reason, generation, sold, buckets, streamEntries: events.length, refused: restored.refused.length },
        "sale's Redis state rebuilt from MySQL",
      );
      return true;
    } finally {
      for (const keys of allKeys) await this.commands.seckillReleaseLock(keys.rebuildLock, token).catch(() => undefined);
    }
  }

  private async readStream(keys: SaleKeys): Promise<StreamEntry[]> {
    const entries: StreamEntry[] = [];
    for (let from = "-"; ;) {
      const chunk = (await this.options.redis.xrange(keys.orders, from, "+", "COUNT", CHUNK)) as StreamEntry[];
      entries.push(...chunk);
      if (chunk.length < CHUNK) return entries;
      from = `(${chunk[chunk.length - 1][0]}`;
    }
  }

  private async restoreFromMysql(
    saleId: string,
    events: readonly OrderEvent[],
  ): Promise<{ sale: Sale; generation: number; buyers: [userId: string, orderId: string][]; refused: RefusedOrder[] } | undefined> {
    return transaction(this.options.pool, async (session) => {
      const locked = await lockSaleRow(session, saleId);
      // Nothing was written: committing the empty transaction is as good as rolling it back.
      if (!locked) return undefined;
      const { refused } = events.length > 0 ? await confirmOrders(session, saleId, events) : { refused: [] };
      await session.query("UPDATE sales SET generation = generation + 1 WHERE id = ?", [saleId]);
      // Expired orders hold no unit: their buyers may buy again.
      const orders = await session.query<RowDataPacket[]>("SELECT id, user_id FROM orders WHERE sale_id = ? AND status <> 'expired'", [
        saleId,
      ]);
      const buyers = orders.map((row): [string, string] => [row.user_id, row.id]);
      return { sale: locked.sale, generation: locked.generation + 1, buyers, refused };
    });
  }

  private async stageBuyers(keys: SaleKeys, buyers: readonly [string, string][]): Promise<void> {
    const { redis } = this.options;
    await redis.del(keys.stagedBuyers);
    for (let i = 0; i < buyers.length; i += CHUNK) await redis.hset(keys.stagedBuyers, Object.fromEntries(buyers.slice(i, i + CHUNK)));
  }

  /** An order of the old stream MySQL refused: superseded ones were lost, the others go to the dead-letter stream. */
  private async settle(keys: SaleKeys, { event, reason, detail }: RefusedOrder, [entryId, fields]: StreamEntry): Promise<void> {
    const { redis, keyPrefix, logger } = this.options;
    if (reason === "superseded") {
      await recordLostOrder(redis, keyPrefix, logger, event, LOST_IN_REDIS);
      return;
    }
    ordersRefused.inc({ reason });
    await deadLetter(redis, logger, keys, entryId, fields, detail);
  }
}
