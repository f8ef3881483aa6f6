import type { Pool } from "mysql2/promise";
import type { Logger } from "../platform/logger";
import type { Reservations } from "../sales/reservations";
import { buyerTag, parseOrderId } from "../sales/sale";
import { LOST_IN_REDIS, recordLostOrder } from "./lost-orders";
import { findOrder, type OrderStatus } from "./order-store";

export type OrderLookup =
  /** In MySQL: confirmed, paid or expired; payBy (epoch ms) unless it predates payment windows. */
  | { readonly kind: OrderStatus; readonly payBy: number | undefined }
  | { readonly kind: "pending" }
  | { readonly kind: "lost"; readonly reason: string }
  | { readonly kind: "rebuilding" }
  | { readonly kind: "unknown_order" };

export interface OrderLookupDeps {
  readonly pool: Pool;
  readonly reservations: Reservations;
  readonly logger: Logger;
}

const UNKNOWN_ORDER: OrderLookup = { kind: "unknown_order" };

/**
 * What became of an order id, told only to the buyer it was made for: confirmed, paid or expired (in MySQL), pending (Redis holds it
 * for them, on its way to MySQL), or lost (the sale's Redis state was rebuilt from MySQL without it, and MySQL
 * refuses orders older than the rebuild, so it can never be confirmed).
 */
export async function lookUpOrder({ pool, reservations, logger }: OrderLookupDeps, orderId: string, userId: string): Promise<OrderLookup> {
  const parts = parseOrderId(orderId);
  if (!parts) return UNKNOWN_ORDER;
  const { order, saleGeneration } = await findOrder(pool, orderId);
  if (order) return order.userId === userId ? { kind: order.status, payBy: order.payBy } : UNKNOWN_ORDER;
  if (parts.buyerTag !== buyerTag(parts.saleId, userId)) return UNKNOWN_ORDER;
  if (saleGeneration !== undefined && parts.generation < saleGeneration) {
    const lost = { orderId, saleId: parts.saleId, userId };
    return { kind: "lost", reason: await recordLostOrder(reservations.redis, reservations.keyPrefix, logger, lost, LOST_IN_REDIS) };
  }
  if ((await reservations.buyerOrderId(parts.saleId, userId)) === orderId) return { kind: "pending" };
  // Not known yet while the sale is being rebuilt: the rebuild decides between confirmed and lost.
  return (await reservations.readSale(parts.saleId)).kind === "rebuilding" ? { kind: "rebuilding" } : UNKNOWN_ORDER;
}
