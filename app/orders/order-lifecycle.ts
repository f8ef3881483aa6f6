/**
 * What happens to an order after MySQL confirmed it (see the README's order state machine):
 *   confirmed -> paid      the buyer paid within the window (payOrder)
 *   confirmed -> expired   the window closed unpaid (OrderExpiry); the unit goes back on sale in Redis
 * Both are compare-and-sets on the order's row, so a payment racing the expiry either wins or is refused. Each change
 * is recorded in the outbox (order_events) in the same transaction.
 */
import type { RedisClient } from "../platform/redis";
import type { Pool, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import type { Logger } from "../platform/logger";
import { ordersExpired, ordersPaid, unitsReturned } from "../platform/metrics";
import { query, transaction } from "../platform/mysql";
import { runPeriodically, type Periodic } from "../platform/periodic";
import { UnitReturns } from "../sales/unit-returns";
import { ORDER_EVENTS_BATCH, publishOrderEvents, type OrderEventSink } from "./order-events";
import { recordOrderEvents } from "./order-store";

export interface Payment {
  readonly orderId: string;
  /** Only this buyer's order may be paid through the buyer API; the provider's callback names no buyer. */
  readonly userId?: string;
  /** The provider's reference; the buyer API makes one (`buyer:<orderId>`) so paying twice is one payment. */
  readonly paymentRef: string;
  /** Epoch ms; MySQL's clock when absent. */
  readonly paidAt?: number;
}

export type PaymentOutcome =
  | { readonly kind: "paid"; readonly userId: string }
  /** The window closed (expired, or about to be by the sweeper). */
  | { readonly kind: "window_closed" }
  /** The order was already paid under another payment reference. */
  | { readonly kind: "paid_otherwise" }
  /** The payment reference was already used for another order. */
  | { readonly kind: "reference_reused" }
  /** MySQL has no such order (for this buyer): it may still be pending in Redis. */
  | { readonly kind: "not_found" };

/** Records a payment, idempotently by payment reference. */
export async function payOrder(pool: Pool, payment: Payment): Promise<PaymentOutcome> {
  return transaction(pool, async (session) => {
    const rows = await session.query<RowDataPacket[]>(
      "SELECT sale_id, user_id, status, payment_ref, pay_by IS NOT NULL AND pay_by <= NOW(3) AS window_closed FROM orders WHERE id = ? FOR UPDATE",
      [payment.orderId],
    );
    const [order] = rows;
    if (order === undefined || (payment.userId !== undefined && order.user_id !== payment.userId)) return { kind: "not_found" };
    if (order.status === "paid") {
      // The buyer is told their order is paid, whichever payment paid it; the provider, that another payment did.
      const samePayment = order.payment_ref === payment.paymentRef || payment.userId !== undefined;
      return samePayment ? { kind: "paid", userId: order.user_id } : { kind: "paid_otherwise" };
    }
    if (order.status === "expired" || Number(order.window_closed) === 1) return { kind: "window_closed" };
    const [used] = await session.query<RowDataPacket[]>("SELECT id FROM orders WHERE payment_ref = ?", [payment.paymentRef]);
    if (used !== undefined) return { kind: "reference_reused" };
    await session.query(
      "UPDATE orders SET status = 'paid', paid_at = COALESCE(?, NOW(3)), payment_ref = ? WHERE id = ? AND status = 'confirmed'",
      [payment.paidAt === undefined ? null : new Date(payment.paidAt), payment.paymentRef, payment.orderId],
    );
    await recordOrderEvents(session, "paid", [{ orderId: payment.orderId, saleId: order.sale_id, userId: order.user_id }]);
    ordersPaid.inc();
    return { kind: "paid", userId: order.user_id };
  });
}

export interface OrderExpiryOptions {
  readonly pool: Pool;
  readonly unitReturns: Pick<UnitReturns, "returnUnit">;
  readonly logger: Logger;
  /** Orders handled per sweep and step. */
  readonly batchSize?: number;
}

export interface DueOrder {
  readonly orderId: string;
  readonly saleId: string;
  readonly userId: string;
  /** The sale's: where in Redis the buyer's unit is. */
  readonly stockBuckets: number;
}

export interface SweepOutcome {
  /** Orders this sweep moved to expired. */
  readonly expired: number;
  /** Units this sweep put back in Redis. */
  readonly returned: number;
}

/**
 * The expiry sweeper, run by every order writer. Safe with any number of them at once, and after a crash at any point:
 * 1. each order confirmed and past pay_by is moved to expired by a compare-and-set, together with the sale's guarded
 *    sold count and the outbox event: whoever loses the race (another sweeper, a payment) changes nothing;
 * 2. each expired order whose unit_returned is still 0 has its unit returned in Redis (idempotent per order, see
 *    return-unit.lua), then is marked returned. A crash between 1 and 2, or within 2, leaves the order for the next
 *    sweep, which returns the unit if that was not done yet and nothing otherwise.
 */
export class OrderExpiry {
  private readonly batchSize: number;

  constructor(private readonly options: OrderExpiryOptions) {
    this.batchSize = options.batchSize ?? 200;
  }

  /** Expires every order due and returns every unit owed, batch after batch until none is left. */
  async sweep(): Promise<SweepOutcome> {
    let expired = 0;
    let returned = 0;
    for (;;) {
      const batch = await this.due("o.status = 'confirmed' AND o.unit_returned = 0 AND o.pay_by <= NOW(3) ORDER BY o.pay_by");
      for (const order of batch) if (await this.expire(order)) expired++;
      const owed = await this.due("o.status = 'expired' AND o.unit_returned = 0");
      for (const order of owed) if (await returnExpiredUnit(this.options.pool, this.options.unitReturns, order)) returned++;
      // A full batch means more may be waiting: a large sale's orders all fall due together.
      if (batch.length < this.batchSize && owed.length < this.batchSize) return { expired, returned };
    }
  }

  private async due(condition: string): Promise<DueOrder[]> {
    const rows = await query<RowDataPacket[]>(
      this.options.pool,
      `SELECT o.id, o.sale_id, o.user_id, s.stock_buckets FROM orders o JOIN sales s ON s.id = o.sale_id
        WHERE ${condition} LIMIT ${this.batchSize}`,
    );
    return rows.map((row) => ({ orderId: row.id, saleId: row.sale_id, userId: row.user_id, stockBuckets: Number(row.stock_buckets) }));
  }

  /** Step 1; true when this call expired it. */
  private async expire(order: DueOrder): Promise<boolean> {
    const expired = await transaction(this.options.pool, async (session) => {
      // The sale's row first, as every writer of the sale's orders takes it (confirmOrders, the rebuild): no deadlock.
      await session.query("SELECT sold FROM sales WHERE id = ? FOR UPDATE", [order.saleId]);
      const changed = await session.query<ResultSetHeader>(
        "UPDATE orders SET status = 'expired' WHERE id = ? AND status = 'confirmed' AND pay_by <= NOW(3)",
        [order.orderId],
      );
      if (changed.affectedRows !== 1) return false;
      // The unit no longer counts against the stock. The newest order, which Redis must hold (see whyRebuild), is
      // forgotten if it is this one: Redis gives it up in step 2. (last_user_id first: MySQL assigns left to right.)
      await session.query(
        `UPDATE sales SET sold = sold - 1,
           last_user_id = IF(last_order_id = ?, NULL, last_user_id), last_order_id = IF(last_order_id = ?, NULL, last_order_id)
         WHERE id = ?`,
        [order.orderId, order.orderId, order.saleId],
      );
      await recordOrderEvents(session, "expired", [{ orderId: order.orderId, saleId: order.saleId, userId: order.userId }]);
      return true;
    });
    if (expired) {
      ordersExpired.inc();
      this.options.logger.info(order, "order expired unpaid");
    }
    return expired;
  }
}

/**
 * Step 2 of an expiry, also what `npm run reconcile -- --fix` does for a stranded unit: the unit goes back in Redis
 * (once per order, see return-unit.lua), and only then is the order marked returned, so a crash in between leaves it
 * for the next try. True when this call put the unit back.
 */
export async function returnExpiredUnit(pool: Pool, unitReturns: Pick<UnitReturns, "returnUnit">, order: DueOrder): Promise<boolean> {
  const returned = await unitReturns.returnUnit(order.saleId, order.userId, order.orderId, order.stockBuckets);
  await query(pool, "UPDATE orders SET unit_returned = 1 WHERE id = ?", [order.orderId]);
  if (returned) unitsReturned.inc();
  return returned;
}

/** How often each order writer sweeps: an order expires at most this long (plus a sweep) after its pay_by. */
const EXPIRY_SWEEP_MS = 1000;
/** How often the outbox is published while it is empty. */
const EVENTS_POLL_MS = 200;

export interface OrderLifecycleOptions {
  readonly pool: Pool;
  /** A `background` client. */
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  readonly logger: Logger;
  readonly sink: OrderEventSink;
}

/** The order writer's share of the lifecycle: the expiry sweeper and the outbox publisher. */
export function startOrderLifecycle({ pool, redis, keyPrefix, logger, sink }: OrderLifecycleOptions): Periodic {
  const expiry = new OrderExpiry({ pool, unitReturns: new UnitReturns(redis, keyPrefix), logger });
  const tasks = [
    runPeriodically("order expiry sweep", EXPIRY_SWEEP_MS, logger, () => expiry.sweep()),
    runPeriodically("order events publisher", EVENTS_POLL_MS, logger, async () => {
      // A full batch means more are waiting: publish them without pausing.
      while ((await publishOrderEvents(pool, sink)) === ORDER_EVENTS_BATCH) continue;
    }),
  ];
  return {
    async stop() {
      await Promise.all(tasks.map((task) => task.stop()));
    },
  };
}
