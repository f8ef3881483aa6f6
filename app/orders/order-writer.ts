import type { RedisClient } from "../platform/redis";
import type { Pool } from "mysql2/promise";
import { PIPELINE_LOG_MESSAGE, type PipelineLogFields } from "../../contract/pipeline-log";
import type { Logger } from "../platform/logger";
import {
  orderDeadLetters,
  orderWriterBacklog,
  orderWriterBatchSize,
  orderWriterLagSeconds,
  ordersConfirmed,
  ordersRefused,
  saleUnconfirmedOrders,
  orderWriterSlowCycles,
} from "../platform/metrics";
import { bucketKeys, buyerKeys, ORDER_WRITER_GROUP, salesIndexKey, type SaleKeys } from "../sales/reservations";
import { ENDED_SALE_GRACE_MS, liveSales, type LiveSale } from "../sales/sale-store";
import { isTransientMysqlError } from "../platform/mysql";
import { deadLetter } from "./dead-letters";
import { LOST_IN_REDIS, recordLostOrder } from "./lost-orders";
import { orderEventFields, parseOrderEvent, RefusedOrdersError, writeOrderBatch, type OrderEvent, type RefusedOrder } from "./order-store";
import { SaleRebuilder } from "./sale-rebuilder";
import { ACKNOWLEDGE_ENTRIES_SCRIPT } from "../sales/reservation-script";

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
    },
    isTransient: isTransientMysqlError,
  };
}

export interface OrderWriterOptions {
  /** A `background` client: commands wait while Redis reconnects. */
  readonly redis: RedisClient;
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
  /**
   * How often the pipeline's figures (lag, backlog, dead letters) go to the log as one line, which the SLS alerts read;
   * 10 s by default. Logged at info even when the logger's level is higher: the alerts must not go blind.
   */
  readonly pipelineReportMs?: number;
}

type StreamEntry = [id: string, fields: string[] | null];
/** One bucket's order stream of a sale. */
type SaleStream = { readonly saleId: string; readonly keys: SaleKeys };

interface BucketState {
  readonly keys: SaleKeys;
  readonly stock: string | null;
  readonly sold: string | null;
  readonly endsAt: string | null;
  readonly rebuildReason: string | null;
  readonly buckets: string | null;
  readonly length: number;
  readonly oldestEntryId: string | undefined;
}
type PendingEvent = { readonly id: string; readonly event: OrderEvent };

interface AcknowledgeCommands {
  /** Acknowledges the entries and trims what no consumer needs any more (acknowledge-entries.lua). */
  seckillAcknowledgeEntries(stream: string, group: string, ...ids: string[]): Promise<number>;
}

export const SALES_REFRESH_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const MYSQL_READ_WAIT_MS = 500;

/**
 * Moves order events from each sale's Redis stream into MySQL (or another destination): reads with the consumer
 * group, writes a batch idempotently, and acknowledges entries only after the commit, trimming from the stream those no
 * consumer needs any more (acknowledge-entries.lua). While MySQL is unreachable entries simply stay pending and are
 * retried with backoff.
 * It watches every sale listed in Redis or live in MySQL, and rebuilds from MySQL (SaleRebuilder) a sale whose Redis
 * state is missing, flagged, or behind MySQL before it drains it again.
 */
export class OrderWriter {
  private readonly commands: AcknowledgeCommands;
  private readonly destination: OrderDestination;
  private readonly batchSize: number;
  private readonly claimIdleMs: number;
  private readonly maxAttempts: number;
  private readonly idleDelayMs: number;
  private readonly slowCycleMs: number;
  private readonly pipelineReportMs: number;
  private readonly pipelineLog: Logger;
  private pipelineReportedAt = 0;
  /** The process's dead-letter count at the previous line (at start, before the first). */
  private deadLettersReported: Promise<number> = Promise.resolve(0);
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: () => void = () => undefined;
  private readonly rebuilder: SaleRebuilder;
  private streams: SaleStream[] = [];
  /** Sales to rebuild from MySQL before anything else, with the reason. */
  private rebuildsDue = new Map<string, string>();
  /** MySQL's live sales as last read (kept while MySQL is unreachable). */
  private mysqlSales = new Map<string, LiveSale>();
  private salesRefreshedAt = 0;
  private refreshing: Promise<void> | undefined;
  private mysqlRead: Promise<void> | undefined;
  /** Refreshes (and so measures) every second even while a cycle is stuck on MySQL or backing off. */
  private refreshTimer: NodeJS.Timeout | undefined;
  /** By order stream key. */
  private readonly claimedAt = new Map<string, number>();
  /** Order streams whose pending list for this consumer may be non-empty (start-up, failures, claims). */
  private readonly mayHavePending = new Set<string>();
  private readonly failedAttempts = new Map<string, number>();

