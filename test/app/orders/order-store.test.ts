import type { RowDataPacket } from "mysql2/promise";
import { newSaleId, type Sale } from "../../../app/sales/sale";
import { countOrders, insertSale } from "../../../app/sales/sale-store";
import { createMysqlPool, isTransientMysqlError } from "../../../app/platform/mysql";
import { findOrder, RefusedOrdersError, writeOrderBatch, type OrderEvent } from "../../../app/orders/order-store";
import { migrate } from "../../../app/platform/migrations";
import { freePort } from "../../../scripts/lib/local-services";
import { orderIdFor } from "../support/order-ids";
import { createTestResources, type TestResources } from "../support/resources";

let resources: TestResources;

beforeAll(async () => {
  resources = await createTestResources();
});

afterAll(async () => {
  await resources.dispose();
});

async function newSale(stock: number): Promise<Sale> {
  const sale: Sale = { id: newSaleId(), itemName: "Phone", stock, sold: 0, startsAt: Date.now(), endsAt: Date.now() + 60_000 };
  await insertSale(resources.pool, sale);
  return sale;
}

function events(sale: Sale, users: string[], generation = 1): OrderEvent[] {
  return users.map((userId) => ({ orderId: orderIdFor(sale.id, userId, generation), saleId: sale.id, userId, reservedAt: Date.now() }));
}

async function refusalOf(write: Promise<unknown>) {
  const error = await write.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RefusedOrdersError);
  expect(isTransientMysqlError(error)).toBe(false);
  return (error as RefusedOrdersError).refused.map(({ event, reason }) => [event.userId, reason]);
}

async function soldColumn(saleId: string): Promise<number> {
  const [[row]] = await resources.pool.query<RowDataPacket[]>("SELECT sold FROM sales WHERE id = ?", [saleId]);
  return row.sold;
}

describe("schema migration", () => {
  it("applies the schema once when several instances start at the same time, and is a no-op afterwards", async () => {
    const pools = Array.from({ length: 4 }, () => createMysqlPool(resources.config().mysql, 1));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool)));
      expect(applied.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(applied.filter((n) => n > 0)).toHaveLength(1);
      expect(await migrate(pools[0])).toBe(0);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const [tables] = await resources.pool.query<RowDataPacket[]>("SHOW TABLES");
    expect(tables.map((t) => Object.values(t)[0]).sort()).toEqual(["order_events", "orders", "sales", "schema_migrations"]);
  });

  it("applies a version again after a crash interrupted it (its columns already added)", async () => {
    const [[latest]] = await resources.pool.query<RowDataPacket[]>("SELECT MAX(version) AS version FROM schema_migrations");
    await resources.pool.query("DELETE FROM schema_migrations WHERE version = ?", [latest.version]);
    expect(await migrate(resources.pool)).toBe(1);
    const [columns] = await resources.pool.query<RowDataPacket[]>("SHOW COLUMNS FROM sales LIKE 'generation'");
    expect(columns).toHaveLength(1);
  });
});

