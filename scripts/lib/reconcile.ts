/**
 * Whether Redis and MySQL agree on each sale, and why not (`npm run reconcile`). Compared per sale:
 * - Redis: the sale hash (units handed out), the buyers hash, the order stream (backlog) and its dead letters;
 * - MySQL: the orders by status, and the sale row's guarded sold count.
 * A buyer Redis holds a unit for is accounted for by MySQL (an order holding a unit) or by the stream (on its way
 * there); every order MySQL says holds a unit must be held in Redis; expired orders must have given their unit back.
 */
import type { RedisClient } from "../../app/platform/redis";
import type { Pool, RowDataPacket } from "mysql2/promise";
import type { Logger } from "../../app/platform/logger";
import { parseOrderEvent, writeOrderBatch } from "../../app/orders/order-store";
import { SaleRebuilder } from "../../app/orders/sale-rebuilder";
import { isTransientMysqlError, transaction } from "../../app/platform/mysql";
import { bucketKeys, salesIndexKey, type SaleKeys } from "../../app/sales/reservations";
import { UnitReturns } from "../../app/sales/unit-returns";
import { returnExpiredUnit } from "../../app/orders/order-lifecycle";
import { stockBucketsOf } from "../../app/sales/sale-store";

export type DriftKind =
  | "sale_missing_in_redis"
  | "redis_count_mismatch"
  | "unit_without_order"
  | "order_not_in_redis"
  | "stranded_unit"
  | "sold_count_drift"
  | "dead_letters";

export interface Drift {
  readonly saleId: string;
  readonly kind: DriftKind;
  /** How many units, orders or entries. */
  readonly count: number;
  readonly cause: string;
  /** After --fix: what was done, or why it could not be. */
  fix?: { readonly fixed: boolean; readonly detail: string };
}

export interface SaleBalance {
  readonly saleId: string;
  readonly stock: number;
  /** Redis: units handed out, buyers, stream backlog, dead letters. */
  readonly redis: { readonly sold: number; readonly buyers: number; readonly backlog: number; readonly deadLetters: number } | undefined;
  /** MySQL: orders by status and the sale row's sold count. */
  readonly mysql: { readonly confirmed: number; readonly paid: number; readonly expired: number; readonly soldColumn: number };
}

export interface ReconcileDeps {
  readonly redis: RedisClient;
  readonly pool: Pool;
  readonly keyPrefix: string;
  readonly logger: Logger;
}

export interface ReconcileReport {
  readonly sales: SaleBalance[];
  /** What was found (with the outcome of each fix under --fix). */
  readonly drifts: Drift[];
  /** Under --fix: what is still wrong after the repairs. */
  readonly remaining: Drift[];
}

/** Rebuilding the sale's Redis state from MySQL repairs these. */
const REBUILT_BY_MYSQL = new Set<DriftKind>(["sale_missing_in_redis", "redis_count_mismatch", "unit_without_order", "order_not_in_redis"]);

interface OrderRow {
  readonly id: string;
  readonly userId: string;
  readonly status: "confirmed" | "paid" | "expired";
  readonly unitReturned: boolean;
}

async function saleIds(deps: ReconcileDeps, only: string | undefined): Promise<string[]> {
  if (only !== undefined) return [only];
  const [rows] = await deps.pool.query<RowDataPacket[]>("SELECT id FROM sales ORDER BY created_at");
  const listed = await deps.redis.smembers(salesIndexKey(deps.keyPrefix));
  return [...new Set([...rows.map((row) => row.id as string), ...listed])];
}

async function streamOrderIds(redis: RedisClient, stream: string): Promise<{ ids: Set<string>; entries: [string, string[]][] }> {
  const entries = (await redis.xrange(stream, "-", "+")) as [string, string[]][];
  const ids = new Set(entries.map(([, fields]) => parseOrderEvent(fields)?.orderId).filter((id): id is string => id !== undefined));
  return { ids, entries };
}

