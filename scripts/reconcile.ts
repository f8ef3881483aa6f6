/**
 * `npm run reconcile -- [--sale <id>] [--fix] [--json]`: does Redis agree with MySQL, sale by sale (see
 * scripts/lib/reconcile.ts)? Exit 0 when clean (or, with --fix, when everything found was repaired), 1 otherwise.
 */
import pino from "pino";
import { loadDataTierConfig, ServiceConfigError } from "../app/platform/config";
import { createMysqlPool } from "../app/platform/mysql";
import { createRedis } from "../app/platform/redis";
import { SALE_ID_PATTERN } from "../app/sales/sale";
import { parseFlags, runMain, UsageError } from "./lib/cli";
import { formatReport, reconcile } from "./lib/reconcile";

const USAGE = `Usage: npm run reconcile -- [--sale <id>] [--fix] [--json]

Compares each sale's Redis state (units handed out, buyers, order stream backlog, dead letters) with MySQL (orders
by status, the guarded sold count) and prints every drift with its cause. Exit 1 on drift, 0 when clean.
Connects as the service does: REDIS_URL and MYSQL_URL (the instances have them in /etc/seckill/seckill.env; Tair
and PolarDB answer only inside the VPC).

  --sale <id>   only this sale (default: every sale)
  --fix         repair what can be: rebuild Redis from MySQL, return stranded units, recount the sold column,
                replay dead letters MySQL now accepts; report what cannot be (exit 1 if anything is left)
  --json        the report as JSON`;

export async function main(args = process.argv.slice(2)): Promise<number> {
  const flags = parseFlags(USAGE, { sale: { type: "string" }, fix: { type: "boolean" }, json: { type: "boolean" } }, args);
  if (flags === undefined) return 0;
  if (flags.sale !== undefined && !SALE_ID_PATTERN.test(flags.sale))
    throw new UsageError(`--sale must be a sale id (16 hex digits), got "${flags.sale}"`);
  let tier;
  try {
    tier = loadDataTierConfig();
  } catch (error) {
    if (error instanceof ServiceConfigError) throw new UsageError(`${error.message}\n\n${USAGE}`);
    throw error;
  }
  const redis = createRedis(tier.redis, "background");
  const pool = createMysqlPool(tier.mysql, 2);
  try {
    const logger = pino({ level: "warn" }, pino.destination(2));
    const report = await reconcile(
      { redis, pool, keyPrefix: tier.redis.keyPrefix, logger },
      { saleId: flags.sale, fix: flags.fix === true },
    );
    process.stdout.write(`${flags.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
    return report.remaining.length === 0 ? 0 : 1;
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

if (require.main === module) runMain(main);
