import type { Pool, RowDataPacket } from "mysql2/promise";
import { query, type Session } from "../platform/mysql";
import type { Sale } from "./sale";

/** How long a buyer has to pay a confirmed order unless the sale says otherwise. */
export const DEFAULT_PAYMENT_WINDOW_SECONDS = 900;

export async function insertSale(pool: Pool, sale: Sale, paymentWindowSeconds = DEFAULT_PAYMENT_WINDOW_SECONDS): Promise<void> {
  await query(
    pool,
    `INSERT INTO sales (id, item_name, stock, price_cents, starts_at, ends_at, stock_buckets, payment_window_seconds)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      sale.id,
      sale.itemName,
      sale.stock,
      sale.priceCents ?? null,
      new Date(sale.startsAt),
      new Date(sale.endsAt),
      sale.stockBuckets ?? 1,
      paymentWindowSeconds,
    ],
  );
}

/** Removes a sale that never became visible (its Redis load failed) and so has no orders. */
export async function deleteUnusedSale(pool: Pool, saleId: string): Promise<void> {
  await query(pool, "DELETE FROM sales WHERE id = ? AND sold = 0", [saleId]);
}

/** The sale's number of stock buckets; undefined when MySQL has no such sale. */
export async function stockBucketsOf(pool: Pool, saleId: string): Promise<number | undefined> {
  const [row] = await query<RowDataPacket[]>(pool, "SELECT stock_buckets FROM sales WHERE id = ?", [saleId]);
  return row === undefined ? undefined : Number(row.stock_buckets);
}

/** The sale's orders in MySQL that hold a unit (confirmed or paid; not expired). */
export async function countOrders(pool: Pool, saleId: string): Promise<number> {
  return (await countOrdersByStatus(pool, saleId)).confirmed;
}

/** The sale's orders in MySQL: `confirmed` counts every order holding a unit (paid ones too). */
export async function countOrdersByStatus(pool: Pool, saleId: string): Promise<{ confirmed: number; paid: number; expired: number }> {
  const [row] = await query<RowDataPacket[]>(
    pool,
    `SELECT COALESCE(SUM(status <> 'expired'), 0) AS confirmed, COALESCE(SUM(status = 'paid'), 0) AS paid,
            COALESCE(SUM(status = 'expired'), 0) AS expired
       FROM orders WHERE sale_id = ?`,
    [saleId],
  );
  return { confirmed: Number(row.confirmed), paid: Number(row.paid), expired: Number(row.expired) };
}

/** What MySQL knows of a sale that is live (or ended recently, with stragglers still to confirm). */
export interface LiveSale {
  readonly id: string;
  /** Units confirmed in MySQL. */
  readonly confirmed: number;
  readonly generation: number;
  readonly stockBuckets: number;
  /** The newest order confirmed, which Redis must still hold unless it lost data. */
  readonly lastOrder: { readonly orderId: string; readonly userId: string } | undefined;
  /** Created in the last few seconds: the admin request that created it may not have loaded it into Redis yet. */
  readonly justCreated: boolean;
}

/** A sale stays live this long after it ends, so late stragglers are still confirmed. */
export const ENDED_SALE_GRACE_MS = 60_000;
const JUST_CREATED_SECONDS = 10;

/** The sales not ended at `now`, or ended within ENDED_SALE_GRACE_MS. */
export async function liveSales(pool: Pool, now: number): Promise<LiveSale[]> {
  // created_at is MySQL's clock in its session time zone: compared with NOW() there, never with this host's clock.
  const rows = await query<RowDataPacket[]>(
    pool,
    `SELECT id, sold, generation, stock_buckets, last_order_id, last_user_id, created_at > NOW(3) - INTERVAL ${JUST_CREATED_SECONDS} SECOND AS just_created
       FROM sales WHERE ends_at > ?`,
    [new Date(now - ENDED_SALE_GRACE_MS)],
  );
  return rows.map((row) => ({
    id: row.id,
    confirmed: Number(row.sold),
    generation: Number(row.generation),
    stockBuckets: Number(row.stock_buckets),
    lastOrder: row.last_order_id === null ? undefined : { orderId: row.last_order_id, userId: row.last_user_id },
    justCreated: Number(row.just_created) === 1,
  }));
}

export interface LockedSale {
  /** `sold` is the units confirmed in MySQL. */
  readonly sale: Sale;
  readonly generation: number;
  readonly paymentWindowSeconds: number;
}

/**
 * Reads the sale's row and locks it until the caller's transaction ends. Every write of orders and every rebuild of
 * the sale's Redis state take this lock first, so a rebuild's new generation and the orders it read are never
 * overtaken by a batch of the old generation.
 */
export async function lockSaleRow(session: Session, saleId: string): Promise<LockedSale | undefined> {
  const rows = await session.query<RowDataPacket[]>(
    "SELECT item_name, stock, sold, price_cents, starts_at, ends_at, generation, stock_buckets, payment_window_seconds FROM sales WHERE id = ? FOR UPDATE",
    [saleId],
  );
  if (rows.length === 0) return undefined;
  const [row] = rows;
  return {
    sale: {
      id: saleId,
      itemName: row.item_name,
      stock: Number(row.stock),
      sold: Number(row.sold),
      startsAt: (row.starts_at as Date).getTime(),
      endsAt: (row.ends_at as Date).getTime(),
      ...(row.price_cents === null ? {} : { priceCents: Number(row.price_cents) }),
      ...(Number(row.stock_buckets) === 1 ? {} : { stockBuckets: Number(row.stock_buckets) }),
    },
    generation: Number(row.generation),
    paymentWindowSeconds: Number(row.payment_window_seconds),
  };
}
