/**
 * The relay from the Redis outbox to RocketMQ (ORDER_QUEUE=rocketmq). The order writer's stream loop reads each
 * sale's order stream as usual and hands the events here instead of to MySQL; it acknowledges the stream entries
 * only after deliver() resolved, i.e. after the broker confirmed every send. At least once: a relay that dies
 * between the send and the acknowledgement leaves the entries pending, they are sent again, and the order
 * consumer's idempotent write turns the duplicate into the same order.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../platform/logger";
import { ordersRelayed } from "../platform/metrics";
import type { RocketMqProducer } from "./rocketmq-client";
import { orderMessageBody } from "./rocketmq-order-consumer";
import type { OrderEvent } from "./order-store";

/** Tag of order messages, so other subscribers of the topic can filter by event type. */
export const ORDER_RESERVED_TAG = "reserved";

export interface RocketMqRelayOptions {
  /** A started producer declared for the topic. */
  readonly producer: RocketMqProducer;
  readonly topic: string;
  readonly logger: Logger;
  /** Attempts per message before the batch is given back (its entries stay pending and come back later). */
  readonly maxAttempts?: number;
  /** Pause before the second attempt; it doubles for each further one. */
  readonly backoffMs?: number;
}

/** Sends in flight at once; the broker answers each in about a millisecond, so this keeps a batch brief. */
const CONCURRENT_SENDS = 32;

export class RocketMqRelay {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: RocketMqRelayOptions) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? 100;
  }

  /** Resolves once the broker confirmed every event; rejects when any send failed all its attempts. */
  async deliver(events: readonly OrderEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += CONCURRENT_SENDS) {
      const results = await Promise.allSettled(events.slice(i, i + CONCURRENT_SENDS).map((event) => this.send(event)));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
      if (failed) throw failed.reason;
    }
    ordersRelayed.inc(events.length);
  }

  /** Every relay failure is worth retrying: the broker or the network is down, never the event itself. */
  isTransient(): boolean {
    return true;
  }

  private async send(event: OrderEvent): Promise<void> {
    const { producer, topic, logger } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send({ topic, keys: [event.orderId], tag: ORDER_RESERVED_TAG, body: orderMessageBody(event) });
        return;
      } catch (error) {
        if (attempt >= this.maxAttempts) throw error;
        logger.warn({ err: error, orderId: event.orderId, attempt }, "sending an order to RocketMQ failed; retrying");
        await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
  }
}