describe("writeOrderBatch", () => {
  it("inserts the orders and advances the sale's sold count by the same number", async () => {
    const sale = await newSale(10);
    const batch = events(sale, ["a", "b", "c"]);
    expect(await writeOrderBatch(resources.pool, batch)).toEqual({ inserted: 3, duplicates: 0 });
    expect(await countOrders(resources.pool, sale.id)).toBe(3);
    expect(await soldColumn(sale.id)).toBe(3);
    expect(await findOrder(resources.pool, batch[1].orderId)).toEqual({
      order: { saleId: sale.id, userId: "b", status: "confirmed", payBy: expect.any(Number) },
      saleGeneration: 1,
    });
    // The payment window starts when MySQL confirms the order, by MySQL's clock.
    const [windows] = await resources.pool.query<RowDataPacket[]>(
      "SELECT TIMESTAMPDIFF(MICROSECOND, o.confirmed_at, o.pay_by) / 1000000 AS seconds, s.payment_window_seconds AS window FROM orders o JOIN sales s ON s.id = o.sale_id WHERE o.sale_id = ?",
      [sale.id],
    );
    expect(windows.map((row) => Number(row.seconds))).toEqual([900, 900, 900]);
    expect(windows.map((row) => Number(row.window))).toEqual([900, 900, 900]);
  });

  it("counts a batch written again (a redelivery after a crash) as success without doubling anything", async () => {
    const sale = await newSale(10);
    const batch = events(sale, ["a", "b", "c"]);
    await writeOrderBatch(resources.pool, batch);
    expect(await writeOrderBatch(resources.pool, [...batch, ...events(sale, ["d"])])).toEqual({ inserted: 1, duplicates: 3 });
    expect(await countOrders(resources.pool, sale.id)).toBe(4);
    expect(await soldColumn(sale.id)).toBe(4);
    const [outbox] = await resources.pool.query<RowDataPacket[]>("SELECT user_id FROM order_events WHERE sale_id = ? ORDER BY id", [
      sale.id,
    ]);
    expect(outbox.map((row) => row.user_id)).toEqual(["a", "b", "c", "d"]);
  });

  it("refuses as a collision, writing nothing, a second order of a buyer who already holds one in the sale", async () => {
    const sale = await newSale(10);
    await writeOrderBatch(resources.pool, events(sale, ["alice"]));
    expect(await refusalOf(writeOrderBatch(resources.pool, [...events(sale, ["bob"]), ...events(sale, ["alice"])]))).toEqual([
      ["alice", "collision"],
    ]);
    expect(await countOrders(resources.pool, sale.id)).toBe(1);
  });

  it("refuses as a collision an order whose id MySQL already confirmed for another buyer", async () => {
    const sale = await newSale(10);
    const [alices] = events(sale, ["alice"]);
    await writeOrderBatch(resources.pool, [alices]);
    expect(await refusalOf(writeOrderBatch(resources.pool, [{ ...alices, userId: "mallory" }]))).toEqual([["mallory", "collision"]]);
    expect(await findOrder(resources.pool, alices.orderId)).toMatchObject({ order: { userId: "alice" } });
  });

  it("tells user ids apart by letter case", async () => {
    const sale = await newSale(10);
    expect(await writeOrderBatch(resources.pool, events(sale, ["Alice", "alice"]))).toEqual({ inserted: 2, duplicates: 0 });
  });

  it("refuses an order of an older generation of the sale (superseded by a rebuild), unless MySQL has it already", async () => {
    const sale = await newSale(10);
    const confirmedBefore = events(sale, ["early"]);
    await writeOrderBatch(resources.pool, confirmedBefore);
    await resources.pool.query("UPDATE sales SET generation = 2 WHERE id = ?", [sale.id]);
    expect(await writeOrderBatch(resources.pool, confirmedBefore)).toEqual({ inserted: 0, duplicates: 1 });
    expect(await refusalOf(writeOrderBatch(resources.pool, events(sale, ["late"])))).toEqual([["late", "superseded"]]);
    expect(await writeOrderBatch(resources.pool, events(sale, ["new"], 2))).toEqual({ inserted: 1, duplicates: 0 });
  });

  it("refuses, and rolls back the whole batch, when confirming it would sell more than the stock", async () => {
    const sale = await newSale(2);
    const other = await newSale(5);
    await writeOrderBatch(resources.pool, events(sale, ["a"]));
    const batch = [...events(other, ["x"]), ...events(sale, ["b", "c"])];
    expect(await refusalOf(writeOrderBatch(resources.pool, batch))).toEqual([["c", "oversold"]]);
    expect(await countOrders(resources.pool, sale.id)).toBe(1);
    expect(await countOrders(resources.pool, other.id)).toBe(0);
    expect(await soldColumn(sale.id)).toBe(1);
  });

  it("fails permanently (not transiently) for an order of a sale MySQL does not know", async () => {
    const ghost: Sale = { id: newSaleId(), itemName: "?", stock: 1, sold: 0, startsAt: 0, endsAt: 1 };
    const failure = writeOrderBatch(resources.pool, events(ghost, ["a"]));
    await expect(failure).rejects.toThrow();
    await failure.catch((error) => expect(isTransientMysqlError(error)).toBe(false));
  });

  it("fails transiently when MySQL cannot be reached", async () => {
    const unreachable = createMysqlPool({ ...resources.config().mysql, port: await freePort() }, 1);
    try {
      const sale: Sale = { id: newSaleId(), itemName: "?", stock: 1, sold: 0, startsAt: 0, endsAt: 1 };
      const failure = writeOrderBatch(unreachable, events(sale, ["a"]));
      await expect(failure).rejects.toThrow();
      await failure.catch((error) => expect(isTransientMysqlError(error)).toBe(true));
    } finally {
      await unreachable.end();
    }
  });
});
