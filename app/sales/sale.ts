import { createHash, randomBytes } from "node:crypto";

export const SALE_ID_PATTERN = /^[0-9a-f]{16}$/;
/**
 * `<saleId>-<generation>-<Redis TIME: seconds, 8 hex digits; microseconds, 5>-<buyer tag>`, made by RESERVE_SCRIPT.
 * Unique without a counter Redis could roll back: two ids can only be equal for the same buyer in the same sale,
 * generation and microsecond. The generation (see the sale hash) tells whether the order predates a rebuild from MySQL.
 */
export const ORDER_ID_PATTERN = /^([0-9a-f]{16})-([1-9][0-9]{0,9})-[0-9a-f]{13}-([0-9a-f]{16})$/;
export const MAX_STOCK = 1_000_000;
/** A new sale's generation (MySQL's default for sales.generation); each rebuild of its Redis state adds one. */
export const FIRST_GENERATION = 1;

export function newSaleId(): string {
  return randomBytes(8).toString("hex");
}

export interface OrderIdParts {
  readonly saleId: string;
  readonly generation: number;
  readonly buyerTag: string;
}

export function parseOrderId(orderId: string): OrderIdParts | undefined {
  const match = ORDER_ID_PATTERN.exec(orderId);
  return match ? { saleId: match[1], generation: Number(match[2]), buyerTag: match[3] } : undefined;
}

/** The part of an order id that names its buyer, computed as RESERVE_SCRIPT does (redis.sha1hex). */
export function buyerTag(saleId: string, userId: string): string {
  return createHash("sha1").update(`${saleId}:${userId}`).digest("hex").slice(0, 16);
}

export interface Sale {
  readonly id: string;
  readonly itemName: string;
  readonly stock: number;
  /** Units handed out so far. */
  readonly sold: number;
  /** Epoch milliseconds; the sale is open in [startsAt, endsAt). */
  readonly startsAt: number;
  readonly endsAt: number;
  readonly priceCents?: number;
  /** How many buckets the stock is split into (see bucketKeys); absent: 1. */
  readonly stockBuckets?: number;
}

export type SaleStatus = "upcoming" | "active" | "sold_out" | "ended";

export function saleStatus(sale: Sale, now: number): SaleStatus {
  if (now < sale.startsAt) return "upcoming";
  if (now >= sale.endsAt) return "ended";
  return sale.sold >= sale.stock ? "sold_out" : "active";
}

/** The public JSON shape of a sale. */
export function saleView(sale: Sale, now: number) {
  return {
    id: sale.id,
    itemName: sale.itemName,
    stock: sale.stock,
    remaining: sale.stock - sale.sold,
    startsAt: new Date(sale.startsAt).toISOString(),
    endsAt: new Date(sale.endsAt).toISOString(),
    status: saleStatus(sale, now),
    ...(sale.priceCents === undefined ? {} : { priceCents: sale.priceCents }),
    ...((sale.stockBuckets ?? 1) === 1 ? {} : { stockBuckets: sale.stockBuckets }),
  };
}
