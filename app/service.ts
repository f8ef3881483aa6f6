import { once } from "node:events";
import { hostname } from "node:os";
import type { Server } from "node:http";
import type { Config } from "./platform/config";
import { createHttpServer } from "./http/server";
import type { Logger } from "./platform/logger";
import { redisEventSink } from "./orders/order-events";
import { startOrderLifecycle } from "./orders/order-lifecycle";
import { OrderWriter } from "./orders/order-writer";
import { RedisHeartbeat, createRedis, logConnectionState } from "./platform/redis";
import { LiveSales } from "./sales/live-sales";
import { ReplicaAck } from "./sales/replica-ack";
import { Reservations } from "./sales/reservations";
import { Settings } from "./live-settings/settings";
import { createMysqlPool } from "./platform/mysql";

export interface Running {
  /** Stops taking work, finishes what is in flight, closes connections. */
  stop(): Promise<void>;
}

const REDIS_READY_WAIT_MS = 5000;
const DRAIN_DEADLINE_MS = 10_000;
const WRITER_STOP_GRACE_MS = 5000;

/** One HTTP worker process: serves the API on config.port (shared with the other workers under node:cluster). */
export async function startHttpWorker(config: Config, logger: Logger, settings = new Settings()): Promise<Running & { server: Server }> {
  const redis = createRedis(config.redis, "requests");
  logConnectionState(redis, logger);
  const redisHeartbeat = new RedisHeartbeat(redis, logger);
  const pool = createMysqlPool(config.mysql, 4);
  const readinessPool = createMysqlPool(config.mysql, 1);
  // Serve even if Redis is down at start-up (health, readiness, 503s), but do not race a connection that is coming up.
  const connected = once(redis, "ready").catch(() => undefined);
  await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, REDIS_READY_WAIT_MS).unref())]);
  const liveSales = new LiveSales(pool, logger);
  await liveSales.start();
  const replicaAck = config.redisReplicaAck && new ReplicaAck(redis, config.redisReplicaAck.timeoutMs);
  const reservations = new Reservations(redis, config.redis.keyPrefix, {
    liveSales,
    replicaAck,
    batchWaitMicros: config.orderBatchWaitMicros,
  });
  const stopSoldOutRecheck = reservations.startSoldOutRecheck();
  const server = createHttpServer({
    adminToken: config.adminToken,
    userTokenSecret: config.userTokenSecret,
    userTokenPreviousSecret: config.userTokenPreviousSecret,
    userTokenMaxTtlSeconds: config.userTokenMaxTtlSeconds,
    paymentWebhookSecret: config.paymentWebhookSecret,
    redis,
    reservations,
    redisHeartbeat,
    pool,
    readinessPool,
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
      redisHeartbeat.stop();
      liveSales.stop();
      stopSoldOutRecheck();
      await Promise.allSettled([redis.quit(), pool.end(), readinessPool.end()]);
      logger.info("HTTP worker stopped");
    },
  };
}

/** The order writer: drains the order streams into MySQL until stopped. */
export function startOrderWriter(config: Config, logger: Logger): Running {
  const redis = createRedis(config.redis, "background");
  logConnectionState(redis, logger);
  const redisHeartbeat = new RedisHeartbeat(redis, logger);
  const pool = createMysqlPool(config.mysql, 2);
  const writer = new OrderWriter({ redis, pool, keyPrefix: config.redis.keyPrefix, consumer: hostname(), logger });
  writer.start();
  const lifecycle = startOrderLifecycle({
    pool,
    redis,
    keyPrefix: config.redis.keyPrefix,
    logger,
    sink: redisEventSink(redis, config.redis.keyPrefix),
  });
  logger.info({ consumer: hostname() }, "order writer started");
  return {
    async stop() {
      // A command waiting for Redis to come back would hold the stop forever, so give up after a grace
      // period: whatever was committed but not acknowledged is redelivered later and counted once.
      const gaveUp = Symbol("gave up");
      const grace = new Promise<typeof gaveUp>((resolve) => setTimeout(() => resolve(gaveUp), WRITER_STOP_GRACE_MS).unref());
      if ((await Promise.race([Promise.all([writer.stop(), lifecycle.stop()]), grace])) === gaveUp) {
        logger.warn(
          { graceMs: WRITER_STOP_GRACE_MS },
          "order writer did not finish its cycle in time (Redis unreachable?); stopping anyway",
        );
      }
      // Not QUIT, which would queue behind a reconnect that may never come.
      redisHeartbeat.stop();
      redis.disconnect();
      await pool.end().catch(() => undefined);
      logger.info("order writer stopped");
    },
  };
}