  constructor(private readonly options: OrderWriterOptions) {
    options.redis.defineCommand("seckillAcknowledgeEntries", { numberOfKeys: 1, lua: ACKNOWLEDGE_ENTRIES_SCRIPT });
    this.commands = options.redis as unknown as AcknowledgeCommands;
    this.destination = options.destination ?? mysqlDestination(options.pool);
    this.batchSize = options.batchSize ?? 500;
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.idleDelayMs = options.idleDelayMs ?? 100;
    this.slowCycleMs = options.slowCycleMs ?? 3000;
    this.pipelineReportMs = options.pipelineReportMs ?? 10_000;
    const { logger } = options;
    this.pipelineLog = logger.level === "silent" ? logger : logger.child({}, { level: "info" });
    this.rebuilder = new SaleRebuilder(options);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.deadLettersReported = deadLettersSoFar();
    this.refreshTimer = setInterval(() => {
      this.refreshSales(true).catch((error: unknown) => this.options.logger.debug({ err: error }, "order writer refresh failed"));
    }, SALES_REFRESH_MS);
    this.loop = this.run();
  }

  /** Finishes the batch in progress (commit, then acknowledge) and stops. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.refreshTimer);
    this.wake();
    await this.loop;
    await this.refreshing?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let consecutiveFailures = 0;
    while (this.running) {
      let progressed = false;
      try {
        await this.underWatchdog(async () => {
          await this.refreshSales();
          for (const [saleId, reason] of this.rebuildsDue) {
            if (!this.running) break;
            if (!(await this.rebuilder.rebuild(saleId, reason))) continue;
            progressed = true;
            // Watch it again, with its new stream, at once.
            this.salesRefreshedAt = 0;
          }
          for (const stream of this.streams) {
            if (!this.running) break;
            if (await this.drainOnce(stream)) progressed = true;
          }
        });
        consecutiveFailures = 0;
      } catch (error) {
        // A read that timed out may still have handed entries to this consumer: look at its pending ones first.
        for (const { keys } of this.streams) this.mayHavePending.add(keys.orders);
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

  /** At most one refresh at a time: the timer's every second, the loop's when the last one is a second old. */
  private refreshSales(onTimer = false): Promise<void> {
    if (!onTimer && Date.now() - this.salesRefreshedAt < SALES_REFRESH_MS) return Promise.resolve();
    this.refreshing ??= this.readSales().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * Which sales to drain (listed in Redis, or live in MySQL) and which to rebuild first; the backlog, the lag (age of
   * the oldest entry still in a stream, by Redis's clock) and reserved − confirmed per sale, measured whether or not
   * MySQL answers.
   */
  private async readSales(): Promise<void> {
    const now = Date.now();
    const { redis, keyPrefix } = this.options;
    const listed = await redis.smembers(salesIndexKey(keyPrefix));
    await this.readMysqlSales(now);
    const saleIds = [...new Set([...listed, ...this.mysqlSales.keys()])];
    const [[seconds, microseconds], states] = await Promise.all([redis.time(), Promise.all(saleIds.map((id) => this.readSaleState(id)))]);
    const redisNow = Number(seconds) * 1000 + Number(microseconds) / 1000;
    let backlog = 0;
    let oldestEntryAt = redisNow;
    const watched: SaleStream[] = [];
    const rebuilds = new Map<string, string>();
    const unconfirmed = new Map<string, number>();
    for (const [i, saleId] of saleIds.entries()) {
      const { buckets, heldByLastBuyer } = states[i];
      const inMysql = this.mysqlSales.get(saleId);
      const rebuildReason = buckets.find((bucket) => bucket.rebuildReason !== null)?.rebuildReason ?? undefined;
      const missing = buckets.some((bucket) => bucket.stock === null);
      const reason = rebuildReason ?? whyRebuild(inMysql, buckets[0].stock !== null, missing, heldByLastBuyer);
      if (reason !== undefined && inMysql) {
        rebuilds.set(saleId, reason);
        continue;
      }
      // Listed just before it is loaded; until its hashes (and streams) exist there is nothing to read.
      if (missing || rebuildReason !== undefined) continue;
      const length = buckets.reduce((sum, bucket) => sum + bucket.length, 0);
      backlog += length;
      for (const { oldestEntryId } of buckets) {
        if (oldestEntryId !== undefined) oldestEntryAt = Math.min(oldestEntryAt, Number(oldestEntryId.split("-")[0]));
      }
      if (inMysql) unconfirmed.set(saleId, buckets.reduce((sum, bucket) => sum + Number(bucket.sold), 0) - inMysql.confirmed);
      if (Number(buckets[0].endsAt) + ENDED_SALE_GRACE_MS < now && length === 0) {
        await redis.srem(salesIndexKey(keyPrefix), saleId);
        continue;
      }
      for (const bucket of buckets) {
        if (!this.streams.some((stream) => stream.keys.orders === bucket.keys.orders)) this.mayHavePending.add(bucket.keys.orders);
        watched.push({ saleId, keys: bucket.keys });
      }
    }
    const lagSeconds = Math.max(0, redisNow - oldestEntryAt) / 1000;
    orderWriterBacklog.set(backlog);
    orderWriterLagSeconds.set(lagSeconds);
    await this.reportPipeline(now, lagSeconds, backlog);
    saleUnconfirmedOrders.reset();
    for (const [saleId, units] of unconfirmed) saleUnconfirmedOrders.set({ sale_id: saleId }, units);
    this.streams = watched;
    this.rebuildsDue = rebuilds;
    this.salesRefreshedAt = now;
  }

  /** Logs the pipeline's figures when the interval has passed: dead letters counted since the previous line. */
  private async reportPipeline(now: number, lagSeconds: number, backlog: number): Promise<void> {
    if (now - this.pipelineReportedAt < this.pipelineReportMs) return;
    this.pipelineReportedAt = now;
    const previous = await this.deadLettersReported;
    const total = await (this.deadLettersReported = deadLettersSoFar());
    const figures: PipelineLogFields = { lagSeconds, backlog, deadLetters: total - previous };
    this.pipelineLog.info(figures, PIPELINE_LOG_MESSAGE);
  }

  /** Every bucket of the sale (as many as MySQL or Redis say it has), and whether the newest buyer MySQL has is in Redis. */
  private async readSaleState(saleId: string): Promise<{ buckets: BucketState[]; heldByLastBuyer: string | null }> {
    const { redis, keyPrefix } = this.options;
    const inMysql = this.mysqlSales.get(saleId);
    const first = await this.readBucket(bucketKeys(keyPrefix, saleId, 0));
    const count = Math.max(inMysql?.stockBuckets ?? 1, Number(first.buckets ?? 1));
    const others = await Promise.all(Array.from({ length: count - 1 }, (_, i) => this.readBucket(bucketKeys(keyPrefix, saleId, i + 1))));
    const lastOrder = inMysql?.lastOrder;
    const heldByLastBuyer = lastOrder
      ? await redis.hget(buyerKeys(keyPrefix, saleId, lastOrder.userId, count).buyers, lastOrder.userId)
      : null;
    return { buckets: [first, ...others], heldByLastBuyer };
  }

  /** One pipeline per bucket: on a Redis Cluster a pipeline must stay within one hash tag. */
  private async readBucket(keys: SaleKeys): Promise<BucketState> {
    const results = await this.options.redis
      .pipeline()
      .hmget(keys.sale, "stock", "sold", "endsAt", "rebuildReason", "buckets")
      .xlen(keys.orders)
      .xrange(keys.orders, "-", "+", "COUNT", 1)
      .exec();
    const [state, length, first] = (results ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply;
    }) as [(string | null)[], number, [string, string[]][]];
    const [stock, sold, endsAt, rebuildReason, buckets] = state;
    return { keys, stock, sold, endsAt, rebuildReason, buckets, length, oldestEntryId: first[0]?.[0] };
  }

  /**
   * Reads MySQL's live sales unless a read is still under way, waiting for it a moment at most: a MySQL that is down
   * or hangs must not stop the refresh (and the lag it measures), which then goes on with the last list read.
   */
  private async readMysqlSales(now: number): Promise<void> {
    this.mysqlRead ??= liveSales(this.options.pool, now)
      .then(
        (sales) => void (this.mysqlSales = new Map(sales.map((sale) => [sale.id, sale]))),
        (error: unknown) => {
          if (!isTransientMysqlError(error)) this.options.logger.error({ err: error }, "cannot read the live sales from MySQL");
        },
      )
      .finally(() => (this.mysqlRead = undefined));
    await Promise.race([this.mysqlRead, new Promise((resolve) => setTimeout(resolve, MYSQL_READ_WAIT_MS))]);
  }

  /** Processes at most one batch of the stream; returns whether there was anything to do. */
  private async drainOnce({ saleId, keys }: SaleStream): Promise<boolean> {
    await this.claimAbandoned(keys);
    if (this.mayHavePending.has(keys.orders)) {
      const pending = await this.read(keys, "0");
      if (pending.length > 0) {
        await this.process(saleId, keys, pending);
        return true;
      }
      this.mayHavePending.delete(keys.orders);
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

  private async claimAbandoned(keys: SaleKeys): Promise<void> {
    const now = Date.now();
    if (now - (this.claimedAt.get(keys.orders) ?? 0) < Math.min(this.claimIdleMs, 5000)) return;
    this.claimedAt.set(keys.orders, now);
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
        this.mayHavePending.add(keys.orders);
        logger.info({ stream: keys.orders, entries: claimed.length }, "claimed order events abandoned by another consumer");
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
    for (const [id, fields] of malformed)
      await deadLetter(this.options.redis, this.options.logger, keys, id, fields, "malformed order event");
    if (events.length === 0) return;
    try {
      await this.commit(keys, events);
    } catch (error) {
      if (this.destination.isTransient(error)) throw error;
      if (events.length === 1) return this.settleFailure(keys, events[0], error as Error);
      // Something in the batch is bad: find it by committing the entries one at a time.
      for (const one of events) {
        try {
          await this.commit(keys, [one]);
        } catch (oneError) {
          if (this.destination.isTransient(oneError)) throw oneError;
          await this.settleFailure(keys, one, oneError as Error);
        }
      }
    }
  }

  private async commit(keys: SaleKeys, events: PendingEvent[]): Promise<void> {
    try {
      await this.destination.deliver(events.map((e) => e.event));
      await this.acknowledge(
        keys,
        events.map((e) => e.id),
      );
    } catch (error) {
      // Unacknowledged entries stay in this consumer's pending list; read them again next time.
      this.mayHavePending.add(keys.orders);
      throw error;
    }
    for (const { id } of events) this.failedAttempts.delete(id);
  }

  private async acknowledge(keys: SaleKeys, ids: string[]): Promise<void> {
    await this.commands.seckillAcknowledgeEntries(keys.orders, ORDER_WRITER_GROUP, ...ids);
  }

  private async settleFailure(keys: SaleKeys, pending: PendingEvent, error: Error): Promise<void> {
    if (error instanceof RefusedOrdersError) return this.settleRefused(keys, pending, error.refused[0]);
    const attempts = (this.failedAttempts.get(pending.id) ?? 0) + 1;
    if (attempts < this.maxAttempts) {
      this.failedAttempts.set(pending.id, attempts);
      this.options.logger.warn({ err: error, entryId: pending.id, event: pending.event, attempts }, "order event failed; will retry");
      return;
    }
    this.failedAttempts.delete(pending.id);
    await deadLetter(this.options.redis, this.options.logger, keys, pending.id, orderEventFields(pending.event), error.message);
  }

  /** MySQL's refusal is final (see confirmOrders), so it is settled at once rather than retried. */
  private async settleRefused(keys: SaleKeys, { id, event }: PendingEvent, { reason, detail }: RefusedOrder): Promise<void> {
    const { redis, keyPrefix, logger } = this.options;
    if (reason === "superseded") {
      // Issued before a rebuild that did not find it: the rebuild already told Redis its buyer holds nothing.
      await recordLostOrder(redis, keyPrefix, logger, event, LOST_IN_REDIS);
      await this.acknowledge(keys, [id]);
      return;
    }
    ordersRefused.inc({ reason });
    await deadLetter(redis, logger, keys, id, orderEventFields(event), detail);
    // Redis handed out what MySQL cannot confirm, so Redis is wrong about the sale: restore it from MySQL.
    await redis.hset(keys.sale, "rebuildReason", `MySQL refused order ${event.orderId}: ${detail}`);
  }
}

/** Order events this process has dead-lettered (the writer, and the rebuilds it runs). */
async function deadLettersSoFar(): Promise<number> {
  return (await orderDeadLetters.get()).values[0]?.value ?? 0;
}

/** Why the sale's Redis state must be rebuilt from MySQL before it is drained again, if it must. */
function whyRebuild(
  inMysql: LiveSale | undefined,
  inRedis: boolean,
  bucketMissing: boolean,
  heldByLastBuyer: string | null,
): string | undefined {
  if (!inMysql) return undefined;
  // A sale just created is in MySQL a moment before the admin request loads it into Redis: not missing yet.
  if (!inRedis) return inMysql.justCreated ? undefined : "the sale is missing from Redis";
  if (bucketMissing) return inMysql.justCreated ? undefined : "a bucket of the sale is missing from Redis";
  if (inMysql.lastOrder && heldByLastBuyer !== inMysql.lastOrder.orderId) {
    return `Redis is behind MySQL: it does not hold order ${inMysql.lastOrder.orderId}, the newest one confirmed`;
  }
  return undefined;
}
