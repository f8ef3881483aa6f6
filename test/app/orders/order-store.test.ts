import type { RowDataPacket } from "mysql2/promise";
import { newSaleId, type Sale } from "../../../app/sales/sale";
import { countOrders, insertSale } from "../../../app/sales/sale-store";
import { createMysqlPool, isTransientMysqlError } from "../../../app/platform/mysql";
import { findOrder, OversellError, writeOrderBatch, type OrderEvent } from "../../../app/orders/order-store";
import { migrate } from "../../../app/platform/migrations";
import { freePort } from "../../../scripts/lib/local-services";
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

function events(sale: Sale, users: string[], firstUnit = 1): OrderEvent[] {
  return users.map((userId, i) => ({ orderId: `${sale.id}-${firstUnit + i}`, saleId: sale.id, userId, reservedAt: Date.now() }));
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
    expect(tables.map((t) => Object.values(t)[0]).sort()).toEqual(["orders", "sales", "schema_migrations"]);
  });
});

describe("writeOrderBatch", () => {
  it("inserts the orders and advances the sale's sold count by the same number", async () => {
    const sale = await newSale(10);
    expect(await writeOrderBatch(resources.pool, events(sale, ["a", "b", "c"]))).toEqual({ inserted: 3, duplicates: 0 });
    expect(await countOrders(resources.pool, sale.id)).toBe(3);
    expect(await soldColumn(sale.id)).toBe(3);
    expect(await findOrder(resources.pool, `${sale.id}-2`)).toEqual({ saleId: sale.id, userId: "b" });
  });

  it("counts a batch written again (a redelivery after a crash) as success without doubling anything", async () => {
    const sale = await newSale(10);
    const batch = events(sale, ["a", "b", "c"]);
    await writeOrderBatch(resources.pool, batch);
    expect(await writeOrderBatch(resources.pool, [...batch, ...events(sale, ["d"], 4)])).toEqual({ inserted: 1, duplicates: 3 });
    expect(await countOrders(resources.pool, sale.id)).toBe(4);
    expect(await soldColumn(sale.id)).toBe(4);
  });

  it("treats a second order of the same buyer in the same sale as a duplicate, not a second row", async () => {
    const sale = await newSale(10);
    await writeOrderBatch(resources.pool, events(sale, ["alice"]));
    expect(await writeOrderBatch(resources.pool, events(sale, ["alice"], 2))).toEqual({ inserted: 0, duplicates: 1 });
    expect(await countOrders(resources.pool, sale.id)).toBe(1);
  });

  it("tells user ids apart by letter case", async () => {
    const sale = await newSale(10);
    expect(await writeOrderBatch(resources.pool, events(sale, ["Alice", "alice"]))).toEqual({ inserted: 2, duplicates: 0 });
  });

  it("refuses, and rolls back the whole batch, when confirming it would sell more than the stock", async () => {
    const sale = await newSale(2);
    const other = await newSale(5);
    await writeOrderBatch(resources.pool, events(sale, ["a"]));
    const batch = [...events(other, ["x"]), ...events(sale, ["b", "c"], 2)];
    const failure = writeOrderBatch(resources.pool, batch);
    await expect(failure).rejects.toBeInstanceOf(OversellError);
    await failure.catch((error) => expect(isTransientMysqlError(error)).toBe(false));
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
