import { format, raw } from "mysql2";
import type { Pool, RowDataPacket } from "mysql2/promise";
import { query, transaction, type Session } from "../platform/mysql";
import { USER_ID_PATTERN } from "../http/auth";
import { parseOrderId } from "../sales/sale";
import { lockSaleRow, type LockedSale } from "../sales/sale-store";

/** One reserved unit as written to the order stream; everything a consumer needs to confirm it. */
export interface OrderEvent {
  readonly orderId: string;
  readonly saleId: string;
  readonly userId: string;
  /** Epoch milliseconds. */
  readonly reservedAt: number;
}

/** Reads the fields RESERVE_SCRIPT writes; undefined when anything is missing or malformed. */
export function parseOrderEvent(fields: readonly string[]): OrderEvent | undefined {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
  const orderId = values.get("orderId") ?? "";
  const saleId = values.get("saleId") ?? "";
  const userId = values.get("userId") ?? "";
  const reservedAt = Number(values.get("reservedAt"));
  const wellFormed =
    parseOrderId(orderId)?.saleId === saleId && USER_ID_PATTERN.test(userId) && Number.isSafeInteger(reservedAt) && reservedAt > 0;
  return wellFormed ? { orderId, saleId, userId, reservedAt } : undefined;
}

/** The stream fields of an event, as RESERVE_SCRIPT writes them. */
export function orderEventFields(event: OrderEvent): string[] {
  return ["orderId", event.orderId, "saleId", event.saleId, "userId", event.userId, "reservedAt", String(event.reservedAt)];
}

/** A batch's statements: far longer than a healthy batch takes, short enough that a stalled connection is replaced within seconds. */
const QUERY_TIMEOUT_MS = 10_000;

/** Where a confirmed order stands in its lifecycle (see the README's order state machine). */
export type OrderStatus = "confirmed" | "paid" | "expired";

export interface StoredOrder {
  readonly saleId: string;
  readonly userId: string;
  readonly status: OrderStatus;
  /** Epoch ms; absent for orders confirmed before payment windows existed (they never expire). */
  readonly payBy: number | undefined;
}

/** What MySQL knows of one order id: the order, if confirmed, and its sale's current generation (if the sale exists). */
export async function findOrder(
  pool: Pool,
  orderId: string,
): Promise<{ order: StoredOrder | undefined; saleGeneration: number | undefined }> {
  const saleId = parseOrderId(orderId)?.saleId ?? "";
  // One statement, one consistent read: a generation that moved on was committed together with every order of the
  // older generation that will ever be confirmed (see lockSaleRow), so both are read as of the same moment.
  const rows = await query<RowDataPacket[]>(
    pool,
    `SELECT s.generation, o.sale_id, o.user_id, o.status, o.pay_by
       FROM (SELECT ? AS id) AS wanted
       LEFT JOIN sales s ON s.id = ?
       LEFT JOIN orders o ON o.id = wanted.id`,
    [orderId, saleId],
  );
  const [row] = rows;
  return {
    order:
      row.user_id === null
        ? undefined
        : {
            saleId: row.sale_id,
            userId: row.user_id,
            status: row.status,
            payBy: row.pay_by === null ? undefined : (row.pay_by as Date).getTime(),
          },
    saleGeneration: row.generation === null ? undefined : Number(row.generation),
  };
}

/** The id of the buyer's order in the sale that MySQL has, preferring the one holding a unit over expired ones. */
export async function findBuyerOrderId(pool: Pool, saleId: string, userId: string): Promise<string | undefined> {
  const rows = await query<RowDataPacket[]>(
    pool,
    "SELECT id FROM orders WHERE sale_id = ? AND user_id = ? ORDER BY holder_id IS NULL, confirmed_at DESC LIMIT 1",
    [saleId, userId],
  );
  return rows[0]?.id;
}

/** Records state changes in the outbox, in the caller's transaction; a change already recorded is kept as it was. */
export async function recordOrderEvents(
  session: Session,
  status: OrderStatus,
  orders: readonly { readonly orderId: string; readonly saleId: string; readonly userId: string }[],
): Promise<void> {
  if (orders.length === 0) return;
  await session.query(
    "INSERT IGNORE INTO order_events (order_id, sale_id, user_id, status) VALUES ?",
    [orders.map((o) => [o.orderId, o.saleId, o.userId, status])],
    QUERY_TIMEOUT_MS,
  );
}

/** Why MySQL refuses an order event. Each is final: MySQL's orders, sold count and generation only grow. */
export type RefusalReason = "collision" | "oversold" | "superseded";

export interface RefusedOrder {
  readonly event: OrderEvent;
  readonly reason: RefusalReason;
  readonly detail: string;
}

/** Some events of a batch cannot be confirmed; nothing of the batch was written. */
export class RefusedOrdersError extends Error {
  constructor(readonly refused: readonly RefusedOrder[]) {
    super(refused.map(({ event, detail }) => `${event.orderId}: ${detail}`).join("; "));
    this.name = "RefusedOrdersError";
  }
}

/**
 * Writes order events to MySQL in one transaction, idempotently: an event whose order is already there (same id,
 * buyer and sale) counts as written. Throws RefusedOrdersError, writing nothing, when any event cannot be confirmed
 * (see confirmOrders). Safe to call again with the same events after any failure, which is what every consumer does
 * (Redis stream, message queue).
 */
