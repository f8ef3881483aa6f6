import { once } from "node:events";
import { hostname } from "node:os";
import type { Server } from "node:http";
import type { Config, RocketMqOrderQueue } from "./config";
import { createHttpServer } from "./http";
import type { Logger } from "./logger";
import { OrderWriter } from "./order-writer";
import { createRedis } from "./redis";
import { Reservations } from "./reservation";
import { RocketMqProducer, RocketMqSimpleConsumer, clientOptions } from "./rocketmq-client";
import { RocketMqOrderConsumer } from "./rocketmq-order-consumer";
import { RocketMqRelay } from "./rocketmq-relay";
import { Settings } from "./settings";
import { createMysqlPool } from "./storage";

export interface Running {
  /** Stops taking work, finishes what is in flight, closes connections. */
  stop(): Promise<void>;
}

const REDIS_READY_WAIT_MS = 5000;
const DRAIN_DEADLINE_MS = 10_000;

/** One HTTP worker process: serves the API on config.port (shared with the other workers under node:cluster). */
export async function startHttpWorker(config: Config, logger: Logger, settings = new Settings()): Promise<Running & { server: Server }> {
  const redis = createRedis(config.redis, "requests");
  const pool = createMysqlPool(config.mysql, 4);
  // Serve even if Redis is down at start-up (health, readiness, 503s), but do not race a connection that is coming up.
  await Promise.race([once(redis, "ready"), new Promise((resolve) => setTimeout(resolve, REDIS_READY_WAIT_MS).unref())]);
  const server = createHttpServer({
    adminToken: config.adminToken,
    userTokenSecret: config.userTokenSecret,
    redis,
    reservations: new Reservations(redis, config.redis.keyPrefix),
    pool,
    settings,
    logger,
    webRoot: config.webRoot,
  });
  server.listen(config.port);
  await once(server, "listening");
  logger.info({ port: config.port }, "HTTP worker listening");
  return {
    server,
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve));
      // Keep-alive connections become idle as their last response goes out; close them as they do.
      const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
      const deadline = setTimeout(() => server.closeAllConnections(), DRAIN_DEADLINE_MS);
      await closed;
      clearInterval(closeIdle);
      clearTimeout(deadline);
      await Promise.allSettled([redis.quit(), pool.end()]);
      logger.info("HTTP worker stopped");
    },
  };
}

/** The order writer: drains the order streams into MySQL until stopped. */
export function startOrderWriter(config: Config, logger: Logger): Running {
  const redis = createRedis(config.redis, "background");
  const pool = createMysqlPool(config.mysql, 2);
  const writer = new OrderWriter({ redis, pool, keyPrefix: config.redis.keyPrefix, consumer: hostname(), logger });
  writer.start();
  logger.info({ consumer: hostname() }, "order writer started");
  return {
    async stop() {
      await writer.stop();
      await Promise.allSettled([redis.quit(), pool.end()]);
      logger.info("order writer stopped");
    },
  };
}

/** Long enough for the proxy's minimum polling time (5 s) within the client's deadline, short enough not to hold up start-up. */
const ORDER_CONSUMER_LONG_POLL_MS = 5000;

/**
 * The order writer with ORDER_QUEUE=rocketmq: relays the order streams to the topic, and confirms the orders it
 * receives from the topic in MySQL. The consumer receives once before the relay sends, because a consumer group
 * that never received starts reading the topic at its newest message.
 */
export async function startRocketMqOrderWriter(config: Config, queue: RocketMqOrderQueue, logger: Logger): Promise<Running> {
  const redis = createRedis(config.redis, "background");
  const pool = createMysqlPool(config.mysql, 2);
  const clients = clientOptions(queue.connection, logger);
  const subscriptions = new Map([[queue.topic, "*"]]);
  const consumerClient = new RocketMqSimpleConsumer({ ...clients, consumerGroup: queue.consumerGroup, subscriptions, awaitDuration: ORDER_CONSUMER_LONG_POLL_MS });
  const producer = new RocketMqProducer({ ...clients, topic: queue.topic });
  const close = () => Promise.allSettled([producer.shutdown(), consumerClient.shutdown(), redis.quit(), pool.end()]);
  const consumer = new RocketMqOrderConsumer({ consumer: consumerClient, pool, logger });
  try {
    await consumerClient.startup();
    await producer.startup();
    consumer.start();
    await consumer.ready;
  } catch (error) {
    await consumer.stop();
    await close();
    throw error;
  }
  const relay = new RocketMqRelay({ producer, topic: queue.topic, logger });
  const writer = new OrderWriter({ redis, pool, keyPrefix: config.redis.keyPrefix, consumer: hostname(), logger, destination: relay });
  writer.start();
  logger.info({ consumer: hostname(), orderQueue: "rocketmq", topic: queue.topic, consumerGroup: queue.consumerGroup }, "order writer started");
  return {
    async stop() {
      await writer.stop();
      await consumer.stop();
      await close();
      logger.info("order writer stopped");
    },
  };
}
