import type { Pool, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { query, transaction, type Session } from "../platform/mysql";

/** One reserved unit as written to the order stream; everything a consumer needs to confirm it. */
export interface OrderEvent {
  readonly orderId: string;
  readonly saleId: string;
  readonly userId: string;
  /** Epoch milliseconds. */
  readonly reservedAt: number;
}

/** A batch's statements: far longer than a healthy batch takes, short enough that a stalled connection is replaced within seconds. */
const QUERY_TIMEOUT_MS = 10_000;

export async function findOrder(pool: Pool, orderId: string): Promise<{ saleId: string; userId: string } | undefined> {
  const rows = await query<RowDataPacket[]>(pool, "SELECT sale_id, user_id FROM orders WHERE id = ?", [orderId]);
  return rows.length === 0 ? undefined : { saleId: rows[0].sale_id, userId: rows[0].user_id };
}

/** The id of the buyer's confirmed order in the sale, if MySQL has one. */
export async function findBuyerOrderId(pool: Pool, saleId: string, userId: string): Promise<string | undefined> {
  const rows = await query<RowDataPacket[]>(pool, "SELECT id FROM orders WHERE sale_id = ? AND user_id = ?", [saleId, userId]);
  return rows[0]?.id;
}

/** MySQL refused to count more units as sold than the sale has: Redis handed out too many. */
export class OversellError extends Error {
  constructor(
    readonly saleId: string,
    attempted: number,
  ) {
    super(`sale ${saleId}: confirming ${attempted} more order(s) would exceed its stock`);
    this.name = "OversellError";
  }
}

/**
 * Writes order events to MySQL in one transaction, idempotently: an order already present (same
 * order id, or the same buyer in the same sale) counts as written. The sale's `sold` column grows
 * by the rows really inserted, guarded so it never exceeds stock. Safe to call again with the same
 * events after any failure, which is what every consumer does (Redis stream, message queue).
 */
export async function writeOrderBatch(pool: Pool, events: readonly OrderEvent[]): Promise<{ inserted: number; duplicates: number }> {
  const bySale = new Map<string, OrderEvent[]>();
  for (const event of events) {
    const group = bySale.get(event.saleId);
    if (group) group.push(event);
    else bySale.set(event.saleId, [event]);
  }
  const inserted = await transaction(pool, async (session) => {
    let count = 0;
    for (const [saleId, group] of bySale) count += await insertOrders(session, saleId, group);
    return count;
  });
  return { inserted, duplicates: events.length - inserted };
}

async function insertOrders(session: Session, saleId: string, events: readonly OrderEvent[]): Promise<number> {
  const rows = events.map((e) => [e.orderId, e.saleId, e.userId, new Date(e.reservedAt)]);
  const insert = await session.query<ResultSetHeader>(
    "INSERT INTO orders (id, sale_id, user_id, reserved_at) VALUES ? ON DUPLICATE KEY UPDATE id = id",
    [rows],
    QUERY_TIMEOUT_MS,
  );
  const inserted = insert.affectedRows;
  if (inserted === 0) return 0;
  const update = await session.query<ResultSetHeader>(
    "UPDATE sales SET sold = sold + ? WHERE id = ? AND sold + ? <= stock",
    [inserted, saleId, inserted],
    QUERY_TIMEOUT_MS,
  );
  if (update.affectedRows !== 1) throw new OversellError(saleId, inserted);
  return inserted;
}
