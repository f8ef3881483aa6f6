/**
 * The order writer process with ORDER_QUEUE=rocketmq: it relays the order streams (the Redis outbox) to the order
 * topic, confirms the orders it receives from the topic in MySQL, expires unpaid orders and publishes every order
 * state change to the order-events topic. Loaded only in that process: the RocketMQ
 * client costs a process about 27 MB, which the HTTP workers have no use for.
 */
import { hostname } from "node:os";
import type { Config, RocketMqOrderQueue } from "../platform/config";
import type { Logger } from "../platform/logger";
import { rocketMqEventSink } from "./order-events";
import { startOrderLifecycle } from "./order-lifecycle";
import { OrderWriter } from "./order-writer";
import { RedisHeartbeat, createRedis } from "../platform/redis";
import { RocketMqProducer, RocketMqSimpleConsumer, clientOptions } from "./rocketmq-client";
import { RocketMqOrderConsumer } from "./rocketmq-order-consumer";
import { RocketMqRelay } from "./rocketmq-relay";
import type { Running } from "../service";
import { createMysqlPool } from "../platform/mysql";
import { withTimeout } from "../platform/timeout";

/** Long enough for the proxy's minimum polling time (5 s) within the client's deadline, short enough not to hold up start-up. */
const ORDER_CONSUMER_LONG_POLL_MS = 5000;
/**
 * A start normally takes one long poll. One that hangs (a gRPC call the client never times out) would leave the
 * process up and relaying nothing, silently; failing it instead lets the primary log it and fork the writer again.
 */
const CLIENT_START_TIMEOUT_MS = 30_000;
const CLIENT_STOP_TIMEOUT_MS = 5000;

/**
 * The consumer receives once before the relay sends, because a consumer group that never received starts reading
 * the topic at its newest message. A broker that refuses the topic or the group fails the start.
 */
export async function startRocketMqOrderWriter(
  config: Config,
  queue: RocketMqOrderQueue,
  logger: Logger,
  { startTimeoutMs = CLIENT_START_TIMEOUT_MS } = {},
): Promise<Running> {
  const redis = createRedis(config.redis, "background");
  redis.on("error", (error: Error) => logger.warn({ err: error }, "Redis connection error; reconnecting"));
  const redisHeartbeat = new RedisHeartbeat(redis, logger);
  const pool = createMysqlPool(config.mysql, 2);
  const clients = clientOptions(queue.connection, logger);
  const subscriptions = new Map([[queue.topic, "*"]]);
  const consumerClient = new RocketMqSimpleConsumer({
    ...clients,
    consumerGroup: queue.consumerGroup,
    subscriptions,
    awaitDuration: ORDER_CONSUMER_LONG_POLL_MS,
  });
  const producer = new RocketMqProducer({ ...clients, topic: [queue.topic, queue.eventsTopic] });
  const close = () => {
    redisHeartbeat.stop();
    return Promise.allSettled([producer.shutdown(), consumerClient.shutdown(), redis.quit(), pool.end()]);
  };
  const consumer = new RocketMqOrderConsumer({ consumer: consumerClient, pool, logger });
  const startClients = async () => {
    await consumerClient.startup();
    await producer.startup();
    consumer.start();
    await consumer.ready;
  };
  try {
    await withTimeout(startClients(), startTimeoutMs, "starting the RocketMQ clients");
  } catch (error) {
    // Clients that hung at start may hang at shutdown too: the process exits (and is forked again) regardless.
    const stopClients = async () => {
      await consumer.stop();
      await close();
    };
    await withTimeout(stopClients(), CLIENT_STOP_TIMEOUT_MS, "stopping the RocketMQ clients").catch(() => undefined);
    throw error;
  }
  const relay = new RocketMqRelay({ producer, topic: queue.topic, logger });
  const writer = new OrderWriter({ redis, pool, keyPrefix: config.redis.keyPrefix, consumer: hostname(), logger, destination: relay });
  writer.start();
  const lifecycle = startOrderLifecycle({
    pool,
    redis,
    keyPrefix: config.redis.keyPrefix,
    logger,
    sink: rocketMqEventSink(producer, queue.eventsTopic),
  });
  logger.info(
    { consumer: hostname(), orderQueue: "rocketmq", topic: queue.topic, consumerGroup: queue.consumerGroup },
    "order writer started",
  );
  return {
    async stop() {
      await Promise.all([writer.stop(), lifecycle.stop()]);
      await consumer.stop();
      await close();
      logger.info("order writer stopped");
    },
  };
}
