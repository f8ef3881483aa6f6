import { NothingSentError, type RedisClient } from "../platform/redis";
import { LOAD_SALE_SCRIPT, RESERVE_SCRIPT, ReserveReply } from "./reservation-script";
import type { ReplicaAck } from "./replica-ack";
import { FIRST_GENERATION, saleStatus, type Sale } from "./sale";
import { bucketKeys, buyerKeys, homeBucket, ORDER_WRITER_GROUP, saleKeys, salesIndexKey, type SaleKeys } from "./sale-keys";
import { StockMoves } from "./stock-moves";

export {
  bucketKeys,
  buyerKeys,
  homeBucket,
  MAX_STOCK_BUCKETS,
  ORDER_WRITER_GROUP,
  saleKeys,
  salesIndexKey,
  type SaleKeys,
} from "./sale-keys";

export type ReserveOutcome =
  | { readonly kind: "reserved" | "already_purchased"; readonly orderId: string }
  | { readonly kind: "not_started" | "ended" | "sold_out" | "unknown_sale" | "rebuilding" }
  /** The buyer's bucket is dry while units of the sale were still on their way between buckets: nothing was taken. */
  | { readonly kind: "stock_moving" }
  /** The unit was taken but no replica confirmed it in time (REDIS_REPLICA_ACK): a failover could still lose it. */
  | { readonly kind: "outcome_unknown" };

/** What a read of the sale found: the sale with Redis's clock, or why there is none to show. */
export type SaleSnapshot =
  | { readonly kind: "found"; readonly sale: Sale; /** Redis's TIME, epoch ms. */ readonly now: number }
  | { readonly kind: "unknown_sale" }
  | { readonly kind: "rebuilding" };

/** Sales that take no order now; remembered per process so they cost no Redis call. */
type ClosedReason = "sold_out" | "ended";

interface Closed {
  readonly reason: ClosedReason;
  /** Of the sale's state that said so: a rebuild from MySQL (a newer generation) may have put lost units back. */
  readonly generation: number;
}

/**
 * How often a process asks Redis whether the sales it knows are sold out still are: an expired order's unit goes back
 * on sale (return-unit.lua), and every worker must offer it within 2 s. One pipelined HMGET per interval per worker,
 * and only while some sale is sold out.
 */
export const SOLD_OUT_RECHECK_MS = 500;

/** The newest state of a sale this process has seen: Redis must never be found behind it. */
interface Seen {
  readonly generation: number;
  /** Units handed out: sold plus returned, which only grows within a generation. */
  readonly sold: number;
}

export interface ReservationOptions {
  /**
   * The generation MySQL has for each live sale: one missing from Redis is being rebuilt (503), not unknown (404),
   * and one whose generation moved on was rebuilt, so what this process remembers of it is out of date.
   */
  readonly liveSales?: { generation(saleId: string): number | undefined; stockBuckets?(saleId: string): number | undefined };
  /** When given, a unit is only reported taken once a replica has it (REDIS_REPLICA_ACK). */
  readonly replicaAck?: ReplicaAck;
  /**
   * How long an order may wait for others of the same sale to share its script call (ORDER_BATCH_WAIT_US). 0, the
   * default: only the orders that arrive in the same event-loop turn share one.
   */
  readonly batchWaitMicros?: number;
}

/** Buyers per script call: long enough to carry a burst, short enough that the script never blocks Redis for long. */
export const MAX_BATCH = 256;

/** Refills of a dry bucket one batch tries before it tells the buyers still waiting to try again. */
const REFILL_ROUNDS = 3;

interface Waiting {
  readonly userId: string;
  resolve(outcome: ReserveOutcome): void;
  reject(error: unknown): void;
}

interface ReservationCommands {
  /** {code} for the whole batch, or {generation, sold, code1, orderId1, ...}: see reserve.lua. */
  seckillReserve(sale: string, buyers: string, orders: string, ...args: (string | number)[]): Promise<(number | string | null)[]>;
  seckillLoadSale(sale: string, orders: string, ...args: (string | number)[]): Promise<number>;
}

const NOTHING_SEEN: Seen = { generation: 0, sold: 0 };

const SIMPLE_OUTCOMES: Record<number, ReserveOutcome> = {
  [ReserveReply.unknownSale]: { kind: "unknown_sale" },
  [ReserveReply.notStarted]: { kind: "not_started" },
  [ReserveReply.ended]: { kind: "ended" },
  [ReserveReply.soldOut]: { kind: "sold_out" },
  [ReserveReply.rebuilding]: { kind: "rebuilding" },
};

