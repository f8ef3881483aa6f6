/**
 * The order writer's RocketMQ side (ORDER_QUEUE=rocketmq): a SimpleConsumer on the order topic that confirms each
 * order in MySQL through the same idempotent destination the Redis-stream writer uses, and acks a message only
 * after its commit. A redelivered or duplicated message (relay retried, consumer died before its ack) finds its
 * order already there and is acked as a success.
 *
 * Failures: a transient MySQL error hides the batch again for a backoff (changeInvisibleDuration) and stops
 * receiving until MySQL answers, so an outage costs a message one delivery attempt, not all of them. A message that
 * keeps failing for good (malformed, refused by MySQL) is left unacked with an error log; the broker redelivers it
 * until the consumer group's retry limit and then moves it to the group's dead-letter queue (%DLQ%<group>).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Pool } from "mysql2/promise";
import {
  BadRequestException,
  ForbiddenException,
  NotFoundException,
  UnauthorizedException,
  type MessageView,
} from "rocketmq-client-nodejs";
import type { Logger } from "../platform/logger";
import { mysqlDestination, type OrderDestination } from "./order-writer";
import type { RocketMqSimpleConsumer } from "./rocketmq-client";
import { pingMysql } from "../platform/mysql";
import { parseOrderEvent, type OrderEvent } from "./order-store";

export interface RocketMqOrderConsumerOptions {
  /** A started SimpleConsumer subscribed to the order topic in the order writer's consumer group. */
  readonly consumer: RocketMqSimpleConsumer;
  readonly pool: Pool;
  readonly logger: Logger;
  /** Messages per receive (the broker caps it at 32). */
  readonly batchSize?: number;
  /** How long a received message stays hidden from other consumers while this one writes it. */
  readonly invisibleDurationMs?: number;
  /** Hiding time before a message that failed is delivered again, by its delivery attempt (1, 2, ...). */
  readonly retryDelayMs?: (deliveryAttempt: number) => number;
}

const MAX_WAIT_MS = 5000;
const defaultRetryDelay = (attempt: number) => Math.min(1000 * 2 ** (attempt - 1), 60_000);

/** Encodes an order event as the topic's message body: JSON, readable by other subscribers (payment, fulfilment). */
export function orderMessageBody(event: OrderEvent): Buffer {
  return Buffer.from(JSON.stringify({ orderId: event.orderId, saleId: event.saleId, userId: event.userId, reservedAt: event.reservedAt }));
}

/** The order event in a message body; undefined when it is not a well-formed one. */
export function parseOrderMessage(body: Buffer): OrderEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  return parseOrderEvent(Object.entries(parsed).flatMap(([key, value]) => [key, String(value)]));
}

const isConfigurationError = (error: unknown) =>
  [NotFoundException, UnauthorizedException, ForbiddenException, BadRequestException].some((refusal) => error instanceof refusal);

export class RocketMqOrderConsumer {
  private readonly mysql: OrderDestination;
  private readonly batchSize: number;
  private readonly invisibleDurationMs: number;
  private readonly retryDelayMs: (deliveryAttempt: number) => number;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();
  private received = false;
  private markReady: () => void = () => undefined;
  private failStart: (error: unknown) => void = () => undefined;
  /**
   * Resolves once a receive has completed: a consumer group's position on the topic is fixed by its first receive
   * (at the topic's newest message), so messages sent before that would never reach it. Start sending after this.
   * Rejects, and the consumer stops, when the broker refuses the first receive for good (unknown consumer group or
   * topic, wrong credentials, settings it does not accept): a configuration mistake, reported at start-up.
   */
  readonly ready = new Promise<void>((resolve, reject) => {
    this.markReady = resolve;
    this.failStart = reject;
  });

