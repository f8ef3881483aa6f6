import type Redis from "ioredis";
import type { Pool } from "mysql2/promise";
import type { Logger } from "../platform/logger";
import { orderDeadLetters, orderWriterBacklog, orderWriterBatchSize, orderWriterLagSeconds, ordersConfirmed } from "../platform/metrics";
import { orderWriterSlowCycles } from "../platform/metrics";
import { ORDER_WRITER_GROUP, saleKeys, salesIndexKey, type SaleKeys } from "../sales/reservations";
import { USER_ID_PATTERN } from "../http/auth";
import { saleIdOfOrder } from "../sales/sale";
import { isTransientMysqlError } from "../platform/mysql";
import { writeOrderBatch, type OrderEvent } from "./order-store";

/** Where the order writer delivers the events it reads: MySQL, or (ORDER_QUEUE=rocketmq) the relay to the queue. */
export interface OrderDestination {
  /** Stores the events idempotently; entries are acknowledged only after this resolves. */
  deliver(events: readonly OrderEvent[]): Promise<void>;
  /** True when delivering again later can succeed: the entries stay pending instead of heading for the dead-letter stream. */
  isTransient(error: unknown): boolean;
}

/** Confirms the events in MySQL (the Redis path, and the RocketMQ order consumer). */
export function mysqlDestination(pool: Pool): OrderDestination {
  return {
    async deliver(events) {
      await writeOrderBatch(pool, events);
      orderWriterBatchSize.observe(events.length);
      ordersConfirmed.inc(events.length);
      orderWriterLagSeconds.set((Date.now() - Math.max(...events.map((e) => e.reservedAt))) / 1000);
    },
    isTransient: isTransientMysqlError,
  };
}

export interface OrderWriterOptions {
  /** A `background` client: commands wait while Redis reconnects. */
  readonly redis: Redis;
  readonly pool: Pool;
  /** MySQL (through `pool`) unless given. */
  readonly destination?: OrderDestination;
  readonly keyPrefix: string;
  /** Stable per host, so a restarted writer picks up the entries it had read but not acknowledged. */
  readonly consumer: string;
  readonly logger: Logger;
  readonly batchSize?: number;
  /** Entries another consumer has held this long unacknowledged are taken over (that consumer is presumed dead). */
  readonly claimIdleMs?: number;
  /** Permanent failures of one entry before it moves to the dead-letter stream. */
  readonly maxAttempts?: number;
  readonly idleDelayMs?: number;
  /**
   * A cycle still running after this long is logged and counted: something it waits on has stalled. The default,
   * 3 s, is shorter than any statement or command timeout, so a stall is reported while it lasts.
   */
  readonly slowCycleMs?: number;
}

type StreamEntry = [id: string, fields: string[] | null];
type PendingEvent = { readonly id: string; readonly event: OrderEvent };

const SALES_REFRESH_MS = 1000;
/** A sale stays watched this long after it ends, so late stragglers are still drained. */
const ENDED_SALE_GRACE_MS = 60_000;
const MAX_BACKOFF_MS = 5000;

/**
 * Moves order events from each sale's Redis stream into MySQL (or another destination): reads with
 * the consumer group, writes a batch idempotently, and acknowledges (then deletes) entries only
 * after the commit. While MySQL is unreachable entries simply stay pending and are retried with backoff.
 */
export class OrderWriter {
  private readonly destination: OrderDestination;
  private readonly batchSize: number;
  private readonly claimIdleMs: number;
  private readonly maxAttempts: number;
  private readonly idleDelayMs: number;
  private readonly slowCycleMs: number;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: () => void = () => undefined;
  private saleIds: string[] = [];
  private salesRefreshedAt = 0;
  private readonly claimedAt = new Map<string, number>();
  /** Sales whose pending list for this consumer may be non-empty (start-up, failures, claims). */
  private readonly mayHavePending = new Set<string>();
  private readonly failedAttempts = new Map<string, number>();

