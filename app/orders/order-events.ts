/**
 * Order state changes for other systems (fulfilment, payment, risk): every `confirmed`, `paid` and `expired` is
 * written to the outbox table (order_events) in the transaction that makes the change, and the order writer publishes
 * the outbox to the order-events topic (ORDER_QUEUE=rocketmq) or Redis stream (redis). At least once: a publisher that
 * dies after publishing but before marking the rows publishes them again, under the same key.
 */
import type { RedisClient } from "../platform/redis";
import type { Pool, RowDataPacket } from "mysql2/promise";
import { orderEventsPublished } from "../platform/metrics";
import { query, transaction } from "../platform/mysql";
import type { OrderStatus } from "./order-store";
import type { RocketMqProducer } from "./rocketmq-client";
import PUBLISH_ORDER_EVENTS_SCRIPT from "./publish-order-events.lua";

export interface OrderStateChange {
  /** `<orderId>:<status>`: the same for every copy of one change, so a subscriber can drop duplicates. */
  readonly key: string;
  readonly orderId: string;
  readonly saleId: string;
  readonly userId: string;
  readonly status: OrderStatus;
  /** ISO, MySQL's clock. */
  readonly occurredAt: string;
}

/** Where the outbox goes; publish resolves once every change is stored there. */
export interface OrderEventSink {
  publish(changes: readonly OrderStateChange[]): Promise<void>;
}

/** The Redis stream other systems read in ORDER_QUEUE=redis mode (after the key prefix). */
export const ORDER_EVENTS_STREAM = "order-events";
/** Roughly how many changes the Redis stream keeps; subscribers read well within that. */
const REDIS_STREAM_MAX_LENGTH = 1_000_000;

export function orderEventsStreamKey(keyPrefix: string): string {
  return `${keyPrefix}${ORDER_EVENTS_STREAM}`;
}

interface PublishCommands {
  /** Appends the changes, one entry each (publish-order-events.lua). */
  seckillPublishOrderEvents(stream: string, maxLength: number, fieldCount: number, ...namesThenValues: string[]): Promise<number>;
}

/** The fields of a stream entry, in this order: a subscriber reads each entry as an OrderStateChange. */
const CHANGE_FIELDS = ["key", "orderId", "saleId", "userId", "status", "occurredAt"] as const satisfies readonly (keyof OrderStateChange)[];

export function redisEventSink(redis: RedisClient, keyPrefix: string): OrderEventSink {
  const stream = orderEventsStreamKey(keyPrefix);
  redis.defineCommand("seckillPublishOrderEvents", { numberOfKeys: 1, lua: PUBLISH_ORDER_EVENTS_SCRIPT });
  const commands = redis as unknown as PublishCommands;
  return {
    async publish(changes) {
      const values = changes.flatMap((change) => CHANGE_FIELDS.map((field) => change[field]));
      await commands.seckillPublishOrderEvents(stream, REDIS_STREAM_MAX_LENGTH, CHANGE_FIELDS.length, ...CHANGE_FIELDS, ...values);
    },
  };
}

/** One message per change, keyed and tagged by it, with the change as its JSON body. */
export function rocketMqEventSink(producer: RocketMqProducer, topic: string): OrderEventSink {
  return {
    async publish(changes) {
      await Promise.all(
        changes.map((change) =>
          producer.send({ topic, keys: [change.key], tag: change.status, body: Buffer.from(JSON.stringify(change)) }),
        ),
      );
    },
  };
}

export const ORDER_EVENTS_BATCH = 500;

/**
 * Publishes the outbox once, up to ORDER_EVENTS_BATCH changes, oldest first; returns how many. Rows another publisher
 * is at are skipped (SKIP LOCKED), so instances share the work instead of duplicating it.
 */
export async function publishOrderEvents(pool: Pool, sink: OrderEventSink): Promise<number> {
  // The publisher polls an outbox that is mostly empty: one indexed read says so, instead of a transaction's three.
  const [waiting] = await query<RowDataPacket[]>(pool, "SELECT 1 FROM order_events WHERE published_at IS NULL LIMIT 1");
  if (waiting === undefined) return 0;
  return transaction(pool, async (session) => {
    const rows = await session.query<RowDataPacket[]>(
      `SELECT id, order_id, sale_id, user_id, status, occurred_at FROM order_events
        WHERE published_at IS NULL ORDER BY id LIMIT ${ORDER_EVENTS_BATCH} FOR UPDATE SKIP LOCKED`,
    );
    if (rows.length === 0) return 0;
    await sink.publish(
      rows.map((row) => ({
        key: `${row.order_id}:${row.status}`,
        orderId: row.order_id,
        saleId: row.sale_id,
        userId: row.user_id,
        status: row.status,
        occurredAt: (row.occurred_at as Date).toISOString(),
      })),
    );
    await session.query("UPDATE order_events SET published_at = NOW(3) WHERE id IN (?)", [rows.map((row) => row.id)]);
    orderEventsPublished.inc(rows.length);
    return rows.length;
  });
}
