import Redis, { Cluster, type RedisOptions } from "ioredis";
import type { RedisConnection } from "./config";
import type { Logger } from "./logger";
import { redisForcedReconnects } from "./metrics";

/** How long an HTTP worker's command may take; the buyer then hears 503. */
export const REQUEST_COMMAND_TIMEOUT_MS = 1000;
/** The order writer retries a failed cycle, so it can wait longer, but never for ever. */
const BACKGROUND_COMMAND_TIMEOUT_MS = 5000;
/** Probes a connection after 10 s of silence, which also keeps NAT and load-balancer entries on the path alive. */
const KEEP_ALIVE_MS = 10_000;

/**
 * What ioredis answers (without writing anything) when a command arrives while the connection (or the cluster's
 * slot map) is not ready and the offline queue is off. The only failure after which a command provably did not run.
 */
const NOT_SENT_MESSAGES = new Set([
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
]);
/** What ioredis rejects a command with once its commandTimeout has passed without an answer. */
const TIMED_OUT_MESSAGE = "Command timed out";

/**
 * A connection to Redis: one server (REDIS_MODE=standalone, also Tair's proxy mode) or a Redis Cluster followed
 * from a seed node (REDIS_MODE=cluster, Tair's direct connection). Every command the service sends names keys of
 * one hash tag, so either routes it whole to one shard.
 */
export type RedisClient = Redis | Cluster;

/**
 * `requests`: for the HTTP workers. While Redis is unreachable, commands fail at once (the caller
 * answers 503) instead of queueing behind a reconnect, and nothing is resent after a reconnect.
 * `background`: for the order writer and tools; commands wait for Redis to come back.
 * Either way every command has a timeout.
 */
export function createRedis(connection: RedisConnection, purpose: "requests" | "background"): RedisClient {
  const failFast = purpose === "requests";
  const options = {
    username: connection.username,
    password: connection.password,
    tls: connection.tls ? {} : undefined,
    connectionName: `seckill-${purpose}`,
    // No auto-pipelining: it sends one pipeline at a time, and a command's timeout only starts when it is
    // sent, so behind a stuck pipeline a command waited up to twice the timeout.
    enableAutoPipelining: false,
    enableOfflineQueue: !failFast,
    autoResendUnfulfilledCommands: !failFast,
    maxRetriesPerRequest: failFast ? 0 : null,
    commandTimeout: failFast ? REQUEST_COMMAND_TIMEOUT_MS : BACKGROUND_COMMAND_TIMEOUT_MS,
    keepAlive: KEEP_ALIVE_MS,
    connectTimeout: 2000,
  } satisfies RedisOptions;
  const retryDelay = (attempt: number) => Math.min(attempt * 100, 2000);
  if (connection.mode === "standalone") {
    return new Redis({ ...options, host: connection.host, port: connection.port, db: connection.db, retryStrategy: retryDelay });
  }
  return new Cluster([{ host: connection.host, port: connection.port }], {
    redisOptions: options,
    enableAutoPipelining: false,
    enableOfflineQueue: !failFast,
    // A MOVED or ASK (resharding, a failover) is followed at once; a command whose shard is down fails like one to a
    // standalone Redis that is down.
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    clusterRetryStrategy: retryDelay,
    slotsRefreshTimeout: 2000,
  });
}

/** The name a connection was given (for logs), whichever kind it is. */
export function connectionNameOf(redis: RedisClient): string | undefined {
  return redis instanceof Cluster ? redis.options.redisOptions?.connectionName : redis.options.connectionName;
}

/** A failure before anything that could change Redis was sent (a read that comes first failed, say). */
export class NothingSentError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "NothingSentError";
  }
}

/**
 * True when a failed command was never written to Redis, so it certainly changed nothing. Any other
 * failure (a timeout, a connection lost with the command in flight, an error reply) leaves it unknown
 * whether a script ran.
 */
export function neverSent(error: unknown): boolean {
  return error instanceof NothingSentError || (error instanceof Error && NOT_SENT_MESSAGES.has(error.message));
}

/** Logs a lost connection once (not on every reconnect attempt), and its return. */
export function logConnectionState(redis: RedisClient, logger: Logger): void {
  let lost = false;
  redis.on("error", (error: Error) => {
    if (lost) return;
    lost = true;
    logger.warn({ err: error, connection: connectionNameOf(redis) }, "Redis connection lost; reconnecting");
  });
  redis.on("ready", () => {
    if (!lost) return;
    lost = false;
    logger.info({ connection: connectionNameOf(redis) }, "Redis connection restored");
  });
}

const HEARTBEAT_INTERVAL_MS = 1000;
/** Heartbeats in a row that timed out on a connection that claims to be up, before it is replaced. */
const TIMEOUTS_BEFORE_RECONNECT = 3;

/**
 * Pings Redis every second on one client. A connection whose peer vanished without a FIN or RST (host
 * crash, NAT entry lost) looks open to the kernel for many minutes, and every command on it times out:
 * after a few heartbeats in a row time out, the connection is dropped and ioredis makes a new one.
 * It also remembers when Redis last answered, which /healthz reports.
 */
export class RedisHeartbeat {
  private lastAnswerAt = Date.now();
  private timeoutsInARow = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS).unref();
  }

  /** How long Redis has gone without answering a heartbeat, in milliseconds. */
  silentForMs(now = Date.now()): number {
    return now - this.lastAnswerAt;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    // Not ready: ioredis is already connecting; there is no connection to give up on.
    if (this.redis.status !== "ready") return;
    try {
      await this.redis.ping();
      this.lastAnswerAt = Date.now();
      this.timeoutsInARow = 0;
    } catch (error) {
      if (!(error instanceof Error && error.message === TIMED_OUT_MESSAGE)) return;
      if (++this.timeoutsInARow < TIMEOUTS_BEFORE_RECONNECT) return;
      this.timeoutsInARow = 0;
      this.logger.warn(
        { connection: connectionNameOf(this.redis), timeouts: TIMEOUTS_BEFORE_RECONNECT },
        "Redis stopped answering on an open connection; replacing it",
      );
      redisForcedReconnects.inc();
      this.redis.disconnect(true);
    }
  }
}
