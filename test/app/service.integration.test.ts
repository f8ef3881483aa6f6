import { spawnSync } from "node:child_process";
import http from "node:http";
import { Reservations, saleKeys } from "../../app/sales/reservations";
import { freePort } from "../../scripts/lib/local-services";
import { MYSQL_HOST, MYSQL_PORT, REDIS_HOST, REDIS_PORT } from "./support/resources";
import { ServiceHarness, statusCounts } from "./support/service-harness";
import { serviceBundle } from "./support/service-process";
import { admin, createSale, order, user } from "./support/shop-api";
import { waitUntil } from "./support/wait";

/**
 * The service as it runs in production: `node main.js` (bundled like the ECS image), a cluster of
 * HTTP workers plus the order writer, against the real Redis and MariaDB, with crashes and outages.
 */

const harness = ServiceHarness.forTestFile();

const startService = (overrides?: Record<string, string>) => harness.startService(overrides);
const startProxy = (target: { host: string; port: number }) => harness.startProxy(target);
const orderRows = (saleId: string) => harness.orderRows(saleId);
const expectFullyConfirmed = (saleId: string, units: number) => harness.expectFullyConfirmed(saleId, units);

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
    expect(stats.json).toEqual({ stock, reserved: stock, confirmed: stock, pending: 0, paid: 0, expired: 0 });
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
    const env = { MYSQL_URL: harness.resources.mysqlUrl(mysqlProxy.port) };
    const first = await startService(env);
    const units = 6000;
    const saleId = await createSale(first.api, units);
    // A backlog the writer is busy draining: reserve straight through the script, like a burst of buyers.
    const reservations = new Reservations(harness.resources.redis, harness.resources.keyPrefix);
    await Promise.all(Array.from({ length: units }, (_, i) => reservations.reserve(saleId, `buyer-${i}`)));
    await waitUntil(async () => (await orderRows(saleId)).length > 0, "the first confirmed orders", 30_000);
    // Hang MySQL under the writer's feet (a transaction may be in flight), then kill every process at once.
    mysqlProxy.freeze();
    const confirmedAtCrash = (await orderRows(saleId)).length;
    await first.service.crash();
    expect(confirmedAtCrash).toBeLessThan(units);
    expect(await harness.resources.redis.xlen(saleKeys(harness.resources.keyPrefix, saleId).orders)).toBeGreaterThan(0);

    await mysqlProxy.restore();
    await startService(env);
    await expectFullyConfirmed(saleId, units);
  });

  it("takes orders while MySQL is unreachable and confirms every one once it is back", async () => {
    const mysqlProxy = await startProxy({ host: MYSQL_HOST, port: MYSQL_PORT });
    const { api } = await startService({ MYSQL_URL: harness.resources.mysqlUrl(mysqlProxy.port) });
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
    expect((await api.get(`/admin/sales/${saleId}/stats`, admin)).json).toEqual({
      stock: 200,
      reserved: 200,
      confirmed: 200,
      pending: 0,
      paid: 0,
      expired: 0,
    });
    expect((await api.get("/readyz")).status).toBe(200);
  });

  it("answers 503 and fails /readyz while Redis is down, leaving no partial state", async () => {
    const redisProxy = await startProxy({ host: REDIS_HOST, port: REDIS_PORT });
    const { api } = await startService({ REDIS_URL: harness.resources.redisUrl(redisProxy.port) });
    const saleId = await createSale(api, 10);
    expect((await order(api, saleId, "before")).status).toBe(202);
    await redisProxy.cut();

    const refused = await Promise.all(Array.from({ length: 20 }, (_, i) => order(api, saleId, `during-${i}`)));
    // A request racing the reset may have been written before the worker saw the connection die: it cannot tell.
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(["unavailable", "outcome_unknown"]).toContain(answer.json.error);
    }
    expect((await api.get(`/api/sales/${saleId}`)).status).toBe(503);
    const ready = await api.get("/readyz");
    expect([ready.status, ready.json]).toEqual([503, { status: "unavailable", failing: ["redis"] }]);

    await redisProxy.restore();
    await waitUntil(async () => (await api.get("/readyz")).status === 200, "readiness after Redis is back");
    const sale = await api.get(`/api/sales/${saleId}`);
    expect(sale.json.remaining).toBe(9);
    const keys = saleKeys(harness.resources.keyPrefix, saleId);
    expect(await harness.resources.redis.hkeys(keys.buyers)).toEqual(["before"]);
    expect((await order(api, saleId, "during-0")).status).toBe(202);
    await expectFullyConfirmed(saleId, 2);
  });

  it("starts while Redis is unreachable, reports itself unhealthy and not ready, and refuses orders with 503", async () => {
    const { api } = await startService({ REDIS_URL: harness.resources.redisUrl(await freePort()) });
    // Unhealthy once Redis has been silent for a few seconds, so the load balancer sends buyers elsewhere.
    await waitUntil(async () => (await api.get("/healthz")).status === 503, "/healthz to fail");
    expect((await api.get("/healthz")).json).toEqual({ status: "unavailable", failing: ["redis"] });
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
