import Redis from "ioredis";
import { type Pool } from "mysql2/promise";
import { loadConfig, type Config } from "../../../app/platform/config";
import { createMysqlPool } from "../../../app/platform/mysql";
import { createScratch } from "../../../scripts/lib/local-services";

/** The Redis and MariaDB already running on this machine; each test run gets its own database and key prefix on them. */
export const REDIS_HOST = "127.0.0.1";
export const REDIS_PORT = 6379;
export const MYSQL_HOST = "127.0.0.1";
export const MYSQL_PORT = 3306;

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789";
export const USER_TOKEN_SECRET = "test-user-token-secret-0123456789abcdef0123";

export interface TestResources {
  readonly database: string;
  readonly keyPrefix: string;
  /** REDIS_URL for the service under test (the shared Redis unless a port is given). */
  redisUrl(port?: number): string;
  /** MYSQL_URL for the service under test (the shared MariaDB unless a port is given). */
  mysqlUrl(port?: number): string;
  /** The service's environment; `overrides` replace or add variables. */
  env(overrides?: Record<string, string>): Record<string, string>;
  config(overrides?: Record<string, string>): Config;
  /** A direct client on the shared Redis, for assertions. */
  readonly redis: Redis;
  /** A pool on the run's database, for assertions. */
  readonly pool: Pool;
  /** Drops the database and deletes every key under the prefix. */
  dispose(): Promise<void>;
}

export async function createTestResources(): Promise<TestResources> {
  const scratch = await createScratch(`redis://${REDIS_HOST}:${REDIS_PORT}`, `mysql://root@${MYSQL_HOST}:${MYSQL_PORT}`, "t");
  const withPort = (url: string, port: number) => Object.assign(new URL(url), { port: String(port) }).toString();
  const redisUrl = (port = REDIS_PORT) => withPort(scratch.redisUrl, port);
  const mysqlUrl = (port = MYSQL_PORT) => withPort(scratch.mysqlUrl, port);
  const env = (overrides: Record<string, string> = {}) => ({
    REDIS_URL: redisUrl(),
    MYSQL_URL: mysqlUrl(),
    SECKILL_ADMIN_TOKEN: ADMIN_TOKEN,
    SECKILL_USER_TOKEN_SECRET: USER_TOKEN_SECRET,
    ORDER_QUEUE: "redis",
    LOG_LEVEL: "warn",
    WORKERS: "1",
    ...overrides,
  });
  const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT });
  const config = (overrides: Record<string, string> = {}) => loadConfig(env(overrides));
  const pool = createMysqlPool(config().mysql, 4);
  return {
    database: scratch.database,
    keyPrefix: scratch.keyPrefix,
    redisUrl,
    mysqlUrl,
    env,
    config,
    redis,
    pool,
    async dispose() {
      await pool.end();
      redis.disconnect();
      await scratch.dispose();
    },
  };
}
