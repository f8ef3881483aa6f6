import { randomBytes } from "node:crypto";
import Redis from "ioredis";
import mysql, { type Pool } from "mysql2/promise";
import { loadConfig, type Config } from "../../../app/config";
import { createMysqlPool } from "../../../app/storage";
import { deleteKeys } from "../../../scripts/lib/local-services";

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
  const suffix = randomBytes(5).toString("hex");
  const database = `seckill_t_${suffix}`;
  const keyPrefix = `seckill_t_${suffix}:`;
  const admin = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: "root" });
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const redisUrl = (port = REDIS_PORT) => `redis://${REDIS_HOST}:${port}/0?keyPrefix=${keyPrefix}`;
  const mysqlUrl = (port = MYSQL_PORT) => `mysql://root:@${MYSQL_HOST}:${port}/${database}`;
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
    database,
    keyPrefix,
    redisUrl,
    mysqlUrl,
    env,
    config,
    redis,
    pool,
    async dispose() {
      await pool.end();
      const admin = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: "root" });
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.end();
      redis.disconnect();
      await deleteKeys(`redis://${REDIS_HOST}:${REDIS_PORT}`, keyPrefix);
    },
  };
}