/** Every bucket's keys of the sale (one bucket when MySQL does not know it). */
function saleBuckets(keyPrefix: string, saleId: string, stockBuckets = 1): SaleKeys[] {
  return Array.from({ length: stockBuckets }, (_, bucket) => bucketKeys(keyPrefix, saleId, bucket));
}

/** The sale's Redis side over all its buckets: units sold (null when bucket 0, the sale itself, is gone), buyers, streams. */
async function readRedisSide(redis: RedisClient, buckets: readonly SaleKeys[]) {
  const perBucket = await Promise.all(
    buckets.map((keys) =>
      Promise.all([
        redis.hget(keys.sale, "sold"),
        redis.hgetall(keys.buyers),
        streamOrderIds(redis, keys.orders),
        streamOrderIds(redis, keys.deadLetters),
      ]),
    ),
  );
  const merged = (streams: { ids: Set<string>; entries: [string, string[]][] }[]) => ({
    ids: new Set(streams.flatMap((one) => [...one.ids])),
    entries: streams.flatMap((one) => one.entries),
  });
  return {
    soldField: perBucket[0][0] === null ? null : String(perBucket.reduce((sum, [sold]) => sum + Number(sold ?? 0), 0)),
    buyers: Object.assign({}, ...perBucket.map(([, buyers]) => buyers)) as Record<string, string>,
    stream: merged(perBucket.map(([, , stream]) => stream)),
    dead: merged(perBucket.map(([, , , dead]) => dead)),
  };
}

/** Everything wrong with one sale, and its balance. */
async function inspect(deps: ReconcileDeps, saleId: string): Promise<{ balance: SaleBalance; drifts: Drift[] } | undefined> {
  const { redis, pool, keyPrefix } = deps;
  // Redis before MySQL: an order confirmed in between is then seen on its way (in the stream), never nowhere.
  const { soldField, buyers, stream, dead } = await readRedisSide(
    redis,
    saleBuckets(keyPrefix, saleId, await stockBucketsOf(pool, saleId)),
  );
  const [[sale]] = await pool.query<RowDataPacket[]>("SELECT stock, sold FROM sales WHERE id = ?", [saleId]);
  if (sale === undefined) return undefined;
  const [rows] = await pool.query<RowDataPacket[]>("SELECT id, user_id, status, unit_returned FROM orders WHERE sale_id = ?", [saleId]);
  const orders: OrderRow[] = rows.map((row) => ({
    id: row.id,
    userId: row.user_id,
    status: row.status,
    unitReturned: Number(row.unit_returned) === 1,
  }));
  const holding = orders.filter((order) => order.status !== "expired");
  const drifts: Drift[] = [];
  const drift = (kind: DriftKind, count: number, cause: string) => {
    if (count > 0) drifts.push({ saleId, kind, count, cause });
  };
  const mysql = {
    confirmed: holding.length,
    paid: orders.filter((order) => order.status === "paid").length,
    expired: orders.length - holding.length,
    soldColumn: Number(sale.sold),
  };
  drift(
    "sold_count_drift",
    Math.abs(mysql.soldColumn - holding.length),
    `the sale row's guarded sold count is ${mysql.soldColumn}, but ${holding.length} orders hold a unit`,
  );

  drift("dead_letters", dead.entries.length, "order events that kept failing or that MySQL refused, in the dead-letter stream");
  if (soldField === null) {
    drift("sale_missing_in_redis", 1, "Redis has no state for a sale MySQL knows (data lost, or a flush)");
    return { balance: { saleId, stock: Number(sale.stock), redis: undefined, mysql }, drifts };
  }
  const sold = Number(soldField);
  const held = new Map(Object.entries(buyers));
  drift(
    "redis_count_mismatch",
    Math.abs(sold - held.size),
    `Redis counts ${sold} units handed out but holds ${held.size} buyers (a partial write or a hand edit)`,
  );
  const byId = new Map(orders.map((order) => [order.id, order]));
  const unaccounted = [...held.values()].filter(
    // On its way to MySQL, or dead-lettered (a drift of its own, which --fix replays).
    (orderId) =>
      byId.get(orderId)?.status !== "confirmed" &&
      byId.get(orderId)?.status !== "paid" &&
      !stream.ids.has(orderId) &&
      !dead.ids.has(orderId),
  );
  const stranded = orders.filter((order) => order.status === "expired" && (!order.unitReturned || held.get(order.userId) === order.id));
  const strandedIds = new Set(stranded.map((order) => order.id));
  drift(
    "unit_without_order",
    unaccounted.filter((orderId) => !strandedIds.has(orderId)).length,
    "Redis holds units for orders neither in MySQL nor on their way there (an order event was lost)",
  );
  drift(
    "order_not_in_redis",
    holding.filter((order) => held.get(order.userId) !== order.id).length,
    "MySQL has orders holding a unit that Redis does not hold (Redis lost data: the unit could be sold twice)",
  );
  drift("stranded_unit", stranded.length, "orders expired in MySQL whose unit did not go back on sale (a sweeper died mid-way)");
  return {
    balance: {
      saleId,
      stock: Number(sale.stock),
      redis: { sold, buyers: held.size, backlog: stream.entries.length, deadLetters: dead.entries.length },
      mysql,
    },
    drifts,
  };
}

