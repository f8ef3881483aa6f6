import type { RedisClient } from "../platform/redis";
import { LOAD_SALE_SCRIPT, RESERVE_SCRIPT, ReserveReply } from "./reservation-script";
import type { ReplicaAck } from "./replica-ack";
import { FIRST_GENERATION, saleStatus, type Sale } from "./sale";

/** The consumer group every order-event consumer (the MySQL order writer, a queue relay) reads with. */
export const ORDER_WRITER_GROUP = "order-writer";

/**
 * Redis key layout (after the configured prefix):
 *   sales                          SET of sale ids whose order streams the order writer watches (with MySQL's live sales)
 *   {sale:<id>}                    HASH itemName, stock, sold, startsAt, endsAt (epoch ms), priceCents?, generation,
 *                                  rebuildReason? (set while the state must be rebuilt from MySQL: no sales meanwhile)
 *   {sale:<id>}:buyers             HASH userId -> orderId (one unit per user)
 *   {sale:<id>}:orders             STREAM of order events (orderId, saleId, userId, reservedAt), group "order-writer"
 *   {sale:<id>}:dead               STREAM of order events that kept failing, with the error
 *   {sale:<id>}:lost               HASH orderId -> why: orders a buyer got a 202 for that Redis lost before MySQL had them
 *   {sale:<id>}:rebuild-lock       STRING held by the one order writer rebuilding the sale (with an expiry)
 *   {sale:<id>}:buyers:rebuilding  HASH the buyers hash being rebuilt from MySQL, swapped in when complete
 * All per-sale keys share the hash tag, so a script or MULTI over them is valid on a cluster.
 */
export interface SaleKeys {
  readonly sale: string;
  readonly buyers: string;
  readonly orders: string;
  readonly deadLetters: string;
  readonly lost: string;
  readonly rebuildLock: string;
  readonly stagedBuyers: string;
}

export function saleKeys(prefix: string, saleId: string): SaleKeys {
  const sale = `${prefix}{sale:${saleId}}`;
  return {
    sale,
    buyers: `${sale}:buyers`,
    orders: `${sale}:orders`,
    deadLetters: `${sale}:dead`,
    lost: `${sale}:lost`,
    rebuildLock: `${sale}:rebuild-lock`,
    stagedBuyers: `${sale}:buyers:rebuilding`,
  };
}

export function salesIndexKey(prefix: string): string {
  return `${prefix}sales`;
}

export type ReserveOutcome =
  | { readonly kind: "reserved" | "already_purchased"; readonly orderId: string }
  | { readonly kind: "not_started" | "ended" | "sold_out" | "unknown_sale" | "rebuilding" }
  /** The unit was taken but no replica confirmed it in time (REDIS_REPLICA_ACK): a failover could still lose it. */
  | { readonly kind: "outcome_unknown" };

/** What a read of the sale found: the sale with Redis's clock, or why there is none to show. */
export type SaleSnapshot =
  | { readonly kind: "found"; readonly sale: Sale; /** Redis's TIME, epoch ms. */ readonly now: number }
  | { readonly kind: "unknown_sale" }
  | { readonly kind: "rebuilding" };

/** Sales that can never take another order; remembered per process so they cost no Redis call. */
type ClosedReason = "sold_out" | "ended";

interface Closed {
  readonly reason: ClosedReason;
  /** Of the sale's state that said so: a rebuild from MySQL (a newer generation) may have put lost units back. */
  readonly generation: number;
}

/** The newest state of a sale this process has seen: Redis must never be found behind it. */
interface Seen {
  readonly generation: number;
  readonly sold: number;
}

export interface ReservationOptions {
  /**
   * The generation MySQL has for each live sale: one missing from Redis is being rebuilt (503), not unknown (404),
   * and one whose generation moved on was rebuilt, so what this process remembers of it is out of date.
   */
  readonly liveSales?: { generation(saleId: string): number | undefined };
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

/** The Redis side of a sale: loading it, reading it and reserving units. */
export class Reservations {
  private readonly commands: ReservationCommands;
  private readonly closedSales = new Map<string, Closed>();
  private readonly seen = new Map<string, Seen>();
  /** Orders waiting for their sale's next script call, first come first. */
  private readonly batches = new Map<string, Waiting[]>();

  constructor(
    readonly redis: RedisClient,
    readonly keyPrefix: string,
    private readonly options: ReservationOptions = {},
  ) {
    redis.defineCommand("seckillReserve", { numberOfKeys: 3, lua: RESERVE_SCRIPT });
    redis.defineCommand("seckillLoadSale", { numberOfKeys: 2, lua: LOAD_SALE_SCRIPT });
    this.commands = redis as unknown as ReservationCommands;
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

  /**
   * One unit for the buyer. Orders for the same sale that arrive together share one EVALSHA (window, one-per-user,
   * stock and the order event, atomically, in arrival order), plus a WAIT with replicaAck; each gets its own answer.
   */
  reserve(saleId: string, userId: string): Promise<ReserveOutcome> {
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(saleId);
      if (batch === undefined) {
        batch = [];
        this.batches.set(saleId, batch);
        this.flushLater(saleId, batch);
      }
      batch.push({ userId, resolve, reject });
      if (batch.length >= MAX_BATCH) this.flush(saleId, batch);
    });
  }