  constructor(private readonly options: RocketMqOrderConsumerOptions) {
    this.mysql = mysqlDestination(options.pool);
    this.batchSize = options.batchSize ?? 32;
    this.invisibleDurationMs = options.invisibleDurationMs ?? 30_000;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelay;
    this.ready.catch(() => undefined);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Finishes the batch in progress (commit, then ack) and stops. A receive still long-polling is abandoned: whatever
   * it brings is not processed and becomes visible again when its invisible duration ends.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const messages = await this.receiveUnlessStopped();
        if (!messages) return;
        this.received = true;
        this.markReady();
        failures = 0;
        if (messages.length > 0) await this.handle(messages);
      } catch (error) {
        if (!this.received && isConfigurationError(error)) {
          this.running = false;
          return this.failStart(error);
        }
        failures++;
        this.options.logger.warn({ err: error, failures }, "receiving order messages from RocketMQ failed; retrying");
        await this.pause(Math.min(200 * 2 ** failures, MAX_WAIT_MS));
      }
    }
  }

  /** Undefined when stop() came first; the abandoned receive's outcome is ignored. */
  private receiveUnlessStopped(): Promise<MessageView[] | undefined> {
    const receiving = this.options.consumer.receive(this.batchSize, this.invisibleDurationMs);
    receiving.catch(() => undefined);
    const signal = this.stopping.signal;
    return new Promise((resolve, reject) => {
      const onStop = () => resolve(undefined);
      signal.addEventListener("abort", onStop, { once: true });
      receiving.then(resolve, reject).finally(() => signal.removeEventListener("abort", onStop));
      if (signal.aborted) onStop();
    });
  }

  private async handle(messages: MessageView[]): Promise<void> {
    const valid: { message: MessageView; event: OrderEvent }[] = [];
    for (const message of messages) {
      const event = parseOrderMessage(message.body);
      if (event) valid.push({ message, event });
      else await this.failPermanently(message, new Error("malformed order message"));
    }
    if (valid.length === 0) return;
    try {
      await this.commit(valid);
    } catch (error) {
      if (this.mysql.isTransient(error))
        return this.waitOutMysqlOutage(
          valid.map((v) => v.message),
          error,
        );
      // One bad order must not hold back the others: commit them one at a time.
      for (const one of valid) {
        try {
          await this.commit([one]);
        } catch (oneError) {
          if (this.mysql.isTransient(oneError)) return this.waitOutMysqlOutage([one.message], oneError);
          await this.failPermanently(one.message, oneError as Error);
        }
      }
    }
  }

  private async commit(batch: { message: MessageView; event: OrderEvent }[]): Promise<void> {
    await this.mysql.deliver(batch.map((b) => b.event));
    await Promise.all(batch.map(({ message }) => this.ack(message)));
  }

  /** A failed ack is harmless: the message comes back and is confirmed again as a duplicate. */
  private async ack(message: MessageView): Promise<void> {
    try {
      await this.options.consumer.ack(message);
    } catch (error) {
      this.options.logger.warn(
        { err: error, messageId: message.messageId, keys: message.keys },
        "ack failed after the commit; the message will be redelivered and deduplicated",
      );
    }
  }

  private async failPermanently(message: MessageView, error: Error): Promise<void> {
    this.options.logger.error(
      {
        err: error,
        messageId: message.messageId,
        keys: message.keys,
        deliveryAttempt: message.deliveryAttempt,
        body: message.body.toString("utf8"),
      },
      "order message failed; left unacked for redelivery and, past the consumer group's retry limit, the dead-letter queue",
    );
    await this.retryLater(message);
  }

  private async waitOutMysqlOutage(messages: MessageView[], error: unknown): Promise<void> {
    this.options.logger.warn(
      { err: error, messages: messages.length },
      "MySQL unavailable; order messages will be redelivered once it answers",
    );
    await Promise.all(messages.map((message) => this.retryLater(message)));
    for (let attempt = 1; this.running; attempt++) {
      try {
        await pingMysql(this.options.pool);
        return;
      } catch {
        await this.pause(Math.min(200 * 2 ** attempt, MAX_WAIT_MS));
      }
    }
  }

  private async retryLater(message: MessageView): Promise<void> {
    try {
      await this.options.consumer.changeInvisibleDuration(message, this.retryDelayMs(message.deliveryAttempt ?? 1));
    } catch (error) {
      // The message comes back anyway when its current invisible duration ends.
      this.options.logger.warn({ err: error, messageId: message.messageId }, "could not reschedule an order message");
    }
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}
