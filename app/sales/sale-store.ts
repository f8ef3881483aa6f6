import type { Pool, RowDataPacket } from "mysql2/promise";
import { query } from "../platform/mysql";
import type { Sale } from "./sale";

export async function insertSale(pool: Pool, sale: Sale): Promise<void> {
  await query(pool, "INSERT INTO sales (id, item_name, stock, price_cents, starts_at, ends_at) VALUES (?, ?, ?, ?, ?, ?)", [
    sale.id,
    sale.itemName,
    sale.stock,
    sale.priceCents ?? null,
    new Date(sale.startsAt),
    new Date(sale.endsAt),
  ]);
}

/** Removes a sale that never became visible (its Redis load failed) and so has no orders. */
export async function deleteUnusedSale(pool: Pool, saleId: string): Promise<void> {
  await query(pool, "DELETE FROM sales WHERE id = ? AND sold = 0", [saleId]);
}

export async function countOrders(pool: Pool, saleId: string): Promise<number> {
  const [row] = await query<RowDataPacket[]>(pool, "SELECT COUNT(*) AS confirmed FROM orders WHERE sale_id = ?", [saleId]);
  return Number(row.confirmed);
}
