import mysql, { type Pool } from "mysql2/promise";
import type { MysqlConnection } from "./config";

export function createMysqlPool(connection: MysqlConnection, connectionLimit = 10): Pool {
  return mysql.createPool({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    connectionLimit,
    connectTimeout: 3000,
    enableKeepAlive: true,
    timezone: "Z",
    charset: "utf8mb4_unicode_ci",
    // Without FOUND_ROWS, an upsert that changes nothing reports 0 affected rows, which is how a
    // batch counts the orders it really inserted.
    flags: ["-FOUND_ROWS"],
  });
}

export async function pingMysql(pool: Pool): Promise<void> {
  await pool.query("SELECT 1");
}

const TRANSIENT_MYSQL_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_LOCK_DEADLOCK",
  "ER_LOCK_WAIT_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_QUERY_INTERRUPTED",
  "ER_OPTION_PREVENTS_STATEMENT", // read-only primary during a failover
]);

/** True when retrying later can succeed (connection, failover, lock contention); false for bad data. */
export function isTransientMysqlError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, fatal, message } = error as { code?: unknown; fatal?: unknown; message?: unknown };
  return fatal === true || (typeof code === "string" && TRANSIENT_MYSQL_ERRORS.has(code)) || message === "Pool is closed.";
}