export async function writeOrderBatch(pool: Pool, events: readonly OrderEvent[]): Promise<{ inserted: number; duplicates: number }> {
  const bySale = new Map<string, OrderEvent[]>();
  for (const event of events) {
    const group = bySale.get(event.saleId);
    if (group) group.push(event);
    else bySale.set(event.saleId, [event]);
  }
  const inserted = await transaction(pool, async (session) => {
    const refused: RefusedOrder[] = [];
    let count = 0;
    for (const [saleId, group] of bySale) {
      const outcome = await confirmOrders(session, saleId, group);
      count += outcome.inserted;
      refused.push(...outcome.refused);
    }
    if (refused.length > 0) throw new RefusedOrdersError(refused);
    return count;
  });
  return { inserted, duplicates: events.length - inserted };
}

/**
 * Inserts, within the caller's transaction, the events of one sale MySQL can accept, in their order, and advances
 * the sale's sold count by as many. An event is
 * - a duplicate when its order is there already (same id, buyer and sale): a redelivery;
 * - refused as a `collision` when another order holds its id or its buyer's unit in the sale;
 * - refused as `superseded` when its generation is older than the sale's: Redis's state was rebuilt without it;
 * - refused as `oversold` when the sale has no unit left for it.
 * Throws (a non-transient error) when MySQL has no such sale.
 */
export async function confirmOrders(
  session: Session,
  saleId: string,
  events: readonly OrderEvent[],
): Promise<{ inserted: number; refused: RefusedOrder[] }> {
  const locked = await lockSaleRow(session, saleId);
  if (!locked) throw new Error(`sale ${saleId} is not in MySQL`);
  // Nearly every batch is a first delivery, within the stock, of the sale's current generation: inserted at once. A
  // redelivery or a collision breaks a unique key, which fails and undoes only that statement; the events are then
  // looked up and sorted one by one.
  if (
    events.length <= locked.sale.stock - locked.sale.sold &&
    events.every((e) => parseOrderId(e.orderId)!.generation === locked.generation)
  ) {
    try {
      await insertConfirmed(session, locked, events);
      return { inserted: events.length, refused: [] };
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ER_DUP_ENTRY") throw error;
    }
  }
  const existing = await session.query<RowDataPacket[]>(
    "SELECT id, user_id, holder_id FROM orders WHERE id IN (?) OR (sale_id = ? AND holder_id IN (?))",
    [events.map((e) => e.orderId), saleId, events.map((e) => e.userId)],
    QUERY_TIMEOUT_MS,
  );
  const buyerOfOrder = new Map(existing.map((row) => [row.id as string, row.user_id as string]));
  // An expired order holds no unit: its buyer may buy again.
  const orderOfBuyer = new Map(existing.filter((row) => row.holder_id !== null).map((row) => [row.user_id as string, row.id as string]));
  const accepted: OrderEvent[] = [];
  const refused: RefusedOrder[] = [];
  let unitsLeft = locked.sale.stock - locked.sale.sold;
  for (const event of events) {
    const holder = buyerOfOrder.get(event.orderId);
    const held = orderOfBuyer.get(event.userId);
    // A redelivery (of an order that may have been paid or expired since).
    if (holder === event.userId) continue;
    if (holder !== undefined || held !== undefined) {
      const detail =
        holder !== undefined
          ? `order id already confirmed for buyer ${holder}`
          : `buyer ${event.userId} already holds order ${held} in sale ${saleId}`;
      refused.push({ event, reason: "collision", detail });
    } else if (parseOrderId(event.orderId)!.generation !== locked.generation) {
      refused.push({ event, reason: "superseded", detail: `issued before the sale's Redis state was rebuilt from MySQL` });
    } else if (unitsLeft === 0) {
      refused.push({ event, reason: "oversold", detail: `confirming it would exceed the stock of sale ${saleId}` });
    } else {
      accepted.push(event);
      buyerOfOrder.set(event.orderId, event.userId);
      orderOfBuyer.set(event.userId, event.orderId);
      unitsLeft--;
    }
  }
  if (accepted.length > 0) await insertConfirmed(session, locked, accepted);
  return { inserted: accepted.length, refused };
}

/** Inserts orders MySQL accepts, advances their sale's sold count and records them in the outbox. */
async function insertConfirmed(
  session: Session,
  { sale, paymentWindowSeconds }: LockedSale,
  accepted: readonly OrderEvent[],
): Promise<void> {
  // MySQL's clock starts the payment window (it is MySQL's clock the expiry sweeper compares pay_by with): the
  // statement's CURRENT_TIMESTAMP(3) is also every row's confirmed_at.
  const payBy = raw(format("CURRENT_TIMESTAMP(3) + INTERVAL ? SECOND", [paymentWindowSeconds]));
  await session.query(
    "INSERT INTO orders (id, sale_id, user_id, reserved_at, pay_by) VALUES ?",
    [accepted.map((e) => [e.orderId, e.saleId, e.userId, new Date(e.reservedAt), payBy])],
    QUERY_TIMEOUT_MS,
  );
  const newest = accepted[accepted.length - 1];
  await session.query(
    "UPDATE sales SET sold = sold + ?, last_order_id = ?, last_user_id = ? WHERE id = ?",
    [accepted.length, newest.orderId, newest.userId, sale.id],
    QUERY_TIMEOUT_MS,
  );
  await recordOrderEvents(session, "confirmed", accepted);
}
