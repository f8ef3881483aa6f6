import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from "mysql2/promise";
import type { MysqlConnection } from "./config";
import type { Sale } from "./sale";

/** One reserved unit as written to the order stream; everything a consumer needs to confirm it. */
export interface OrderEvent {
  readonly orderId: string;
  readonly saleId: string;
  readonly userId: string;
  /** Epoch milliseconds. */
  readonly reservedAt: number;
}

const QUERY_TIMEOUT_MS = 30_000;

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

/** Each entry is one schema version; statements must be idempotent (a crash may interrupt a version). */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE IF NOT EXISTS sales (
       id CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
       item_name VARCHAR(200) NOT NULL,
       stock INT UNSIGNED NOT NULL,
       sold INT UNSIGNED NOT NULL DEFAULT 0,
       price_cents BIGINT UNSIGNED NULL,
       starts_at DATETIME(3) NOT NULL,
       ends_at DATETIME(3) NOT NULL,
       created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       CONSTRAINT sales_sold_within_stock CHECK (sold <= stock)
     ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `CREATE TABLE IF NOT EXISTS orders (
       id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
       sale_id CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
       user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
       reserved_at DATETIME(3) NOT NULL,
       confirmed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       UNIQUE KEY orders_one_per_user (sale_id, user_id),
       CONSTRAINT orders_sale FOREIGN KEY (sale_id) REFERENCES sales (id)
     ) ENGINE=InnoDB`,
  ],
];

/**
 * Brings the schema to the newest version. Instances starting together serialise on a named lock
 * (per database), so each version is applied once; running it again is a no-op.
 * Returns the number of versions applied.
 */
export async function migrate(pool: Pool): Promise<number> {
  const conn = await pool.getConnection();
  const lockName = "CONCAT('seckill.migrate.', LEFT(DATABASE(), 40))";
  try {
    const [[lock]] = await conn.query<RowDataPacket[]>(`SELECT GET_LOCK(${lockName}, 60) AS acquired`);
    if (lock.acquired !== 1) throw new Error("timed out waiting for the schema migration lock");
    try {
      await conn.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version INT UNSIGNED NOT NULL PRIMARY KEY,
           applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
         ) ENGINE=InnoDB`,
      );
      const [[current]] = await conn.query<RowDataPacket[]>("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations");
      let applied = 0;
      for (let version = Number(current.version) + 1; version <= MIGRATIONS.length; version++) {
        for (const statement of MIGRATIONS[version - 1]) await conn.query(statement);
        await conn.query("INSERT INTO schema_migrations (version) VALUES (?)", [version]);
        applied++;
      }
      return applied;
    } finally {
      await conn.query(`SELECT RELEASE_LOCK(${lockName})`);
    }
  } finally {
    conn.release();
  }
}

export async function insertSale(pool: Pool, sale: Sale): Promise<void> {
  await pool.query("INSERT INTO sales (id, item_name, stock, price_cents, starts_at, ends_at) VALUES (?, ?, ?, ?, ?, ?)", [
    sale.id,
    sale.itemName,
    sale.stock,
    sale.priceCents ?? null,
    new Date(sale.startsAt),
    new Date(sale.endsAt),
  ]);
}

/** Removes a sale that never became visible (its Redis load failed) and so has no orders. */
export async function deleteUnusedSale(pool: Pool, saleId: string): Promise<void> {
  await pool.query("DELETE FROM sales WHERE id = ? AND sold = 0", [saleId]);
}

export async function findOrder(pool: Pool, orderId: string): Promise<{ saleId: string; userId: string } | undefined> {
  const [rows] = await pool.query<RowDataPacket[]>("SELECT sale_id, user_id FROM orders WHERE id = ?", [orderId]);
  return rows.length === 0 ? undefined : { saleId: rows[0].sale_id, userId: rows[0].user_id };
}

export async function countOrders(pool: Pool, saleId: string): Promise<number> {
  const [[row]] = await pool.query<RowDataPacket[]>("SELECT COUNT(*) AS confirmed FROM orders WHERE sale_id = ?", [saleId]);
  return Number(row.confirmed);
}

export async function pingMysql(pool: Pool): Promise<void> {
  await pool.query("SELECT 1");
}

/** MySQL refused to count more units as sold than the sale has: Redis handed out too many. */
export class OversellError extends Error {
  constructor(
    readonly saleId: string,
    attempted: number,
  ) {
    super(`sale ${saleId}: confirming ${attempted} more order(s) would exceed its stock`);
    this.name = "OversellError";
  }
}

/**
 * Writes order events to MySQL in one transaction, idempotently: an order already present (same
 * order id, or the same buyer in the same sale) counts as written. The sale's `sold` column grows
 * by the rows really inserted, guarded so it never exceeds stock. Safe to call again with the same
 * events after any failure, which is what every consumer does (Redis stream, message queue).
 */
export async function writeOrderBatch(pool: Pool, events: readonly OrderEvent[]): Promise<{ inserted: number; duplicates: number }> {
  const bySale = new Map<string, OrderEvent[]>();
  for (const event of events) {
    const group = bySale.get(event.saleId);
    if (group) group.push(event);
    else bySale.set(event.saleId, [event]);
  }
  const conn = await pool.getConnection();
  let inserted = 0;
  try {
    await conn.beginTransaction();
    for (const [saleId, group] of bySale) inserted += await insertOrders(conn, saleId, group);
    await conn.commit();
  } catch (error) {
    await conn.rollback().catch(() => undefined);
    throw error;
  } finally {
    conn.release();
  }
  return { inserted, duplicates: events.length - inserted };
}

async function insertOrders(conn: PoolConnection, saleId: string, events: readonly OrderEvent[]): Promise<number> {
  const rows = events.map((e) => [e.orderId, e.saleId, e.userId, new Date(e.reservedAt)]);
  const [insert] = await conn.query<ResultSetHeader>({
    sql: "INSERT INTO orders (id, sale_id, user_id, reserved_at) VALUES ? ON DUPLICATE KEY UPDATE id = id",
    values: [rows],
    timeout: QUERY_TIMEOUT_MS,
  });
  const inserted = insert.affectedRows;
  if (inserted === 0) return 0;
  const [update] = await conn.query<ResultSetHeader>({
    sql: "UPDATE sales SET sold = sold + ? WHERE id = ? AND sold + ? <= stock",
    values: [inserted, saleId, inserted],
    timeout: QUERY_TIMEOUT_MS,
  });
  if (update.affectedRows !== 1) throw new OversellError(saleId, inserted);
  return inserted;
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
