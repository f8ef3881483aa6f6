import type { Pool } from "mysql2/promise";
import { writeOrderBatch, type OrderEvent } from "../../../app/orders/order-store";
import type { Reservations } from "../../../app/sales/reservations";
import type { Sale } from "../../../app/sales/sale";
import { insertSale } from "../../../app/sales/sale-store";
import { openSale as saleOpenForAnHour } from "./sales";

/**
 * A sale open from an hour ago to an hour from now, in MySQL (with this payment window) and loaded into Redis, its
 * stock in `stockBuckets`.
 */
export async function openSale(
  pool: Pool,
  reservations: Reservations,
  stock: number,
  paymentWindowSeconds = 60,
  stockBuckets = 1,
): Promise<Sale> {
  const sale = saleOpenForAnHour(stock, stockBuckets);
  await insertSale(pool, sale, paymentWindowSeconds);
  await reservations.loadSale(sale);
  return sale;
}

/** Reserves a unit for each buyer in Redis and confirms the orders in MySQL, as the order writer would; buyer -> order id. */
export async function buyAndConfirm(
  pool: Pool,
  reservations: Reservations,
  sale: Sale,
  buyers: readonly string[],
): Promise<Map<string, string>> {
  const orders = new Map<string, string>();
  const events: OrderEvent[] = [];
  for (const userId of buyers) {
    const outcome = await reservations.reserve(sale.id, userId);
    if (outcome.kind !== "reserved") throw new Error(`${userId} got ${outcome.kind}`);
    orders.set(userId, outcome.orderId);
    events.push({ orderId: outcome.orderId, saleId: sale.id, userId, reservedAt: Date.now() });
  }
  await writeOrderBatch(pool, events);
  return orders;
}
