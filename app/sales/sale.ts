import { randomBytes } from "node:crypto";

export const SALE_ID_PATTERN = /^[0-9a-f]{16}$/;
/** `<saleId>-<unit number>`; see RESERVE_SCRIPT. */
export const ORDER_ID_PATTERN = /^([0-9a-f]{16})-([1-9][0-9]{0,6})$/;
export const MAX_STOCK = 1_000_000;

export function newSaleId(): string {
  return randomBytes(8).toString("hex");
}

export function saleIdOfOrder(orderId: string): string | undefined {
  return ORDER_ID_PATTERN.exec(orderId)?.[1];
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
  };
}
