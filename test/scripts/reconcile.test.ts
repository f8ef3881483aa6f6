import { saleKeys } from "../../app/sales/reservations";
import type { Sale } from "../../app/sales/sale";
import { orderEventFields } from "../../app/orders/order-store";
import { main } from "../../scripts/reconcile";
import { reconcile, type DriftKind } from "../../scripts/lib/reconcile";
import { buyAndConfirm, openSale } from "../app/support/confirmed-orders";
import { captureLogs } from "../app/support/log-capture";
import { orderIdFor } from "../app/support/order-ids";
import { dataTierForTestFile } from "../app/support/data-tier";

const tier = dataTierForTestFile();

const deps = () => ({ redis: tier.redis, pool: tier.resources.pool, keyPrefix: tier.resources.keyPrefix, logger: captureLogs().logger });
const check = (sale: Sale, fix = false) => reconcile(deps(), { saleId: sale.id, fix });

/** A sale of 5 with 3 confirmed orders, clean. */
async function cleanSale(): Promise<{ sale: Sale; orders: Map<string, string> }> {
  const sale = await openSale(tier.resources.pool, tier.reservations, 5);
  const orders = await buyAndConfirm(tier.resources.pool, tier.reservations, sale, ["a", "b", "c"]);
  return { sale, orders };
}

async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, tier.resources.env());
  let out = "";
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { code: await main(args), out };
  } finally {
    write.mockRestore();
    process.env = saved;
  }
}

test("a clean sale: no drift, exit 0", async () => {
  const { sale } = await cleanSale();
  expect((await check(sale)).drifts).toEqual([]);
  const { code, out } = await runCli(["--sale", sale.id]);
  expect(code).toBe(0);
  expect(out).toContain("clean: Redis and MySQL agree");
});

type Seed = (sale: Sale, orders: Map<string, string>) => Promise<unknown>;

const SEEDS: [DriftKind, string, Seed][] = [
  ["sale_missing_in_redis", "Redis lost the sale", (sale) => tier.redis.del(saleKeys(tier.resources.keyPrefix, sale.id).sale)],
  [
    "redis_count_mismatch",
    "Redis counts a unit nobody holds",
    (sale) => tier.redis.hincrby(saleKeys(tier.resources.keyPrefix, sale.id).sale, "sold", 1),
  ],
  [
    "unit_without_order",
    "Redis holds a unit for an order whose event was lost",
    async (sale) => {
      const keys = saleKeys(tier.resources.keyPrefix, sale.id);
      await tier.redis.hset(keys.buyers, "ghost", orderIdFor(sale.id, "ghost"));
      await tier.redis.hincrby(keys.sale, "sold", 1);
    },
  ],
  [
    "order_not_in_redis",
    "Redis lost a confirmed order",
    async (sale) => {
      const keys = saleKeys(tier.resources.keyPrefix, sale.id);
      await tier.redis.hdel(keys.buyers, "b");
      await tier.redis.hincrby(keys.sale, "sold", -1);
    },
  ],
  [
    "stranded_unit",
    "a sweeper died between the MySQL update and the Redis return",
    async (sale, orders) => {
      await tier.resources.pool.query("UPDATE orders SET status = 'expired' WHERE id = ?", [orders.get("c")]);
      await tier.resources.pool.query("UPDATE sales SET sold = sold - 1 WHERE id = ?", [sale.id]);
    },
  ],
  [
    "sold_count_drift",
    "the sold column drifted",
    (sale) => tier.resources.pool.query("UPDATE sales SET sold = sold - 1 WHERE id = ?", [sale.id]),
  ],
  [
    "dead_letters",
    "an order event was dead-lettered by a failure that has passed",
    async (sale) => {
      // A reservation whose event failed for good at the time (MySQL refused it while it was being fixed, say).
      const outcome = await tier.reservations.reserve(sale.id, "d");
      if (outcome.kind !== "reserved") throw new Error(outcome.kind);
      const keys = saleKeys(tier.resources.keyPrefix, sale.id);
      // The newest entry is d's (the ones before it, a, b and c's, were confirmed without the order writer).
      const [[entryId, fields]] = (await tier.redis.xrevrange(keys.orders, "+", "-", "COUNT", 1)) as [string, string[]][];
      expect(fields).toContain("d");
      await tier.redis.xadd(keys.deadLetters, "*", "entryId", entryId, "error", "ETIMEDOUT", ...fields);
      await tier.redis.xdel(keys.orders, entryId);
    },
  ],
];

test.each(SEEDS)(
  "%s (%s) is reported with its cause and exit 1; --fix repairs it, and the sale is clean after",
  async (kind, _what, seed) => {
    const { sale, orders } = await cleanSale();
    await seed(sale, orders);

    const found = await check(sale);
    expect(found.drifts.map((drift) => drift.kind)).toEqual([kind]);
    expect(found.drifts[0].cause).not.toBe("");
    const cli = await runCli(["--sale", sale.id]);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(kind);

    const fixed = await check(sale, true);
    expect(fixed.drifts.map((drift) => [drift.kind, drift.fix?.fixed])).toEqual([[kind, true]]);
    expect(fixed.remaining).toEqual([]);
    expect((await check(sale)).drifts).toEqual([]);
    expect((await runCli(["--sale", sale.id, "--json"])).code).toBe(0);
  },
);

test("a dead letter MySQL still refuses is reported as not fixed, and the exit code stays 1", async () => {
  const sale = await openSale(tier.resources.pool, tier.reservations, 1);
  await buyAndConfirm(tier.resources.pool, tier.reservations, sale, ["a"]);
  // An order for a unit the sale does not have: MySQL refuses it as oversold, now and later.
  const refused = { orderId: orderIdFor(sale.id, "z"), saleId: sale.id, userId: "z", reservedAt: Date.now() };
  await tier.redis.xadd(
    saleKeys(tier.resources.keyPrefix, sale.id).deadLetters,
    "*",
    "entryId",
    "0-1",
    "error",
    "oversold",
    ...orderEventFields(refused),
  );

  const report = await check(sale, true);
  expect(report.drifts.map((drift) => [drift.kind, drift.fix?.fixed])).toEqual([["dead_letters", false]]);
  expect(report.drifts[0].fix?.detail).toContain("MySQL still refuses");
  const cli = await runCli(["--sale", sale.id, "--fix"]);
  expect(cli.code).toBe(1);
  expect(cli.out).toContain("NOT FIXED");
});

test("a bad --sale is a usage error", async () => {
  await expect(main(["--sale", "nope"])).rejects.toThrow("--sale must be a sale id");
});
