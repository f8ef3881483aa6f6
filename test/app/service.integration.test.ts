import { spawnSync } from "node:child_process";
import http from "node:http";
import type { RowDataPacket } from "mysql2/promise";
import { ORDER_WRITER_GROUP, Reservations, saleKeys } from "../../app/sales/reservations";
import { freePort } from "../../scripts/lib/local-services";
import { ApiClient, type Answer } from "./support/http-client";
import { createTestResources, MYSQL_HOST, MYSQL_PORT, REDIS_HOST, REDIS_PORT, type TestResources } from "./support/resources";
import { ServiceProcess, serviceBundle } from "./support/service-process";
import { admin, createSale, order, user } from "./support/shop-api";
import { TcpProxy } from "./support/tcp-proxy";
import { waitUntil } from "./support/wait";

/**
 * The service as it runs in production: `node main.js` (bundled like the ECS image), a cluster of
 * HTTP workers plus the order writer, against the real Redis and MariaDB, with crashes and outages.
 */

let resources: TestResources;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  resources = await createTestResources();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await resources.dispose();
});

async function startService(overrides: Record<string, string> = {}): Promise<{ service: ServiceProcess; api: ApiClient }> {
  const port = await freePort();
  const service = await ServiceProcess.start(resources.env({ PORT: String(port), ...overrides }));
  const api = new ApiClient(service.baseUrl, 200);
  cleanups.push(async () => {
    api.close();
    await service.stop();
  });
  return { service, api };
}

async function startProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(target);
  cleanups.push(() => proxy.close());
  return proxy;
}

async function orderRows(saleId: string): Promise<{ id: string; user_id: string }[]> {
  const [rows] = await resources.pool.query<RowDataPacket[]>("SELECT id, user_id FROM orders WHERE sale_id = ?", [saleId]);
  return rows as { id: string; user_id: string }[];
}

async function soldColumn(saleId: string): Promise<number> {
  const [[row]] = await resources.pool.query<RowDataPacket[]>("SELECT sold FROM sales WHERE id = ?", [saleId]);
  return row.sold;
}