/** The Redis side of a sale: loading it, reading it and reserving units, in however many buckets it has. */
export class Reservations {
  private readonly commands: ReservationCommands;
  private readonly moves: StockMoves;
  private readonly closedSales = new Map<string, Closed>();
  /** Per bucket (`<saleId>:<bucket>`). */
  private readonly seen = new Map<string, Seen>();
  /** Orders waiting for their bucket's next script call (`<saleId>:<bucket>`), first come first. */
  private readonly batches = new Map<string, Waiting[]>();
  /** A sale's number of buckets never changes: read once per process. */
  private readonly bucketCounts = new Map<string, number>();
  private readonly bucketLookups = new Map<string, Promise<(string | null)[]>>();

  constructor(
    readonly redis: RedisClient,
    readonly keyPrefix: string,
    private readonly options: ReservationOptions = {},
  ) {
    redis.defineCommand("seckillReserve", { numberOfKeys: 3, lua: RESERVE_SCRIPT });
    redis.defineCommand("seckillLoadSale", { numberOfKeys: 2, lua: LOAD_SALE_SCRIPT });
    this.commands = redis as unknown as ReservationCommands;
    this.moves = new StockMoves(redis, keyPrefix);
  }

  keys(saleId: string): SaleKeys {
    return saleKeys(this.keyPrefix, saleId);
  }

  /** Why this process already knows the sale takes no more orders, if it does. */
  knownClosed(saleId: string): ClosedReason | undefined {
    const closed = this.closedSales.get(saleId);
    if (closed === undefined || (this.options.liveSales?.generation(saleId) ?? 0) <= closed.generation) return closed?.reason;
    this.closedSales.delete(saleId);
    return undefined;
  }

  /** Forgets "sold out" for every sale that has a unit again (see SOLD_OUT_RECHECK_MS). */
  async recheckSoldOut(): Promise<void> {
    const soldOut = [...this.closedSales].filter(([, closed]) => closed.reason === "sold_out").map(([saleId]) => saleId);
    // One read per sale, not one pipeline for all: on a Redis Cluster a pipeline must stay within one hash tag.
    await Promise.all(
      soldOut.map(async (saleId) => {
        const totals = await this.totals(saleId, await this.buckets(saleId));
        if (totals !== undefined && totals.sold < totals.stock) this.closedSales.delete(saleId);
      }),
    );
  }

  /** Runs recheckSoldOut every SOLD_OUT_RECHECK_MS until the returned function is called. */
  startSoldOutRecheck(): () => void {
    const timer = setInterval(() => void this.recheckSoldOut().catch(() => undefined), SOLD_OUT_RECHECK_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * The sale's number of buckets (1 for a sale Redis does not have, which the scripts then answer for): known to the
   * process that loaded the sale, to every process from MySQL's live sales within a refresh, from Redis meanwhile.
   */
  async buckets(saleId: string): Promise<number> {
    const known = this.bucketCounts.get(saleId) ?? this.options.liveSales?.stockBuckets?.(saleId);
    if (known !== undefined) return known;
    // One read for every order that arrives before it is answered, so they still reach their batch together.
    let lookup = this.bucketLookups.get(saleId);
    if (lookup === undefined) {
      lookup = this.redis.hmget(this.keys(saleId).sale, "buckets", "stock").finally(() => this.bucketLookups.delete(saleId));
      this.bucketLookups.set(saleId, lookup);
    }
    const [buckets, stock] = await lookup;
    if (stock === null) return 1;
    const count = buckets === null ? 1 : Number(buckets);
    this.bucketCounts.set(saleId, count);
    return count;
  }

  /**
   * One unit for the buyer, from their home bucket. Orders for the same bucket that arrive together share one EVALSHA
   * (window, one-per-user, stock and the order event, atomically, in arrival order), plus a WAIT with replicaAck; each
   * gets its own answer. A dry bucket is refilled from the others (StockMoves) before anyone hears sold out.
   */
  async reserve(saleId: string, userId: string): Promise<ReserveOutcome> {
    let buckets = this.bucketCounts.get(saleId);
    try {
      buckets ??= await this.buckets(saleId);
    } catch (error) {
      // Only a read failed: no reservation was sent.
      throw new NothingSentError(error);
    }
    const bucket = homeBucket(saleId, userId, buckets);
    const batchKey = `${saleId}:${bucket}`;
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(batchKey);
      const send = () => this.reserveInBucket(saleId, buckets, bucket, batch!);
      if (batch === undefined) {
        batch = [];
        this.batches.set(batchKey, batch);
        this.flushLater(batchKey, batch, send);
      }
      batch.push({ userId, resolve, reject });
      if (batch.length >= MAX_BATCH) this.flush(batchKey, batch, send);
    });
  }

