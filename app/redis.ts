import Redis from "ioredis";
import type { RedisConnection } from "./config";

const REQUEST_COMMAND_TIMEOUT_MS = 1000;

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
    enableAutoPipelining: failFast,
    enableOfflineQueue: !failFast,
    autoResendUnfulfilledCommands: !failFast,
    maxRetriesPerRequest: failFast ? 0 : null,
    commandTimeout: failFast ? REQUEST_COMMAND_TIMEOUT_MS : undefined,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
}
