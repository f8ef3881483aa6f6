import { randomBytes } from "node:crypto";
import type { RedisClient } from "../platform/redis";
import type { Pool, RowDataPacket } from "mysql2/promise";
import type { Logger } from "../platform/logger";
import { ordersRefused, saleRebuilds } from "../platform/metrics";
import { REBUILD_SALE_SCRIPT, RELEASE_LOCK_SCRIPT } from "../sales/reservation-script";
import { ORDER_WRITER_GROUP, saleKeys, type SaleKeys } from "../sales/reservations";
import type { Sale } from "../sales/sale";
import { lockSaleRow } from "../sales/sale-store";
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
 *    generation, in one step.
 */
export class SaleRebuilder {
  private readonly commands: RebuildCommands;

  constructor(private readonly options: SaleRebuilderOptions) {
    options.redis.defineCommand("seckillRebuildSale", { numberOfKeys: 5, lua: REBUILD_SALE_SCRIPT });
    options.redis.defineCommand("seckillReleaseLock", { numberOfKeys: 1, lua: RELEASE_LOCK_SCRIPT });
    this.commands = options.redis as unknown as RebuildCommands;
  }

  /** Rebuilds the sale unless another instance is at it; returns whether this call did. */
  async rebuild(saleId: string, reason: string): Promise<boolean> {
    const { redis, keyPrefix, logger } = this.options;
    const keys = saleKeys(keyPrefix, saleId);
    const token = randomBytes(16).toString("hex");
    if ((await redis.set(keys.rebuildLock, token, "PX", LOCK_MS, "NX")) === null) return false;
    try {
      // No more sales from here on: the stream must not grow while it is read.
      await redis.hset(keys.sale, "rebuildReason", reason);
      const entries = await this.readStream(keys);
      const entryOf = new Map<string, StreamEntry>();
      const events: OrderEvent[] = [];
      for (const entry of entries) {
        const event = parseOrderEvent(entry[1]);
        if (event?.saleId !== saleId) continue;
        events.push(event);
        entryOf.set(event.orderId, entry);
      }
      const restored = await this.restoreFromMysql(saleId, events);
      if (!restored) {
        logger.error({ saleId, reason }, "cannot rebuild a sale MySQL does not know; it stays closed");
        return false;
      }
      await this.stageBuyers(keys, restored.buyers);
      const { sale, generation } = restored;
      const sold = await this.commands.seckillRebuildSale(
        keys.sale,
        keys.buyers,
        keys.stagedBuyers,
        keys.orders,
        keys.rebuildLock,
        token,
        ORDER_WRITER_GROUP,
        sale.itemName,
        sale.stock,
        sale.startsAt,
        sale.endsAt,
        sale.priceCents ?? "",
        generation,
      );
      for (const refused of restored.refused) await this.settle(keys, refused, entryOf.get(refused.event.orderId)!);
      saleRebuilds.inc();
      logger.warn(
        { saleId, reason, generation, sold, streamEntries: entries.length, refused: restored.refused.length },
        "sale's Redis state rebuilt from MySQL",
      );
      return true;
    } finally {
      await this.commands.seckillReleaseLock(keys.rebuildLock, token).catch(() => undefined);
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
      const orders = await session.query<RowDataPacket[]>("SELECT id, user_id FROM orders WHERE sale_id = ?", [saleId]);
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
