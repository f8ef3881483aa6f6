import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from "mysql2/promise";
import type { MysqlConnection } from "./config";
import { withTimeout } from "./timeout";

/** How long a statement may run unless its caller says otherwise; a dead or stalled server costs no more. */
const STATEMENT_TIMEOUT_MS = 5000;
/** How long waiting for a pooled connection (a free one, or a new one connecting) may take; mysql2 pools have no such bound. */
const ACQUIRE_TIMEOUT_MS = 3000;

export function createMysqlPool(connection: MysqlConnection, connectionLimit = 10): Pool {
  return mysql.createPool({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    connectionLimit,
    connectTimeout: 2000,
    enableKeepAlive: true,
    // The operating system's default waits two hours before the first probe.
    keepAliveInitialDelay: 10_000,
    timezone: "Z",
    charset: "utf8mb4_unicode_ci",
    // Without FOUND_ROWS, an upsert that changes nothing reports 0 affected rows, which is how a
    // batch counts the orders it really inserted.
    flags: ["-FOUND_ROWS"],
    // Otherwise mysql2 captures a stack trace on every query, for its errors' call site: about 4 % of the order
    // writer's CPU under load (perf). An error still carries its SQL, and the caller logs its own context.
    trace: false,
  });
}

/** One pooled connection as lent to a unit of work: every statement on it is bounded in time. */
export interface Session {
  query<T extends RowDataPacket[] | ResultSetHeader>(sql: string, values?: unknown[], timeoutMs?: number): Promise<T>;
}

/**
 * Lends `work` one pooled connection. Getting it and every statement on it are bounded in time. When
 * anything fails the connection is destroyed, not returned to the pool: after a timeout a statement may
 * still run, a transaction may still be open or the peer may be gone, and the next borrower would inherit that.
 */
export async function withConnection<T>(pool: Pool, work: (session: Session) => Promise<T>): Promise<T> {
  const conn = await acquire(pool);
  const session: Session = {
    query: async <R extends RowDataPacket[] | ResultSetHeader>(sql: string, values?: unknown[], timeoutMs = STATEMENT_TIMEOUT_MS) => {
      const [result] = await conn.query<R>({ sql, values, timeout: timeoutMs });
      return result;
    },
  };
  let result: T;
  try {
    result = await work(session);
  } catch (error) {
    conn.destroy();
    throw error;
  }
  conn.release();
  return result;
}

/** One statement on a connection of its own (see withConnection). */
export function query<T extends RowDataPacket[] | ResultSetHeader>(
  pool: Pool,
  sql: string,
  values?: unknown[],
  timeoutMs?: number,
): Promise<T> {
  return withConnection(pool, (session) => session.query<T>(sql, values, timeoutMs));
}

/**
 * `work` in a transaction, START TRANSACTION and COMMIT bounded like every statement. On failure the
 * connection is destroyed, which rolls the transaction back on the server (an explicit ROLLBACK could hang too).
 */
export function transaction<T>(pool: Pool, work: (session: Session) => Promise<T>): Promise<T> {
  return withConnection(pool, async (session) => {
    await session.query("START TRANSACTION");
    const result = await work(session);
    await session.query("COMMIT");
    return result;
  });
}

async function acquire(pool: Pool): Promise<PoolConnection> {
  const acquiring = pool.getConnection();
  try {
    return await withTimeout(acquiring, ACQUIRE_TIMEOUT_MS, "getting a MySQL connection");
  } catch (error) {
    // Should the connection turn up after all, it goes back to the pool instead of leaking.
    acquiring.then(
      (conn) => conn.release(),
      () => undefined,
    );
    throw error;
  }
}

export async function pingMysql(pool: Pool): Promise<void> {
  await query(pool, "SELECT 1");
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