  constructor(private readonly options: OrderWriterOptions) {
    this.destination = options.destination ?? mysqlDestination(options.pool);
    this.batchSize = options.batchSize ?? 500;
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.idleDelayMs = options.idleDelayMs ?? 100;
    this.slowCycleMs = options.slowCycleMs ?? 3000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the batch in progress (commit, then acknowledge) and stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    let consecutiveFailures = 0;
    while (this.running) {
      let progressed = false;
      try {
        await this.underWatchdog(async () => {
          await this.refreshSales();
          for (const saleId of this.saleIds) {
            if (!this.running) break;
            if (await this.drainOnce(saleId)) progressed = true;
          }
        });
        consecutiveFailures = 0;
      } catch (error) {
        // A read that timed out may still have handed entries to this consumer: look at its pending ones first.
        for (const saleId of this.saleIds) this.mayHavePending.add(saleId);
        consecutiveFailures++;
        const level = this.destination.isTransient(error) ? "warn" : "error";
        this.options.logger[level](
          { err: error, consecutiveFailures },
          "order writer cycle failed; entries stay pending and will be retried",
        );
        if (this.running) await this.sleep(Math.min(100 * 2 ** consecutiveFailures, MAX_BACKOFF_MS));
        continue;
      }
      if (!progressed) await this.sleep(this.idleDelayMs);
    }
  }

