import type Redis from "ioredis";
import { LOAD_SALE_SCRIPT, RESERVE_SCRIPT, ReserveReply } from "./reservation-script";
import { saleStatus, type Sale } from "./sale";

/** The consumer group every order-event consumer (the MySQL order writer, a queue relay) reads with. */
export const ORDER_WRITER_GROUP = "order-writer";

/**
 * Redis key layout (after the configured prefix):
 *   sales                    SET of sale ids whose order streams the order writer watches
 *   {sale:<id>}              HASH itemName, stock, sold, startsAt, endsAt (epoch ms), priceCents?
 *   {sale:<id>}:buyers       HASH userId -> orderId (one unit per user)
 *   {sale:<id>}:orders       STREAM of order events (orderId, saleId, userId, reservedAt), group "order-writer"
 *   {sale:<id>}:dead         STREAM of order events that kept failing, with the error
 * All per-sale keys share the hash tag, so a script or MULTI over them is valid on a cluster.
 */
export interface SaleKeys {
  readonly sale: string;
  readonly buyers: string;
  readonly orders: string;
  readonly deadLetters: string;
}

export function saleKeys(prefix: string, saleId: string): SaleKeys {
  const sale = `${prefix}{sale:${saleId}}`;
  return { sale, buyers: `${sale}:buyers`, orders: `${sale}:orders`, deadLetters: `${sale}:dead` };
}

export function salesIndexKey(prefix: string): string {
  return `${prefix}sales`;
}

export type ReserveOutcome =
  | { readonly kind: "reserved" | "already_purchased"; readonly orderId: string }
  | { readonly kind: "not_started" | "ended" | "sold_out" | "unknown_sale" };

/** Sales that can never take another order; remembered per process so they cost no Redis call. */
type ClosedReason = "sold_out" | "ended";

interface ReservationCommands {
  seckillReserve(sale: string, buyers: string, orders: string, userId: string, now: number, saleId: string): Promise<[number, string?]>;
  seckillLoadSale(sale: string, orders: string, ...args: (string | number)[]): Promise<number>;
}

const SIMPLE_OUTCOMES: Record<number, ReserveOutcome> = {
  [ReserveReply.unknownSale]: { kind: "unknown_sale" },
  [ReserveReply.notStarted]: { kind: "not_started" },
  [ReserveReply.ended]: { kind: "ended" },
  [ReserveReply.soldOut]: { kind: "sold_out" },
};

/** The Redis side of a sale: loading it, reading it and reserving units. */
export class Reservations {
  private readonly commands: ReservationCommands;
  private readonly closedSales = new Map<string, ClosedReason>();

  constructor(
    readonly redis: Redis,
    readonly keyPrefix: string,
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
    return this.closedSales.get(saleId);
  }

  /** One EVALSHA: window, one-per-user, stock and the order event, atomically. */
  async reserve(saleId: string, userId: string, now: number): Promise<ReserveOutcome> {
    const keys = this.keys(saleId);
    const [code, orderId] = await this.commands.seckillReserve(keys.sale, keys.buyers, keys.orders, userId, now, saleId);
    if (code === ReserveReply.reserved) return { kind: "reserved", orderId: orderId! };
    if (code === ReserveReply.alreadyPurchased) return { kind: "already_purchased", orderId: orderId! };
    const outcome = SIMPLE_OUTCOMES[code];
    if (outcome.kind === "sold_out" || outcome.kind === "ended") this.closedSales.set(saleId, outcome.kind);
    return outcome;
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
    );
    return loaded === 1;
  }

  async readSale(saleId: string, now: number): Promise<Sale | undefined> {
    const [itemName, stock, sold, startsAt, endsAt, priceCents] = await this.redis.hmget(
      this.keys(saleId).sale,
      "itemName",
      "stock",
      "sold",
      "startsAt",
      "endsAt",
      "priceCents",
    );
    if (itemName === null || stock === null || sold === null || startsAt === null || endsAt === null) return undefined;
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
    if (status === "sold_out" || status === "ended") this.closedSales.set(saleId, status);
    return sale;
  }

  /** The order id this buyer holds in the sale, if any. */
  buyerOrderId(saleId: string, userId: string): Promise<string | null> {
    return this.redis.hget(this.keys(saleId).buyers, userId);
  }
}
