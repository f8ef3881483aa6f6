import Redis from "ioredis";
import type { RedisConnection } from "./config";
import type { Logger } from "./logger";

/** How long an HTTP worker's command may take; the buyer then hears 503. */
export const REQUEST_COMMAND_TIMEOUT_MS = 1000;

/**
 * `requests`: for the HTTP workers. While Redis is unreachable, commands fail at once (the caller
 * answers 503) instead of queueing behind a reconnect, and nothing is resent after a reconnect.
 * `background`: for the order writer and tools; commands wait for Redis to come back.
 */
export function createRedis(connection: RedisConnection, purpose: "requests" | "background"): Redis {
  const failFast = purpose === "requests";
  return new Redis({
    host: connection.host,
    port: connection.port,
    username: connection.username,
    password: connection.password,
    db: connection.db,
    tls: connection.tls ? {} : undefined,
    connectionName: `seckill-${purpose}`,
    // No auto-pipelining: it sends one pipeline at a time, and a command's timeout only starts when it is
    // sent, so behind a stuck pipeline a command waited up to twice the timeout.
    enableAutoPipelining: false,
    enableOfflineQueue: !failFast,
    autoResendUnfulfilledCommands: !failFast,
    maxRetriesPerRequest: failFast ? 0 : null,
    commandTimeout: failFast ? REQUEST_COMMAND_TIMEOUT_MS : undefined,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
}

/** Logs a lost connection once (not on every reconnect attempt), and its return. */
export function logConnectionState(redis: Redis, logger: Logger): void {
  let lost = false;
  redis.on("error", (error: Error) => {
    if (lost) return;
    lost = true;
    logger.warn({ err: error, connection: redis.options.connectionName }, "Redis connection lost; reconnecting");
  });
  redis.on("ready", () => {
    if (!lost) return;
    lost = false;
    logger.info({ connection: redis.options.connectionName }, "Redis connection restored");
  });
}