/** Replays each dead letter; the ones MySQL now takes leave the dead-letter stream. Returns those left. */
async function replayDeadLetters(deps: ReconcileDeps, keys: SaleKeys): Promise<number> {
  let left = 0;
  for (const [entryId, fields] of (await deps.redis.xrange(keys.deadLetters, "-", "+")) as [string, string[]][]) {
    const event = parseOrderEvent(fields);
    try {
      if (event === undefined) throw new Error("malformed");
      await writeOrderBatch(deps.pool, [event]);
      await deps.redis.xdel(keys.deadLetters, entryId);
    } catch (error) {
      if (isTransientMysqlError(error)) throw error;
      left++;
    }
  }
  return left;
}

async function repairSoldCount(pool: Pool, saleId: string): Promise<void> {
  await transaction(pool, async (session) => {
    await session.query("SELECT sold FROM sales WHERE id = ? FOR UPDATE", [saleId]);
    await session.query("UPDATE sales SET sold = (SELECT COUNT(*) FROM orders WHERE sale_id = ? AND status <> 'expired') WHERE id = ?", [
      saleId,
      saleId,
    ]);
  });
}

async function returnStrandedUnits(deps: ReconcileDeps, saleId: string, stockBuckets: number): Promise<void> {
  const returns = new UnitReturns(deps.redis, deps.keyPrefix);
  const [rows] = await deps.pool.query<RowDataPacket[]>("SELECT id, user_id FROM orders WHERE sale_id = ? AND status = 'expired'", [
    saleId,
  ]);
  for (const row of rows) {
    await returnExpiredUnit(deps.pool, returns, { orderId: row.id, saleId, userId: row.user_id, stockBuckets });
  }
}

/** Repairs what it can, in an order where each step's result is what the next one reads. */
async function repair(deps: ReconcileDeps, saleId: string, drifts: readonly Drift[]): Promise<void> {
  const kinds = new Set(drifts.map((drift) => drift.kind));
  const stockBuckets = (await stockBucketsOf(deps.pool, saleId)) ?? 1;
  if (kinds.has("dead_letters")) {
    for (const keys of saleBuckets(deps.keyPrefix, saleId, stockBuckets)) await replayDeadLetters(deps, keys);
  }
  if (kinds.has("sold_count_drift")) await repairSoldCount(deps.pool, saleId);
  if (kinds.has("stranded_unit")) await returnStrandedUnits(deps, saleId, stockBuckets);
  if ([...kinds].some((kind) => REBUILT_BY_MYSQL.has(kind))) {
    const rebuilt = await new SaleRebuilder({ ...deps }).rebuild(saleId, "npm run reconcile -- --fix: Redis disagreed with MySQL");
    if (!rebuilt) throw new Error("another order writer is rebuilding the sale; run reconcile again in a minute");
  }
}