function statusCounts(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** After the drain: every unit handed out is one order row, no buyer twice, nothing left in Redis to confirm. */
async function expectFullyConfirmed(saleId: string, units: number): Promise<{ id: string; user_id: string }[]> {
  await waitUntil(async () => (await orderRows(saleId)).length >= units, `${units} order rows`);
  const rows = await orderRows(saleId);
  expect(rows).toHaveLength(units);
  expect(new Set(rows.map((row) => row.user_id)).size).toBe(units);
  expect(await soldColumn(saleId)).toBe(units);
  const keys = saleKeys(resources.keyPrefix, saleId);
  await waitUntil(async () => (await resources.redis.xlen(keys.orders)) === 0, "an empty order stream");
  expect(await resources.redis.xpending(keys.orders, ORDER_WRITER_GROUP)).toEqual([0, null, null, null]);
  expect(await resources.redis.exists(keys.deadLetters)).toBe(0);
  return rows;
}

describe("the seckill service", () => {
  it("sells exactly `stock` units to thousands of concurrent distinct buyers, and confirms exactly those orders", async () => {
    const { api } = await startService({ WORKERS: "2" });
    const stock = 100;
    const saleId = await createSale(api, stock);
    const buyers = Array.from({ length: 3000 }, (_, i) => `buyer-${i}`);
    const answers = await Promise.all(buyers.map((buyer) => order(api, saleId, buyer)));
    expect(statusCounts(answers)).toEqual({ 202: stock, 410: 3000 - stock });
    const winners = new Map(answers.flatMap((answer, i) => (answer.status === 202 ? [[answer.json.orderId as string, buyers[i]]] : [])));
    const rows = await expectFullyConfirmed(saleId, stock);
    expect(new Map(rows.map((row) => [row.id, row.user_id]))).toEqual(winners);
    const stats = await api.get(`/admin/sales/${saleId}/stats`, admin);
    expect(stats.json).toEqual({ stock, reserved: stock, confirmed: stock, pending: 0 });
  });

  it("lets a buyer racing themself across workers take exactly one unit", async () => {
    const { api } = await startService({ WORKERS: "2" });
    const saleId = await createSale(api, 10);
    const answers = await Promise.all(Array.from({ length: 60 }, () => order(api, saleId, "racer")));
    const counts = statusCounts(answers);
    expect(counts[202]).toBe(1);
    expect((counts[409] ?? 0) + (counts[429] ?? 0)).toBe(59);
    const orderId = answers.find((a) => a.status === 202)!.json.orderId;
    for (const answer of answers.filter((a) => a.status === 409)) expect(answer.json.orderId).toBe(orderId);
    expect(await expectFullyConfirmed(saleId, 1)).toEqual([{ id: orderId, user_id: "racer" }]);
  });

  it("loses and doubles nothing when the order writer is killed mid-drain and restarted", async () => {
    const mysqlProxy = await startProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const env = { MYSQL_URL: resources.mysqlUrl(mysqlProxy.port) };
    const first = await startService(env);
    const units = 6000;
    const saleId = await createSale(first.api, units);
    // A backlog the writer is busy draining: reserve straight through the script, like a burst of buyers.
    const reservations = new Reservations(resources.redis, resources.keyPrefix);
    await Promise.all(Array.from({ length: units }, (_, i) => reservations.reserve(saleId, `buyer-${i}`)));
    await waitUntil(async () => (await orderRows(saleId)).length > 0, "the first confirmed orders", 30_000);
    // Hang MySQL under the writer's feet (a transaction may be in flight), then kill every process at once.
    mysqlProxy.freeze();
    const confirmedAtCrash = (await orderRows(saleId)).length;
    await first.service.crash();
    expect(confirmedAtCrash).toBeLessThan(units);
    expect(await resources.redis.xlen(saleKeys(resources.keyPrefix, saleId).orders)).toBeGreaterThan(0);

    await mysqlProxy.restore();
    await startService(env);
    await expectFullyConfirmed(saleId, units);
  });

  it("takes orders while MySQL is unreachable and confirms every one once it is back", async () => {
    const mysqlProxy = await startProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const { api } = await startService({ MYSQL_URL: resources.mysqlUrl(mysqlProxy.port) });
    const saleId = await createSale(api, 200);
    await mysqlProxy.cut();

    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => order(api, saleId, `buyer-${i}`)));
    expect(statusCounts(answers)).toEqual({ 202: 200, 410: 100 });
    const ready = await api.get("/readyz");
    expect([ready.status, ready.json]).toEqual([503, { status: "unavailable", failing: ["mysql"] }]);
    expect((await api.get(`/admin/sales/${saleId}/stats`, admin)).status).toBe(503);
    expect(await orderRows(saleId)).toHaveLength(0);

    await mysqlProxy.restore();
    await expectFullyConfirmed(saleId, 200);
    expect((await api.get(`/admin/sales/${saleId}/stats`, admin)).json).toEqual({ stock: 200, reserved: 200, confirmed: 200, pending: 0 });
    expect((await api.get("/readyz")).status).toBe(200);
  });

  it("answers 503 and fails /readyz while Redis is down, leaving no partial state", async () => {
    const redisProxy = await startProxy({ host: REDIS_HOST, port: REDIS_PORT });
    const { api } = await startService({ REDIS_URL: resources.redisUrl(redisProxy.port) });
    const saleId = await createSale(api, 10);
    expect((await order(api, saleId, "before")).status).toBe(202);
    await redisProxy.cut();

    const refused = await Promise.all(Array.from({ length: 20 }, (_, i) => order(api, saleId, `during-${i}`)));
    refused.forEach((answer) => expect([answer.status, answer.json.error]).toEqual([503, "unavailable"]));
    expect((await api.get(`/api/sales/${saleId}`)).status).toBe(503);
    const ready = await api.get("/readyz");
    expect([ready.status, ready.json]).toEqual([503, { status: "unavailable", failing: ["redis"] }]);

    await redisProxy.restore();
    await waitUntil(async () => (await api.get("/readyz")).status === 200, "readiness after Redis is back");
    const sale = await api.get(`/api/sales/${saleId}`);
    expect(sale.json.remaining).toBe(9);
    const keys = saleKeys(resources.keyPrefix, saleId);
    expect(await resources.redis.hkeys(keys.buyers)).toEqual(["before"]);
    expect((await order(api, saleId, "during-0")).status).toBe(202);
    await expectFullyConfirmed(saleId, 2);
  });

  it("starts while Redis is unreachable, reports itself alive but not ready, and refuses orders with 503", async () => {
    const { api } = await startService({ REDIS_URL: resources.redisUrl(await freePort()) });
    expect((await api.get("/healthz")).status).toBe(200);
    const ready = await api.get("/readyz");
    expect([ready.status, ready.json]).toEqual([503, { status: "unavailable", failing: ["redis"] }]);
    const refused = await order(api, "0123456789abcdef", "alice");
    expect([refused.status, refused.json.error]).toEqual([503, "unavailable"]);
  });

  it("on SIGTERM stops accepting, finishes the request in flight, and exits 0", async () => {
    const { service, api } = await startService();
    const saleId = await createSale(api, 10);
    // A request in flight: headers sent, body still arriving when the signal comes.
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${service.baseUrl}/api/sales/${saleId}/orders`, {
        method: "POST",
        headers: { ...user("slow"), "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.on("error", reject);
      req.write("{");
      setTimeout(() => {
        service.signal("SIGTERM");
        setTimeout(() => req.end("}"), 500);
      }, 200);
    });
    const answer = await inFlight;
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ status: "pending" });
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.count("all workers stopped")).toBe(1);
    await expect(api.get("/healthz")).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
  });
});

describe("the service entry point", () => {
  it("exits non-zero naming the variable when the configuration is invalid", () => {
    const result = spawnSync(process.execPath, [serviceBundle()], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: "redis://127.0.0.1:6379",
        MYSQL_URL: "mysql://nodb@127.0.0.1:3306",
        SECKILL_ADMIN_TOKEN: "a".repeat(32),
        SECKILL_USER_TOKEN_SECRET: "s".repeat(32),
      },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBeNull();
    expect(result.stderr).toContain("MYSQL_URL");
  });
});