  /** At the end of this event-loop turn, or once the batch wait has passed (polled each turn: a timer's 1 ms is too coarse). */
  private flushLater(saleId: string, batch: Waiting[]): void {
    const waitMicros = this.options.batchWaitMicros ?? 0;
    if (waitMicros === 0) {
      setImmediate(() => this.flush(saleId, batch));
      return;
    }
    const due = process.hrtime.bigint() + BigInt(waitMicros) * 1000n;
    const poll = () => {
      if (this.batches.get(saleId) !== batch) return;
      if (process.hrtime.bigint() >= due) this.flush(saleId, batch);
      else setImmediate(poll);
    };
    setImmediate(poll);
  }

  private flush(saleId: string, batch: Waiting[]): void {
    if (this.batches.get(saleId) !== batch) return;
    this.batches.delete(saleId);
    this.reserveBatch(
      saleId,
      batch.map((w) => w.userId),
    ).then(
      (outcomes) => batch.forEach((waiting, i) => waiting.resolve(outcomes[i])),
      (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
    );
  }

  private async reserveBatch(saleId: string, userIds: readonly string[]): Promise<ReserveOutcome[]> {
    const keys = this.keys(saleId);
    const seen = this.seen.get(saleId) ?? NOTHING_SEEN;
    const reply = await this.commands.seckillReserve(keys.sale, keys.buyers, keys.orders, saleId, seen.generation, seen.sold, ...userIds);
    if (reply.length === 1) {
      const code = reply[0] as number;
      const outcome = code === ReserveReply.unknownSale && this.isLive(saleId) ? { kind: "rebuilding" as const } : SIMPLE_OUTCOMES[code];
      return userIds.map(() => outcome);
    }
    const generation = reply[0] as number;
    this.remember(saleId, { generation, sold: reply[1] as number });
    const tookUnits = userIds.some((_, i) => reply[3 + 2 * i] !== null);
    const replicated = !tookUnits || !this.options.replicaAck || (await this.options.replicaAck.replicated());
    return userIds.map((_, i): ReserveOutcome => {
      const code = reply[2 + 2 * i] as number;
      const orderId = reply[3 + 2 * i] as string | null;
      if (orderId !== null && !replicated) return { kind: "outcome_unknown" };
      if (code === ReserveReply.reserved) return { kind: "reserved", orderId: orderId! };
      if (code === ReserveReply.alreadyPurchased) return { kind: "already_purchased", orderId: orderId! };
      const outcome = SIMPLE_OUTCOMES[code];
      if (outcome.kind === "sold_out" || outcome.kind === "ended") this.closedSales.set(saleId, { reason: outcome.kind, generation });
      return outcome;
    });
  }

  private isLive(saleId: string): boolean {
    return this.options.liveSales?.generation(saleId) !== undefined;
  }

  private remember(saleId: string, latest: Seen): void {
    const seen = this.seen.get(saleId) ?? NOTHING_SEEN;
    if (latest.generation > seen.generation || (latest.generation === seen.generation && latest.sold > seen.sold)) {
      this.seen.set(saleId, latest);
    }
  }

  /** Registers the sale with the order writer, then makes it visible with its full stock. */
  async loadSale(sale: Sale): Promise<boolean> {
    const keys = this.keys(sale.id);
    await this.redis.sadd(salesIndexKey(this.keyPrefix), sale.id);
    const loaded = await this.commands.seckillLoadSale(
      keys.sale,
      keys.orders,
      ORDER_WRITER_GROUP,
      sale.itemName,
      sale.stock,
      sale.startsAt,
      sale.endsAt,
      sale.priceCents ?? "",
      FIRST_GENERATION,
    );
    return loaded === 1;
  }

  async readSale(saleId: string): Promise<SaleSnapshot> {
    const [[hashError, fields], [timeError, time]] = (await this.redis
      .pipeline()
      .hmget(this.keys(saleId).sale, "itemName", "stock", "sold", "startsAt", "endsAt", "priceCents", "generation", "rebuildReason")
      .time()
      .exec())!;
    if (hashError || timeError) throw hashError ?? timeError;
    const [itemName, stock, sold, startsAt, endsAt, priceCents, generation, rebuildReason] = fields as (string | null)[];
    if (rebuildReason !== null) return { kind: "rebuilding" };
    if (itemName === null || stock === null || sold === null || startsAt === null || endsAt === null) {
      return { kind: this.isLive(saleId) ? "rebuilding" : "unknown_sale" };
    }
    const [seconds, microseconds] = time as [string, string];
    const now = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
    const sale: Sale = {
      id: saleId,
      itemName,
      stock: Number(stock),
      sold: Number(sold),
      startsAt: Number(startsAt),
      endsAt: Number(endsAt),
      ...(priceCents === null ? {} : { priceCents: Number(priceCents) }),
    };
    const status = saleStatus(sale, now);
    if (status === "sold_out" || status === "ended") this.closedSales.set(saleId, { reason: status, generation: Number(generation) });
    return { kind: "found", sale, now };
  }

  /** The order id this buyer holds in the sale, if any. */
  buyerOrderId(saleId: string, userId: string): Promise<string | null> {
    return this.redis.hget(this.keys(saleId).buyers, userId);
  }
}