const HOW_FIXED: Record<DriftKind, string> = {
  sale_missing_in_redis: "rebuilt Redis from MySQL",
  redis_count_mismatch: "rebuilt Redis from MySQL",
  unit_without_order: "rebuilt Redis from MySQL (the units went back on sale; their buyers' orders are recorded as lost)",
  order_not_in_redis: "rebuilt Redis from MySQL",
  stranded_unit: "returned the units to Redis",
  sold_count_drift: "recounted the sold column from the orders",
  dead_letters: "replayed the dead letters into MySQL",
};

export async function reconcile(
  deps: ReconcileDeps,
  options: { readonly saleId?: string; readonly fix: boolean },
): Promise<ReconcileReport> {
  const sales: SaleBalance[] = [];
  const drifts: Drift[] = [];
  const remaining: Drift[] = [];
  for (const saleId of await saleIds(deps, options.saleId)) {
    const found = await inspect(deps, saleId);
    if (found === undefined) {
      const drift: Drift = { saleId, kind: "sale_missing_in_redis", count: 0, cause: "MySQL has no such sale" };
      drifts.push(drift);
      remaining.push(drift);
      continue;
    }
    sales.push(found.balance);
    drifts.push(...found.drifts);
    if (!options.fix || found.drifts.length === 0) {
      remaining.push(...found.drifts);
      continue;
    }
    let failure: string | undefined;
    try {
      await repair(deps, saleId, found.drifts);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const after = (await inspect(deps, saleId))?.drifts ?? [];
    remaining.push(...after);
    for (const drift of found.drifts) {
      const left = after.find((other) => other.kind === drift.kind);
      drift.fix =
        left === undefined
          ? { fixed: true, detail: HOW_FIXED[drift.kind] }
          : { fixed: false, detail: failure ?? `${left.count} left: ${cannotFix(drift.kind)}` };
    }
  }
  return { sales, drifts, remaining };
}

function cannotFix(kind: DriftKind): string {
  return kind === "dead_letters"
    ? "MySQL still refuses them (oversold, collision, malformed); see the error field of each entry"
    : "still there after the repair; see the service's logs";
}

/** The report as the operator reads it: one line per sale, then every drift with its cause (and fix). */
export function formatReport(report: ReconcileReport): string {
  const lines = ["sale              stock  redis sold/buyers/backlog/dead  mysql holding/paid/expired/sold-column"];
  for (const sale of report.sales) {
    const redis = sale.redis ? `${sale.redis.sold}/${sale.redis.buyers}/${sale.redis.backlog}/${sale.redis.deadLetters}` : "(missing)";
    const { confirmed, paid, expired, soldColumn } = sale.mysql;
    lines.push(`${sale.saleId}  ${String(sale.stock).padStart(5)}  ${redis.padEnd(30)} ${confirmed}/${paid}/${expired}/${soldColumn}`);
  }
  lines.push("");
  if (report.drifts.length === 0) {
    lines.push("clean: Redis and MySQL agree");
    return lines.join("\n");
  }
  lines.push("sale              drift                  count  cause");
  for (const drift of report.drifts) {
    lines.push(`${drift.saleId}  ${drift.kind.padEnd(22)} ${String(drift.count).padStart(5)}  ${drift.cause}`);
    if (drift.fix) lines.push(`${" ".repeat(47)}${drift.fix.fixed ? "fixed" : "NOT FIXED"}: ${drift.fix.detail}`);
  }
  return lines.join("\n");
}
