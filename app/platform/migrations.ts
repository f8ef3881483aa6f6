import type { Pool, PoolConnection, RowDataPacket } from "mysql2/promise";

/**
 * Each entry is one schema version. A crash may interrupt a version, so each statement must be idempotent or fail
 * with one of ALREADY_APPLIED when run again (MySQL has no ADD COLUMN IF NOT EXISTS).
 */
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
  [
    // Order ids made from Redis TIME and the buyer (see ORDER_ID_PATTERN) are longer than `<saleId>-<unit>`.
    "ALTER TABLE orders MODIFY id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL",
    // generation: bumped by every rebuild of the sale's Redis state; orders of an older one are refused.
    // last_order_id, last_user_id: the newest order confirmed, which Redis must still hold (else Redis is behind).
    `ALTER TABLE sales
       ADD COLUMN generation INT UNSIGNED NOT NULL DEFAULT 1,
       ADD COLUMN last_order_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
       ADD COLUMN last_user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL`,
  ],
  [
    // The order lifecycle (confirmed -> paid | expired). Orders confirmed before this version are `confirmed` with no
    // pay_by: they never expire.
    "ALTER TABLE sales ADD COLUMN payment_window_seconds INT UNSIGNED NOT NULL DEFAULT 900",
    `ALTER TABLE orders
       ADD COLUMN status ENUM('confirmed', 'paid', 'expired') CHARACTER SET ascii NOT NULL DEFAULT 'confirmed',
       ADD COLUMN pay_by DATETIME(3) NULL,
       ADD COLUMN paid_at DATETIME(3) NULL,
       ADD COLUMN payment_ref VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
       ADD COLUMN unit_returned TINYINT(1) NOT NULL DEFAULT 0`,
    // A buyer whose order expired may buy again: one order per buyer among those holding a unit (NULLs never collide).
    `ALTER TABLE orders ADD COLUMN holder_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
       AS (IF(status = 'expired', NULL, user_id)) STORED`,
    "ALTER TABLE orders ADD UNIQUE KEY orders_one_holder_per_sale (sale_id, holder_id)",
    // After the key above, which also serves the foreign key on sale_id.
    "ALTER TABLE orders DROP INDEX orders_one_per_user",
    "ALTER TABLE orders ADD UNIQUE KEY orders_payment_ref (payment_ref)",
    // The expiry sweeper's two queries: confirmed and due, expired and not yet returned to Redis.
    "ALTER TABLE orders ADD KEY orders_due (status, unit_returned, pay_by)",
    // The transactional outbox of order state changes: written with the change, published by the order writer.
    `CREATE TABLE IF NOT EXISTS order_events (
       id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
       order_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
       sale_id CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
       user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
       status ENUM('confirmed', 'paid', 'expired') CHARACTER SET ascii NOT NULL,
       occurred_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       published_at DATETIME(3) NULL,
       UNIQUE KEY order_events_once (order_id, status),
       KEY order_events_unpublished (published_at, id)
     ) ENGINE=InnoDB`,
  ],
  [
    // stock_buckets: how many Redis buckets the sale's stock is split into; a rebuild after Redis lost it needs it.
    "ALTER TABLE sales ADD COLUMN stock_buckets TINYINT UNSIGNED NOT NULL DEFAULT 1",
  ],
];

/** Errors of a statement that had already been applied before a crash interrupted its version. */
const ALREADY_APPLIED = new Set(["ER_DUP_FIELDNAME", "ER_DUP_KEYNAME", "ER_CANT_DROP_FIELD_OR_KEY"]);

async function applyStatement(conn: PoolConnection, statement: string): Promise<void> {
  try {
    await conn.query(statement);
  } catch (error) {
    if (!ALREADY_APPLIED.has((error as { code?: string }).code ?? "")) throw error;
  }
}

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
        for (const statement of MIGRATIONS[version - 1]) await applyStatement(conn, statement);
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
