import type { RowDataPacket } from "mysql2/promise";
import { ORDER_WRITER_GROUP, saleKeys } from "../../../app/sales/reservations";
import { freePort } from "../../../scripts/lib/local-services";
import { ApiClient, type Answer } from "./http-client";
import { createTestResources, type TestResources } from "./resources";
import { ServiceProcess } from "./service-process";
import { TcpProxy } from "./tcp-proxy";
import { waitUntil } from "./wait";

/**
 * The service as real processes on a test run's resources, with the proxies that make Redis or MySQL
 * misbehave under it; `cleanUp` stops them all, newest first.
 */
export class ServiceHarness {
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private testResources: TestResources | undefined;

  /**
   * The harness of one test file (or describe block), called at its top level: the file's own resources before its first test, every
   * service and proxy a test started stopped after that test, the resources removed after the last one.
   */
  static forTestFile(): ServiceHarness {
    const harness = new ServiceHarness();
    beforeAll(async () => {
      harness.testResources = await createTestResources();
    });
    afterEach(() => harness.cleanUp());
    afterAll(() => harness.testResources?.dispose());
    return harness;
  }

  private constructor() {}

  get resources(): TestResources {
    if (this.testResources === undefined) throw new Error("the harness's resources exist from its file's beforeAll on");
    return this.testResources;
  }

  async startService(overrides: Record<string, string> = {}): Promise<{ service: ServiceProcess; api: ApiClient }> {
    const port = await freePort();
    const service = await ServiceProcess.start(this.resources.env({ PORT: String(port), ...overrides }));
    const api = new ApiClient(service.baseUrl, 200);
    this.cleanups.push(async () => {
      api.close();
      await service.stop();
    });
    return { service, api };
  }

  async startProxy(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(target);
    this.cleanups.push(() => proxy.close());
    return proxy;
  }

  async cleanUp(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }

  async orderRows(saleId: string): Promise<{ id: string; user_id: string }[]> {
    const [rows] = await this.resources.pool.query<RowDataPacket[]>("SELECT id, user_id FROM orders WHERE sale_id = ?", [saleId]);
    return rows as { id: string; user_id: string }[];
  }

  async soldColumn(saleId: string): Promise<number> {
    const [[row]] = await this.resources.pool.query<RowDataPacket[]>("SELECT sold FROM sales WHERE id = ?", [saleId]);
    return row.sold;
  }

  /** Each buyer holding a unit of the sale in Redis, with its order id. */
  async holders(saleId: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.resources.redis.hgetall(saleKeys(this.resources.keyPrefix, saleId).buyers)));
  }

  /** After the drain: every unit handed out is one order row, no buyer twice, nothing left in Redis to confirm. */
  async expectFullyConfirmed(saleId: string, units: number): Promise<{ id: string; user_id: string }[]> {
    await waitUntil(async () => (await this.orderRows(saleId)).length >= units, `${units} order rows`);
    const rows = await this.orderRows(saleId);
    expect(rows).toHaveLength(units);
    expect(new Set(rows.map((row) => row.user_id)).size).toBe(units);
    expect(await this.soldColumn(saleId)).toBe(units);
    const { redis, keyPrefix } = this.resources;
    const keys = saleKeys(keyPrefix, saleId);
    await waitUntil(async () => (await redis.xlen(keys.orders)) === 0, "an empty order stream");
    expect(await redis.xpending(keys.orders, ORDER_WRITER_GROUP)).toEqual([0, null, null, null]);
    expect(await redis.exists(keys.deadLetters)).toBe(0);
    return rows;
  }
}

export function statusCounts(answers: readonly Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