  /** Runs one cycle; while it goes on past slowCycleMs it is logged and counted, once, so a stall never goes unseen. */
  private async underWatchdog(cycle: () => Promise<void>): Promise<void> {
    const watchdog = setTimeout(() => {
      orderWriterSlowCycles.inc();
      this.options.logger.warn({ runningForMs: this.slowCycleMs }, "order writer cycle is slow: Redis or MySQL may have stalled");
    }, this.slowCycleMs);
    try {
      await cycle();
    } finally {
      clearTimeout(watchdog);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async refreshSales(): Promise<void> {
    const now = Date.now();
    if (now - this.salesRefreshedAt < SALES_REFRESH_MS) return;
    const { redis, keyPrefix } = this.options;
    const saleIds = await redis.smembers(salesIndexKey(keyPrefix));
    const pipeline = redis.pipeline();
    for (const saleId of saleIds) {
      const keys = saleKeys(keyPrefix, saleId);
      pipeline.hget(keys.sale, "endsAt").xlen(keys.orders);
    }
    const replies = (await pipeline.exec()) ?? [];
    let backlog = 0;
    const watched: string[] = [];
    for (let i = 0; i < saleIds.length; i++) {
      const [endsAtError, endsAt] = replies[2 * i];
      const [lengthError, length] = replies[2 * i + 1];
      if (endsAtError || lengthError) throw endsAtError ?? lengthError;
      backlog += Number(length);
      // A sale is registered here just before it is loaded; until its hash (and stream) exist there is nothing to read.
      if (endsAt === null) continue;
      if (Number(endsAt) + ENDED_SALE_GRACE_MS < now && Number(length) === 0) {
        await redis.srem(salesIndexKey(keyPrefix), saleIds[i]);
        continue;
      }
      watched.push(saleIds[i]);
      if (!this.saleIds.includes(saleIds[i])) this.mayHavePending.add(saleIds[i]);
    }
    orderWriterBacklog.set(backlog);
    this.saleIds = watched;
    this.salesRefreshedAt = now;
  }

  /** Processes at most one batch of the sale's stream; returns whether there was anything to do. */
  private async drainOnce(saleId: string): Promise<boolean> {
    const keys = saleKeys(this.options.keyPrefix, saleId);
    await this.claimAbandoned(saleId, keys);
    if (this.mayHavePending.has(saleId)) {
      const pending = await this.read(keys, "0");
      if (pending.length > 0) {
        await this.process(saleId, keys, pending);
        return true;
      }
      this.mayHavePending.delete(saleId);
    }
    const fresh = await this.read(keys, ">");
    if (fresh.length === 0) return false;
    await this.process(saleId, keys, fresh);
    return true;
  }

  private async read(keys: SaleKeys, from: "0" | ">"): Promise<StreamEntry[]> {
    const { redis, consumer } = this.options;
    const reply = (await redis.call(
      "XREADGROUP",
      "GROUP",
      ORDER_WRITER_GROUP,
      consumer,
      "COUNT",
      this.batchSize,
      "STREAMS",
      keys.orders,
      from,
    )) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  private async claimAbandoned(saleId: string, keys: SaleKeys): Promise<void> {
    const now = Date.now();
    if (now - (this.claimedAt.get(saleId) ?? 0) < Math.min(this.claimIdleMs, 5000)) return;
    this.claimedAt.set(saleId, now);
    const { redis, consumer, logger } = this.options;
    let cursor = "0-0";
    do {
      const [next, claimed] = (await redis.call(
        "XAUTOCLAIM",
        keys.orders,
        ORDER_WRITER_GROUP,
        consumer,
        this.claimIdleMs,
        cursor,
        "COUNT",
        this.batchSize,
        "JUSTID",
      )) as [string, string[]];
      if (claimed.length > 0) {
        this.mayHavePending.add(saleId);
        logger.info({ saleId, entries: claimed.length }, "claimed order events abandoned by another consumer");
      }
      cursor = next;
    } while (cursor !== "0-0");
  }

  private async process(saleId: string, keys: SaleKeys, entries: StreamEntry[]): Promise<void> {
    const events: PendingEvent[] = [];
    const malformed: [string, string[]][] = [];
    const vanished: string[] = [];
    for (const [id, fields] of entries) {
      if (fields === null) {
        vanished.push(id);
        continue;
      }
      const event = parseOrderEvent(fields);
      if (event?.saleId === saleId) events.push({ id, event });
      else malformed.push([id, fields]);
    }
    if (vanished.length > 0) await this.acknowledge(keys, vanished);
    for (const [id, fields] of malformed) await this.deadLetter(keys, id, fields, "malformed order event");
    if (events.length === 0) return;
    try {
      await this.commit(saleId, keys, events);
    } catch (error) {
      if (this.destination.isTransient(error)) throw error;
      if (events.length === 1) return this.recordPermanentFailure(keys, events[0], error as Error);
      // Something in the batch is bad: find it by committing the entries one at a time.
      for (const one of events) {
        try {
          await this.commit(saleId, keys, [one]);
        } catch (oneError) {
          if (this.destination.isTransient(oneError)) throw oneError;
          await this.recordPermanentFailure(keys, one, oneError as Error);
        }
      }
    }
  }

  private async commit(saleId: string, keys: SaleKeys, events: PendingEvent[]): Promise<void> {
    try {
      await this.destination.deliver(events.map((e) => e.event));
      await this.acknowledge(
        keys,
        events.map((e) => e.id),
      );
    } catch (error) {
      // Unacknowledged entries stay in this consumer's pending list; read them again next time.
      this.mayHavePending.add(saleId);
      throw error;
    }
    for (const { id } of events) this.failedAttempts.delete(id);
  }

  private async acknowledge(keys: SaleKeys, ids: string[]): Promise<void> {
    await this.options.redis
      .multi()
      .xack(keys.orders, ORDER_WRITER_GROUP, ...ids)
      .xdel(keys.orders, ...ids)
      .exec();
  }

  private async recordPermanentFailure(keys: SaleKeys, { id, event }: PendingEvent, error: Error): Promise<void> {
    const attempts = (this.failedAttempts.get(id) ?? 0) + 1;
    if (attempts < this.maxAttempts) {
      this.failedAttempts.set(id, attempts);
      this.options.logger.warn({ err: error, entryId: id, event, attempts }, "order event failed; will retry");
      return;
    }
    this.failedAttempts.delete(id);
    await this.deadLetter(keys, id, eventFields(event), error.message);
  }

  private async deadLetter(keys: SaleKeys, id: string, fields: string[], reason: string): Promise<void> {
    await this.options.redis
      .multi()
      .xadd(keys.deadLetters, "*", "entryId", id, "error", reason, ...fields)
      .xack(keys.orders, ORDER_WRITER_GROUP, id)
      .xdel(keys.orders, id)
      .exec();
    orderDeadLetters.inc();
    this.options.logger.error(
      { stream: keys.orders, entryId: id, fields, reason, deadLetters: keys.deadLetters },
      "order event moved to the dead-letter stream",
    );
  }
}

function eventFields(event: OrderEvent): string[] {
  return ["orderId", event.orderId, "saleId", event.saleId, "userId", event.userId, "reservedAt", String(event.reservedAt)];
}

/** Reads the fields RESERVE_SCRIPT writes; undefined when anything is missing or malformed. */
export function parseOrderEvent(fields: readonly string[]): OrderEvent | undefined {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
  const orderId = values.get("orderId") ?? "";
  const saleId = values.get("saleId") ?? "";
  const userId = values.get("userId") ?? "";
  const reservedAt = Number(values.get("reservedAt"));
  const wellFormed =
    saleIdOfOrder(orderId) === saleId && USER_ID_PATTERN.test(userId) && Number.isSafeInteger(reservedAt) && reservedAt > 0;
  return wellFormed ? { orderId, saleId, userId, reservedAt } : undefined;
}