  /** At the end of this event-loop turn, or once the batch wait has passed (polled each turn: a timer's 1 ms is too coarse). */
  private flushLater(batchKey: string, batch: Waiting[], send: () => Promise<ReserveOutcome[]>): void {
    const waitMicros = this.options.batchWaitMicros ?? 0;
    if (waitMicros === 0) {
      setImmediate(() => this.flush(batchKey, batch, send));
      return;
    }
    const due = process.hrtime.bigint() + BigInt(waitMicros) * 1000n;
    const poll = () => {
      if (this.batches.get(batchKey) !== batch) return;
      if (process.hrtime.bigint() >= due) this.flush(batchKey, batch, send);
      else setImmediate(poll);
    };
    setImmediate(poll);
  }

  private flush(batchKey: string, batch: Waiting[], send: () => Promise<ReserveOutcome[]>): void {
    if (this.batches.get(batchKey) !== batch) return;
    this.batches.delete(batchKey);
    send().then(
      (outcomes) => batch.forEach((waiting, i) => waiting.resolve(outcomes[i])),
      (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
    );
  }

  private async reserveInBucket(saleId: string, buckets: number, bucket: number, batch: readonly Waiting[]): Promise<ReserveOutcome[]> {
    const userIds = batch.map((waiting) => waiting.userId);
    const { outcomes, generation } = await this.runScript(saleId, buckets, bucket, userIds);
    if (buckets === 1) return outcomes;
    for (let round = 0; round < REFILL_ROUNDS; round++) {
      const dry = outcomes.flatMap((outcome, i) => (outcome.kind === "sold_out" ? [i] : []));
      if (dry.length === 0) return outcomes;
      const arrived =
        (await this.moves.refill(saleId, buckets, bucket, dry.length, generation)) || (await this.moves.finishPending(saleId, buckets));
      if (arrived === 0 && (await this.allSold(saleId, buckets))) {
        this.close(saleId, "sold_out", generation);
        return outcomes;
      }
      const again = await this.runScript(
        saleId,
        buckets,
        bucket,
        dry.map((i) => userIds[i]),
      );
      dry.forEach((i, j) => (outcomes[i] = again.outcomes[j]));
    }
    // Units are still on their way between buckets (another process is moving them): nothing was taken, try again.
    return outcomes.map((outcome) => (outcome.kind === "sold_out" ? { kind: "stock_moving" } : outcome));
  }

  /** One call of reserve.lua on one bucket. With several buckets, `sold_out` means this bucket is dry. */
  private async runScript(
    saleId: string,
    buckets: number,
    bucket: number,
    userIds: readonly string[],
  ): Promise<{ outcomes: ReserveOutcome[]; generation: number }> {
    const keys = bucketKeys(this.keyPrefix, saleId, bucket);
    const seenKey = `${saleId}:${bucket}`;
    const seen = this.seen.get(seenKey) ?? NOTHING_SEEN;
    const reply = await this.commands.seckillReserve(keys.sale, keys.buyers, keys.orders, saleId, seen.generation, seen.sold, ...userIds);
    if (reply.length === 1) {
      const code = reply[0] as number;
      const outcome = code === ReserveReply.unknownSale && this.isLive(saleId) ? { kind: "rebuilding" as const } : SIMPLE_OUTCOMES[code];
      return { outcomes: userIds.map(() => outcome), generation: 0 };
    }
    const generation = reply[0] as number;
    this.remember(seenKey, { generation, sold: reply[1] as number });
    const tookUnits = userIds.some((_, i) => reply[3 + 2 * i] !== null);
    const replicated = !tookUnits || !this.options.replicaAck || (await this.options.replicaAck.replicated());
    const outcomes = userIds.map((_, i): ReserveOutcome => {
      const code = reply[2 + 2 * i] as number;
      const orderId = reply[3 + 2 * i] as string | null;
      if (orderId !== null && !replicated) return { kind: "outcome_unknown" };
      if (code === ReserveReply.reserved) return { kind: "reserved", orderId: orderId! };
      if (code === ReserveReply.alreadyPurchased) return { kind: "already_purchased", orderId: orderId! };
      const outcome = SIMPLE_OUTCOMES[code];
      if (outcome.kind === "ended" || (outcome.kind === "sold_out" && buckets === 1)) {
        this.close(saleId, outcome.kind, generation);
      }
      return outcome;
    });
    return { outcomes, generation };
  }

  /**
   * Whether every unit of a sale with several buckets is sold. The buckets are read one by one, not at one instant.
   * Without expiries `sold` only grows, so a sum that reaches the total stock is proof. An expired order's unit coming
   * back to one bucket while another is read can make the sum pass the stock for a moment; the sale then shows sold
   * out until the next recheck (SOLD_OUT_RECHECK_MS), never oversells.
   */
  private async allSold(saleId: string, buckets: number): Promise<boolean> {
    const totals = await this.totals(saleId, buckets);
    return totals !== undefined && totals.sold >= totals.stock;
  }

  /** The sale's total stock and units sold over all its buckets; undefined when a bucket is missing or being rebuilt. */
  private async totals(saleId: string, buckets: number): Promise<{ stock: number; sold: number } | undefined> {
    const states = await Promise.all(
      Array.from({ length: buckets }, (_, bucket) =>
        this.redis.hmget(bucketKeys(this.keyPrefix, saleId, bucket).sale, "sold", "rebuildReason", "totalStock", "stock"),
      ),
    );
    if (states.some(([sold, rebuildReason]) => sold === null || rebuildReason !== null)) return undefined;
    // A sale of one bucket has no totalStock: its stock is the total.
    const [, , totalStock, stock] = states[0];
    return { stock: Number(totalStock ?? stock), sold: states.reduce((sum, [sold]) => sum + Number(sold), 0) };
  }

  private close(saleId: string, reason: ClosedReason, generation: number): void {
    this.closedSales.set(saleId, { reason, generation });
  }

  private isLive(saleId: string): boolean {
    return this.options.liveSales?.generation(saleId) !== undefined;
  }

  private remember(seenKey: string, latest: Seen): void {
    const seen = this.seen.get(seenKey) ?? NOTHING_SEEN;
    if (latest.generation > seen.generation || (latest.generation === seen.generation && latest.sold > seen.sold)) {
      this.seen.set(seenKey, latest);
    }
  }

  /**
   * Registers the sale with the order writer, then makes it visible with its full stock, shared out over its buckets:
   * bucket 0 last, since the sale is there once bucket 0 is (a load cut short leaves no sale, and loading again is safe).
   */
  async loadSale(sale: Sale): Promise<boolean> {
    await this.redis.sadd(salesIndexKey(this.keyPrefix), sale.id);
    const buckets = sale.stockBuckets ?? 1;
    this.bucketCounts.set(sale.id, buckets);
    let loaded = 0;
    for (let bucket = buckets - 1; bucket >= 0; bucket--) {
      const keys = bucketKeys(this.keyPrefix, sale.id, bucket);
      loaded = await this.commands.seckillLoadSale(
        keys.sale,
        keys.orders,
        ORDER_WRITER_GROUP,
        sale.itemName,
        bucketShare(sale.stock, buckets, bucket),
        sale.startsAt,
        sale.endsAt,
        sale.priceCents ?? "",
        FIRST_GENERATION,
        buckets,
        sale.stock,
      );
    }
    return loaded === 1;
  }

  async readSale(saleId: string): Promise<SaleSnapshot> {
    const [[hashError, fields], [timeError, time]] = (await this.redis
      .pipeline()
      .hmget(
        this.keys(saleId).sale,
        "itemName",
        "stock",
        "sold",
        "startsAt",
        "endsAt",
        "priceCents",
        "generation",
        "rebuildReason",
        "buckets",
      )
      .time()
      .exec())!;
    if (hashError || timeError) throw hashError ?? timeError;
    const [itemName, stock, sold, startsAt, endsAt, priceCents, generation, rebuildReason, buckets] = fields as (string | null)[];
    if (rebuildReason !== null) return { kind: "rebuilding" };
    if (itemName === null || stock === null || sold === null || startsAt === null || endsAt === null) {
      return { kind: this.isLive(saleId) ? "rebuilding" : "unknown_sale" };
    }
    const stockBuckets = buckets === null ? 1 : Number(buckets);
    const totals = stockBuckets === 1 ? { stock: Number(stock), sold: Number(sold) } : await this.totals(saleId, stockBuckets);
    if (totals === undefined) return { kind: "rebuilding" };
    const [seconds, microseconds] = time as [string, string];
    const now = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
    const sale: Sale = {
      id: saleId,
      itemName,
      stock: totals.stock,
      sold: totals.sold,
      startsAt: Number(startsAt),
      endsAt: Number(endsAt),
      ...(priceCents === null ? {} : { priceCents: Number(priceCents) }),
      ...(stockBuckets === 1 ? {} : { stockBuckets }),
    };
    const status = saleStatus(sale, now);
    if (status === "sold_out" || status === "ended") this.close(saleId, status, Number(generation));
    else this.closedSales.delete(saleId);
    return { kind: "found", sale, now };
  }

  /** The order id this buyer holds in the sale, if any. */
  async buyerOrderId(saleId: string, userId: string): Promise<string | null> {
    return this.redis.hget(buyerKeys(this.keyPrefix, saleId, userId, await this.buckets(saleId)).buyers, userId);
  }
}

/** Bucket `bucket`'s share of `stock` units split over `buckets`: as even as it goes, the first ones one more. */
export function bucketShare(stock: number, buckets: number, bucket: number): number {
  return Math.floor(stock / buckets) + (bucket < stock % buckets ? 1 : 0);
}
