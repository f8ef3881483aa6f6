import net, { type AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { RowDataPacket } from "mysql2/promise";
import { ADMIN_FAILURES_PER_WINDOW, AdminBrake } from "../../../app/http/admin-brake";
import { mintUserToken } from "../../../app/http/auth";
import { PAYMENT_SIGNATURE_HEADER, paymentSignature } from "../../../app/http/payment-signature";
import { createHttpServer } from "../../../app/http/server";
import { OrderWriter } from "../../../app/orders/order-writer";
import { RedisHeartbeat, createRedis, type RedisClient } from "../../../app/platform/redis";
import { Reservations } from "../../../app/sales/reservations";
import { ORDER_ID_PATTERN, newSaleId, parseOrderId } from "../../../app/sales/sale";
import { Settings } from "../../../app/live-settings/settings";
import { migrate } from "../../../app/platform/migrations";
import { createMysqlPool } from "../../../app/platform/mysql";
import type { Pool } from "mysql2/promise";
import { ApiClient, bearer, type Answer } from "../support/http-client";
import { captureLogs } from "../support/log-capture";
import { orderIdFor } from "../support/order-ids";
import { ADMIN_TOKEN, createTestResources, USER_TOKEN_SECRET, type TestResources } from "../support/resources";
import { admin, user } from "../support/shop-api";
import { waitUntil } from "../support/wait";

const HOUR = 3_600_000;
const json = { "content-type": "application/json" };

let resources: TestResources;
let redis: RedisClient;
let redisHeartbeat: RedisHeartbeat;
let readinessPool: Pool;
let background: RedisClient;
let server: Server;
let writer: OrderWriter;
let api: ApiClient;
/** Generous, so tests reusing a buyer name do not trip the limiter; the limiter's own test lowers it. */
const WEBHOOK_SECRET = "test-payment-webhook-secret-0123456789abcdef";
const TEST_SETTINGS = { ordersEnabled: true, userOrderRateLimitPerSecond: 1000 };
const settings = new Settings(TEST_SETTINGS);
const logs = captureLogs();

beforeAll(async () => {
  resources = await createTestResources();
  await migrate(resources.pool);
  const config = resources.config();
  redis = createRedis(config.redis, "requests");
  redisHeartbeat = new RedisHeartbeat(redis, logs.logger);
  readinessPool = createMysqlPool(config.mysql, 1);
  background = createRedis(config.redis, "background");
  server = createHttpServer({
    adminToken: ADMIN_TOKEN,
    userTokenSecret: USER_TOKEN_SECRET,
    paymentWebhookSecret: WEBHOOK_SECRET,
    redis,
    reservations: new Reservations(redis, resources.keyPrefix),
    redisHeartbeat,
    pool: resources.pool,
    readinessPool,
    settings,
    logger: logs.logger,
    // A window longer than this file's run: which requests are braked does not depend on when a window turns over.
    adminBrake: new AdminBrake(ADMIN_FAILURES_PER_WINDOW, 24 * HOUR),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  writer = new OrderWriter({
    redis: background,
    pool: resources.pool,
    keyPrefix: resources.keyPrefix,
    consumer: "http-test",
    logger: logs.logger,
    idleDelayMs: 20,
  });
  writer.start();
});

afterEach(() => {
  settings.update(TEST_SETTINGS);
});

afterAll(async () => {
  api.close();
  await writer.stop();
  await new Promise((resolve) => server.close(resolve));
  redisHeartbeat.stop();
  await readinessPool.end();
  redis.disconnect();
  background.disconnect();
  await resources.dispose();
});

interface SaleInput {
  itemName?: string;
  stock?: number;
  startsAt?: string;
  endsAt?: string;
  priceCents?: number;
  paymentWindowSeconds?: number;
  stockBuckets?: number;
}

async function createSale(input: SaleInput = {}): Promise<{ id: string; [field: string]: unknown }> {
  const now = Date.now();
  const body = {
    itemName: "Phone",
    stock: 10,
    startsAt: new Date(now - HOUR).toISOString(),
    endsAt: new Date(now + HOUR).toISOString(),
    ...input,
  };
  const answer = await api.post("/admin/sales", { headers: { ...admin, ...json }, body: JSON.stringify(body) });
  expect(answer.status).toBe(201);
  return answer.json;
}

const order = (saleId: string, userId: string, body?: string, headers: Record<string, string> = {}) =>
  api.post(`/api/sales/${saleId}/orders`, { headers: { ...user(userId), ...headers }, body });

/** Sends bytes as they are (no HTTP client in between) and returns everything the server answers. */
/** A sale open until a moment from now, once it has ended (the admin API refuses to create one already over). */
async function createEndedSale(): Promise<{ id: string; [field: string]: unknown }> {
  const now = Date.now();
  const sale = await createSale({ startsAt: new Date(now - HOUR).toISOString(), endsAt: new Date(now + 500).toISOString() });
  await waitUntil(async () => (await api.get(`/api/sales/${sale.id}`)).json.status === "ended", "the sale to end");
  return sale;
}

function rawExchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect((server.address() as AddressInfo).port, "127.0.0.1", () => socket.write(raw));
    let response = "";
    socket.on("data", (chunk) => (response += chunk.toString("utf8")));
    socket.on("end", () => resolve(response));
    socket.on("error", reject);
  });
}

function expectError(answer: Answer, status: number, error: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toMatch(/^application\/json/);
  expect(answer.json).toEqual(expect.objectContaining({ error, message: expect.any(String) }));
}

describe("health", () => {
  it("GET /healthz answers 200 ok", async () => {
    const answer = await api.get("/healthz");
    expect([answer.status, answer.json]).toEqual([200, { status: "ok" }]);
  });

  it("GET /readyz answers 200 ready when Redis and MySQL answer", async () => {
    const answer = await api.get("/readyz");
    expect([answer.status, answer.json]).toEqual([200, { status: "ready" }]);
  });
});

describe("POST /admin/sales", () => {
  it("creates a sale: 201 with its id, persisted in MySQL and readable with its full stock", async () => {
    const startsAt = new Date(Date.now() - HOUR).toISOString();
    const endsAt = new Date(Date.now() + HOUR).toISOString();
    const answer = await api.post("/admin/sales", {
      headers: { ...admin, ...json },
      body: JSON.stringify({ itemName: "手机 Phone", stock: 3, startsAt, endsAt, priceCents: 199900 }),
    });
    expect(answer.status).toBe(201);
    expect(answer.json).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      itemName: "手机 Phone",
      stock: 3,
      remaining: 3,
      startsAt,
      endsAt,
      status: "active",
      priceCents: 199900,
    });
    const [rows] = await resources.pool.query<RowDataPacket[]>("SELECT item_name, stock, sold FROM sales WHERE id = ?", [answer.json.id]);
    expect(rows).toEqual([{ item_name: "手机 Phone", stock: 3, sold: 0 }]);
    const read = await api.get(`/api/sales/${answer.json.id}`);
    expect([read.status, read.json]).toEqual([200, answer.json]);
  });

  it("accepts ISO-8601 times with an offset", async () => {
    const sale = await createSale({ startsAt: "2020-01-01T08:00:00+08:00", endsAt: "2099-01-01T00:00:00.000Z" });
    expect(sale.startsAt).toBe("2020-01-01T00:00:00.000Z");
  });

  const valid = { itemName: "Phone", stock: 1, startsAt: "2030-01-01T00:00:00Z", endsAt: "2030-01-02T00:00:00Z" };
  it.each([
    ["no itemName", { ...valid, itemName: undefined }],
    ["a blank itemName", { ...valid, itemName: "  " }],
    ["stock 0", { ...valid, stock: 0 }],
    ["stock above 1 000 000", { ...valid, stock: 1_000_001 }],
    ["a fractional stock", { ...valid, stock: 1.5 }],
    ["stock as a string", { ...valid, stock: "5" }],
    ["a non-ISO startsAt", { ...valid, startsAt: "tomorrow" }],
    ["endsAt before startsAt", { ...valid, endsAt: "2029-12-31T00:00:00Z" }],
    ["a negative priceCents", { ...valid, priceCents: -1 }],
    ["stockBuckets 0", { ...valid, stockBuckets: 0 }],
    ["stockBuckets 65", { ...valid, stockBuckets: 65 }],
    ["an unknown field", { ...valid, stok: 5 }],
    ["an array", [valid]],
  ])("refuses %s with 400 naming the problem", async (_what, body) => {
    const answer = await api.post("/admin/sales", { headers: { ...admin, ...json }, body: JSON.stringify(body) });
    expectError(answer, 400, "invalid_request");
  });

  it.each([
    [
      "an endsAt already past",
      { ...valid, startsAt: "2020-01-01T00:00:00Z", endsAt: "2020-01-02T00:00:00Z" },
      "endsAt: must be in the future",
    ],
    ["an endsAt MySQL cannot store (year 9999 at -05:00)", { ...valid, endsAt: "9999-12-31T23:00:00-05:00" }, "endsAt: must be from"],
    ["a startsAt MySQL cannot store", { ...valid, startsAt: "0999-12-31T23:59:59Z" }, "startsAt: must be from"],
  ])("refuses %s with 400 naming the field", async (_what, body, problem) => {
    const answer = await api.post("/admin/sales", { headers: { ...admin, ...json }, body: JSON.stringify(body) });
    expectError(answer, 400, "invalid_request");
    expect(answer.json.message).toContain(problem);
  });

  it("requires the admin token", async () => {
    const body = JSON.stringify(valid);
    expectError(await api.post("/admin/sales", { headers: json, body }), 401, "unauthorized");
    expectError(await api.post("/admin/sales", { headers: { ...bearer("wrong"), ...json }, body }), 401, "unauthorized");
    expectError(await api.post("/admin/sales", { headers: { ...user("alice"), ...json }, body }), 401, "unauthorized");
  });
});

describe("GET /api/sales/:saleId", () => {
  it("shows upcoming, active, sold_out and ended sales with their remaining stock", async () => {
    const now = Date.now();
    const upcoming = await createSale({ startsAt: new Date(now + HOUR).toISOString(), endsAt: new Date(now + 2 * HOUR).toISOString() });
    const ended = await createEndedSale();
    const soldOut = await createSale({ stock: 1 });
    expect((await order(soldOut.id, "alice")).status).toBe(202);
    const active = await createSale({ stock: 5 });
    expect((await order(active.id, "alice")).status).toBe(202);
    expect((await api.get(`/api/sales/${upcoming.id}`)).json).toMatchObject({ status: "upcoming", remaining: 10 });
    expect((await api.get(`/api/sales/${ended.id}`)).json).toMatchObject({ status: "ended" });
    expect((await api.get(`/api/sales/${soldOut.id}`)).json).toMatchObject({ status: "sold_out", remaining: 0 });
    expect((await api.get(`/api/sales/${active.id}`)).json).toEqual({
      id: active.id,
      itemName: "Phone",
      stock: 5,
      remaining: 4,
      startsAt: active.startsAt,
      endsAt: active.endsAt,
      status: "active",
    });
  });

  it("answers 404 for an unknown or malformed sale id", async () => {
    expectError(await api.get("/api/sales/0123456789abcdef"), 404, "not_found");
    expectError(await api.get("/api/sales/not-a-sale"), 404, "not_found");
  });
});

describe("POST /api/sales/:saleId/orders", () => {
  it("reserves a unit: 202 with the order id, pending", async () => {
    const sale = await createSale();
    const answer = await order(sale.id, "alice");
    expect([answer.status, answer.json]).toEqual([202, { orderId: expect.stringMatching(ORDER_ID_PATTERN), status: "pending" }]);
    expect(parseOrderId(answer.json.orderId)).toMatchObject({ saleId: sale.id });
  });

  it("accepts {} as the body", async () => {
    const sale = await createSale();
    expect((await order(sale.id, "alice", "{}", json)).status).toBe(202);
    expect((await order(sale.id, "bob", " { } ", { "content-type": "application/json; charset=utf-8" })).status).toBe(202);
  });

  it("answers a second attempt by the same buyer with 409 already_purchased and the order id", async () => {
    const sale = await createSale();
    const first = await order(sale.id, "alice");
    const second = await order(sale.id, "alice");
    expectError(second, 409, "already_purchased");
    expect(second.json.orderId).toBe(first.json.orderId);
  });

  it("answers 410 sold_out once the stock is gone", async () => {
    const sale = await createSale({ stock: 1 });
    expect((await order(sale.id, "alice")).status).toBe(202);
    expectError(await order(sale.id, "bob"), 410, "sold_out");
    expectError(await order(sale.id, "carol"), 410, "sold_out");
  });

  it("answers 410 sold_out to anyone, signed in or not, once it knows the sale is sold out; 401 while units remain", async () => {
    const sale = await createSale({ stock: 1 });
    expectError(await api.post(`/api/sales/${sale.id}/orders`), 401, "unauthorized");
    expect((await order(sale.id, "alice")).status).toBe(202);
    expectError(await order(sale.id, "bob"), 410, "sold_out");
    expectError(await api.post(`/api/sales/${sale.id}/orders`), 410, "sold_out");
    expectError(await api.post(`/api/sales/${sale.id}/orders`, { headers: { authorization: "Bearer forged.1.x" } }), 410, "sold_out");
  });

  it("answers 403 not_started before the window and 410 ended after it", async () => {
    const now = Date.now();
    const upcoming = await createSale({ startsAt: new Date(now + HOUR).toISOString(), endsAt: new Date(now + 2 * HOUR).toISOString() });
    const ended = await createEndedSale();
    expectError(await order(upcoming.id, "alice"), 403, "not_started");
    expectError(await order(ended.id, "alice"), 410, "ended");
    expect((await api.get(`/api/sales/${upcoming.id}`)).json.remaining).toBe(10);
  });

  it("answers 404 for an unknown sale and 401 without a valid token", async () => {
    expectError(await order("0123456789abcdef", "alice"), 404, "not_found");
    const sale = await createSale();
    expectError(await api.post(`/api/sales/${sale.id}/orders`), 401, "unauthorized");
  });

  it("answers 429 rate_limited when one buyer exceeds the per-user limit, reserving at most one unit", async () => {
    settings.update({ userOrderRateLimitPerSecond: 1 });
    const sale = await createSale();
    const answers = await Promise.all(Array.from({ length: 10 }, () => order(sale.id, "eager")));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    answers.filter((a) => a.status === 429).forEach((a) => expectError(a, 429, "rate_limited"));
    expect((await api.get(`/api/sales/${sale.id}`)).json.remaining).toBe(9);
  });

  it("answers 503 orders_paused while the kill switch is off, reserving nothing", async () => {
    const sale = await createSale();
    settings.update({ ordersEnabled: false });
    expectError(await order(sale.id, "alice"), 503, "orders_paused");
    expect((await api.get(`/api/sales/${sale.id}`)).json.remaining).toBe(10);
    settings.update({ ordersEnabled: true });
    expect((await order(sale.id, "alice")).status).toBe(202);
  });

  it("echoes a sane X-Request-Id and makes one up otherwise", async () => {
    const sale = await createSale();
    expect((await order(sale.id, "alice", undefined, { "x-request-id": "trace-123" })).headers["x-request-id"]).toBe("trace-123");
    expect((await order(sale.id, "bob", undefined, { "x-request-id": "x".repeat(200) })).headers["x-request-id"]).toMatch(
      /^[0-9a-f]{8}-[0-9a-z]+$/,
    );
  });
});

/** Waits for the order writer to confirm the order in MySQL (polling the API would use up the buyer's lookups). */
const confirmed = (orderId: string) =>
  waitUntil(async () => {
    const [rows] = await resources.pool.query<RowDataPacket[]>("SELECT 1 FROM orders WHERE id = ?", [orderId]);
    return rows.length === 1;
  }, `order ${orderId} in MySQL`);

describe("paying an order", () => {
  const pay = (orderId: string, userId: string, body?: string) =>
    api.post(`/api/orders/${orderId}/payment`, { headers: { ...user(userId), ...(body === undefined ? {} : json) }, body });
  const callback = (raw: string, signature = paymentSignature(WEBHOOK_SECRET, raw)) =>
    api.post("/payments/callback", { headers: { ...json, [PAYMENT_SIGNATURE_HEADER]: signature }, body: raw });

  it("refuses a payment window outside 5 to 86400 seconds", async () => {
    for (const paymentWindowSeconds of [4, 86_401, 1.5]) {
      const now = Date.now();
      const body = {
        itemName: "Phone",
        stock: 1,
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + HOUR).toISOString(),
        paymentWindowSeconds,
      };
      const answer = await api.post("/admin/sales", { headers: { ...admin, ...json }, body: JSON.stringify(body) });
      expect([answer.status, answer.json.error]).toEqual([400, "invalid_request"]);
      expect(answer.json.message).toMatch(/^paymentWindowSeconds: /);
    }
  });

  it("pays the buyer's confirmed order (empty body or {}), once however often, and shows it paid; 404 for anyone else", async () => {
    const sale = await createSale({ paymentWindowSeconds: 600 });
    const { orderId } = (await order(sale.id, "payer")).json;
    await confirmed(orderId);
    expect((await pay(orderId, "payer")).json).toEqual({ orderId, status: "paid" });
    expect((await pay(orderId, "payer", "{}")).json).toEqual({ orderId, status: "paid" });
    expectError(await pay(orderId, "payer", '{"amount":1}'), 400, "invalid_body");
    expectError(await pay(orderId, "someone-else"), 404, "not_found");
    expectError(await api.post(`/api/orders/${orderId}/payment`), 401, "unauthorized");
    const shown = (await api.get(`/api/orders/${orderId}`, user("payer"))).json;
    expect(shown).toMatchObject({ orderId, status: "paid", payBy: expect.any(String) });
    expect(Date.parse(shown.payBy) - Date.now()).toBeGreaterThan(500_000);
  });

  it("answers 409 order_pending with Retry-After while the order is not in MySQL yet", async () => {
    // A sale the order writer cannot confirm (MySQL does not have it): its orders stay pending.
    const now = Date.now();
    const saleId = newSaleId();
    await new Reservations(redis, resources.keyPrefix).loadSale({
      id: saleId,
      itemName: "Phone",
      stock: 1,
      sold: 0,
      startsAt: now - HOUR,
      endsAt: now + HOUR,
    });
    const { orderId } = (await order(saleId, "early")).json;
    const answer = await pay(orderId, "early");
    expectError(answer, 409, "order_pending");
    expect(answer.headers["retry-after"]).toBe("1");
  });

  it("takes the provider's signed callback, idempotent by paymentRef; a bad signature or body changes nothing", async () => {
    const sale = await createSale();
    const { orderId } = (await order(sale.id, "webhook-buyer")).json;
    await confirmed(orderId);
    const raw = JSON.stringify({ orderId, paymentRef: "psp-server-test", paidAt: new Date().toISOString() });
    expectError(await callback(raw, paymentSignature("another-secret-another-secret-another-secret", raw)), 401, "bad_signature");
    expectError(await callback(raw, "sha256=00"), 401, "bad_signature");
    expect((await api.get(`/api/orders/${orderId}`, user("webhook-buyer"))).json.status).toBe("confirmed");
    expect((await callback("{not json")).status).toBe(400);
    expect((await callback(JSON.stringify({ orderId, paymentRef: "x" }))).json.error).toBe("invalid_request");
    expect((await callback(raw)).json).toEqual({ orderId, status: "paid" });
    expect((await callback(raw)).json).toEqual({ orderId, status: "paid" });
    const other = JSON.stringify({ orderId, paymentRef: "psp-server-test-2", paidAt: new Date().toISOString() });
    expectError(await callback(other), 409, "already_paid");
    expectError(
      await callback(JSON.stringify({ orderId: orderIdFor(sale.id, "nobody"), paymentRef: "psp-none", paidAt: new Date().toISOString() })),
      404,
      "not_found",
    );
  });
});

describe("GET /api/orders/:orderId", () => {
  it("shows the buyer their order, pending until the order writer confirms it in MySQL", async () => {
    const sale = await createSale();
    await writer.stop();
    let orderId: string;
    try {
      orderId = (await order(sale.id, "alice")).json.orderId;
      const pending = await api.get(`/api/orders/${orderId}`, user("alice"));
      expect([pending.status, pending.json]).toEqual([200, { orderId, saleId: sale.id, userId: "alice", status: "pending" }]);
    } finally {
      writer.start();
    }
    await waitUntil(async () => (await api.get(`/api/orders/${orderId}`, user("alice"))).json.status === "confirmed", "confirmation");
  });

  it("answers 404 for anyone else's order, pending or confirmed, and 401 without a token", async () => {
    const sale = await createSale();
    const { orderId } = (await order(sale.id, "alice")).json;
    expectError(await api.get(`/api/orders/${orderId}`, user("mallory")), 404, "not_found");
    await confirmed(orderId);
    expectError(await api.get(`/api/orders/${orderId}`, user("mallory")), 404, "not_found");
    expectError(await api.get(`/api/orders/${orderId}`), 401, "unauthorized");
    expectError(await api.get(`/api/orders/${orderIdFor(sale.id, "alice")}`, user("alice")), 404, "not_found");
    expectError(await api.get(`/api/orders/${sale.id}-1`, user("alice")), 404, "not_found");
  });

  it("limits each buyer's lookups (429 with Retry-After) without holding back other buyers", async () => {
    const sale = await createSale();
    const { orderId } = (await order(sale.id, "eager")).json;
    const burst = await Promise.all(Array.from({ length: 20 }, () => api.get(`/api/orders/${orderId}`, user("eager"))));
    const limited = burst.filter((answer) => answer.status === 429);
    expect(burst.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    limited.forEach((answer) => expectError(answer, 429, "rate_limited"));
    expect(limited[0].headers["retry-after"]).toBe("1");
    expect((await api.get(`/api/sales/${sale.id}/my-order`, user("eager"))).status).toBe(429);
    expect((await api.get(`/api/orders/${orderId}`, user("patient"))).status).toBe(404);
  });
});

describe("GET /api/sales/:saleId/my-order", () => {
  it("tells the buyer their order and its status: pending from Redis, then confirmed from MySQL", async () => {
    const sale = await createSale();
    await writer.stop();
    let orderId: string;
    try {
      orderId = (await order(sale.id, "alice")).json.orderId;
      const pending = await api.get(`/api/sales/${sale.id}/my-order`, user("alice"));
      expect([pending.status, pending.json]).toEqual([200, { orderId, status: "pending" }]);
    } finally {
      writer.start();
    }
    await confirmed(orderId);
    const answer = await api.get(`/api/sales/${sale.id}/my-order`, user("alice"));
    expect([answer.status, answer.json]).toEqual([200, { orderId, status: "confirmed", payBy: expect.any(String) }]);
  });

  it("finds a confirmed order in MySQL when Redis no longer knows the buyer", async () => {
    const sale = await createSale();
    const { orderId } = (await order(sale.id, "alice")).json;
    await confirmed(orderId);
    await resources.redis.hdel(new Reservations(redis, resources.keyPrefix).keys(sale.id).buyers, "alice");
    const answer = await api.get(`/api/sales/${sale.id}/my-order`, user("alice"));
    expect([answer.status, answer.json]).toEqual([200, { orderId, status: "confirmed", payBy: expect.any(String) }]);
  });

  it("answers 404 to a buyer without an order, for an unknown sale, and 401 without a token", async () => {
    const sale = await createSale();
    await order(sale.id, "alice");
    expectError(await api.get(`/api/sales/${sale.id}/my-order`, user("bob")), 404, "not_found");
    expectError(await api.get("/api/sales/0123456789abcdef/my-order", user("alice")), 404, "not_found");
    expectError(await api.get("/api/sales/not-a-sale/my-order", user("alice")), 404, "not_found");
    expectError(await api.get(`/api/sales/${sale.id}/my-order`), 401, "unauthorized");
  });

  it("tells a buyer who holds the last unit their order even once the sale answers 410 sold_out", async () => {
    const sale = await createSale({ stock: 1 });
    const { orderId } = (await order(sale.id, "lucky")).json;
    expectError(await order(sale.id, "late"), 410, "sold_out");
    // The worker now knows the sale is sold out and answers 410 without asking Redis, even to the holder.
    expectError(await order(sale.id, "lucky"), 410, "sold_out");
    const answer = await api.get(`/api/sales/${sale.id}/my-order`, user("lucky"));
    expect([answer.status, answer.json.orderId]).toEqual([200, orderId]);
  });
});

describe("GET /admin/sales/:saleId/stats", () => {
  it("reports stock, units reserved in Redis, orders confirmed in MySQL and the difference", async () => {
    const sale = await createSale({ stock: 10 });
    await Promise.all(["a", "b", "c"].map((buyer) => order(sale.id, buyer)));
    await waitUntil(async () => (await api.get(`/admin/sales/${sale.id}/stats`, admin)).json.confirmed === 3, "3 confirmed");
    const stats = await api.get(`/admin/sales/${sale.id}/stats`, admin);
    expect([stats.status, stats.json]).toEqual([200, { stock: 10, reserved: 3, confirmed: 3, pending: 0, paid: 0, expired: 0 }]);
  });

  it("adds up every bucket of a sale split into stock buckets, as GET /api/sales/:id does", async () => {
    const sale = await createSale({ stock: 10, stockBuckets: 8 });
    expect(sale.stockBuckets).toBe(8);
    await Promise.all(["a", "b", "c", "d", "e"].map((buyer) => order(sale.id, buyer)));
    await waitUntil(async () => (await api.get(`/admin/sales/${sale.id}/stats`, admin)).json.confirmed === 5, "5 confirmed");
    const stats = await api.get(`/admin/sales/${sale.id}/stats`, admin);
    expect([stats.status, stats.json]).toEqual([200, { stock: 10, reserved: 5, confirmed: 5, pending: 0, paid: 0, expired: 0 }]);
    expect((await api.get(`/api/sales/${sale.id}`)).json).toMatchObject({ stock: 10, remaining: 5, stockBuckets: 8, status: "active" });
  });

  it("needs the admin token and a known sale", async () => {
    const sale = await createSale();
    expectError(await api.get(`/admin/sales/${sale.id}/stats`), 401, "unauthorized");
    expectError(await api.get("/admin/sales/0123456789abcdef/stats", admin), 404, "not_found");
  });
});

describe("the admin plane", () => {
  /** Requests as the ALB forwards them from `address`: it appends the address it was connected from. */
  const from = (address: string) => ({ "x-forwarded-for": `192.0.2.1, ${address}` });

  it("refuses an address after repeated failed authentications, even with the right token, and only that address", async () => {
    for (let i = 0; i < ADMIN_FAILURES_PER_WINDOW; i++) {
      expectError(await api.get("/metrics", { ...bearer(`guess-${i}`), ...from("198.51.100.7") }), 401, "unauthorized");
    }
    const braked = await api.get("/metrics", { ...admin, ...from("198.51.100.7") });
    expectError(braked, 429, "too_many_failed_authentications");
    expect(Number(braked.headers["retry-after"])).toBeGreaterThan(0);
    expect((await api.get("/metrics", { ...admin, ...from("198.51.100.8") })).status).toBe(200);
  });

  it("logs every admin request with who sent it and what it did, and every failed authentication", async () => {
    const sale = await createSale();
    await api.get(`/admin/sales/${sale.id}/stats`, { ...admin, ...from("198.51.100.20") });
    await api.get(`/admin/sales/${sale.id}/stats`, { ...bearer("guess"), ...from("198.51.100.21") });
    // The request's line is written once the response has gone out, which may be after the client has read it.
    await waitUntil(
      async () => logs.lines.some((line) => line.msg === "admin request" && line.source === "198.51.100.20"),
      "the admin log line",
    );
    expect(logs.lines).toContainEqual(
      expect.objectContaining({
        msg: "admin request",
        source: "198.51.100.20",
        method: "GET",
        path: `/admin/sales/${sale.id}/stats`,
        status: 200,
      }),
    );
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ msg: "admin authentication failed", source: "198.51.100.21", path: `/admin/sales/${sale.id}/stats` }),
    );
  });
});

describe("paths match exactly, as the ALB's path conditions do", () => {
  let saleId: string;
  let orderId: string;
  beforeAll(async () => {
    saleId = (await createSale({ stock: 100 })).id;
    orderId = (await order(saleId, "alice")).json.orderId;
  });

  /** Sends the path byte for byte (an HTTP client would resolve `..` and `//`), with credentials that would pass. */
  async function answerTo(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const head = [`${method} ${path} HTTP/1.1`, "host: localhost", "connection: close", "content-length: 0"];
    const raw = await rawExchange(
      [...head, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)].join("\r\n") + "\r\n\r\n",
    );
    return { status: Number(raw.split(" ", 2)[1]), body: raw.slice(raw.indexOf("\r\n\r\n") + 4) };
  }
  /** Credentials that pass wherever the path is served: a match would answer 200 or 202, never 404. */
  const credentials = { none: {}, alice: user("alice"), newBuyer: user("carol"), admin };
  /** The path with :sale and :order filled in. */
  const concrete = (path: string) => path.replace(":sale", saleId).replace(":order", orderId);

  it.each([
    ["GET", "/api/orders/:order", "alice", 200],
    ["GET", "/api/sales/:sale", "none", 200],
    ["GET", "/healthz", "none", 200],
    ["GET", "/admin/sales/:sale/stats", "admin", 200],
  ] as const)("the exact path is served: %s %s", async (method, path, who, status) => {
    expect((await answerTo(method, concrete(path), credentials[who])).status).toBe(status);
  });

  it.each([
    ["upper case", "GET", "/API/orders/:order", "alice"],
    ["upper case", "GET", "/HEALTHZ", "none"],
    ["upper case", "GET", "/admin/Sales/:sale/stats", "admin"],
    ["upper case", "POST", "/api/Sales/:sale/orders", "newBuyer"],
    ["a trailing slash", "GET", "/api/orders/:order/", "alice"],
    ["a trailing slash", "GET", "/api/sales/:sale/", "none"],
    ["a trailing slash", "GET", "/healthz/", "none"],
    ["a trailing slash", "GET", "/metrics/", "admin"],
    ["a trailing slash", "POST", "/api/sales/:sale/orders/", "newBuyer"],
    ["an encoded slash", "GET", "/api%2Forders/:order", "alice"],
    ["an encoded slash", "GET", "/admin/sales%2F:sale/stats", "admin"],
    ["an encoded slash", "POST", "/api/sales/:sale%2Forders", "newBuyer"],
    ["a dot segment", "GET", "/api/orders/../orders/:order", "alice"],
    ["a dot segment", "GET", "/admin/../healthz", "none"],
    ["a dot segment", "POST", "/api/sales/x/../:sale/orders", "newBuyer"],
    ["a double slash", "GET", "//healthz", "none"],
    ["a double slash", "GET", "/api//orders/:order", "alice"],
    ["a double slash", "POST", "//api/sales/:sale/orders", "newBuyer"],
    ["a double slash", "POST", "/api/sales//:sale/orders", "newBuyer"],
  ] as const)("%s is no route: %s %s answers 404", async (_what, method, path, who) => {
    const answer = await answerTo(method, concrete(path), credentials[who]);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "not_found" });
  });

  it("and none of those requests reserved a unit", async () => {
    expect((await api.get(`/api/sales/${saleId}`)).json.remaining).toBe(99);
  });
});

describe("GET /metrics", () => {
  it("serves Prometheus text to the admin: requests by route and status, reservation outcomes, order-writer lag and batch sizes", async () => {
    const sale = await createSale();
    await order(sale.id, "alice");
    await waitUntil(async () => (await api.get(`/admin/sales/${sale.id}/stats`, admin)).json.confirmed === 1, "confirmation");
    const answer = await api.get("/metrics", admin);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain/);
    expect(answer.text).toMatch(/seckill_http_requests_total\{route="POST \/api\/sales\/:saleId\/orders",status="202"\} \d+/);
    expect(answer.text).toMatch(/seckill_http_requests_total\{route="POST \/admin\/sales",status="201"\} \d+/);
    expect(answer.text).toMatch(/seckill_reservation_outcomes_total\{outcome="reserved"\} \d+/);
    expect(answer.text).toContain("seckill_order_writer_lag_seconds");
    expect(answer.text).toMatch(/seckill_order_writer_batch_size_count [1-9]/);
  });

  it("is not public", async () => {
    expectError(await api.get("/metrics"), 401, "unauthorized");
  });
});

describe("bad input never causes a 5xx", () => {
  let saleId: string;
  beforeAll(async () => {
    saleId = (await createSale({ stock: 1000 })).id;
  });
  const token = mintUserToken("tester", USER_TOKEN_SECRET);
  const orders = () => `/api/sales/${saleId}/orders`;

  const cases: [string, () => [string, string, { headers?: Record<string, string>; body?: string | string[] }], number, string][] = [
    ["no Authorization header", () => ["POST", orders(), {}], 401, "unauthorized"],
    ["a Basic Authorization header", () => ["POST", orders(), { headers: { authorization: `Basic ${token}` } }], 401, "unauthorized"],
    [
      "a token signed with another secret",
      () => ["POST", orders(), { headers: bearer(mintUserToken("tester", "x".repeat(40))) }],
      401,
      "unauthorized",
    ],
    ["a token with a tampered userId", () => ["POST", orders(), { headers: bearer(`admin${token.slice(6)}`) }], 401, "unauthorized"],
    ["a token that is only a dot", () => ["POST", orders(), { headers: bearer(".") }], 401, "unauthorized"],
    ["a 10 KB token", () => ["POST", orders(), { headers: bearer("x".repeat(10_000)) }], 401, "unauthorized"],
    ["the admin token as a buyer", () => ["POST", orders(), { headers: admin }], 401, "unauthorized"],
    ["a sale id that is not hex", () => ["POST", "/api/sales/ZZZZZZZZZZZZZZZZ/orders", { headers: bearer(token) }], 404, "not_found"],
    ["a very long sale id", () => ["POST", `/api/sales/${"a".repeat(5000)}/orders`, { headers: bearer(token) }], 404, "not_found"],
    ["a sale id with Redis hash-tag braces", () => ["POST", "/api/sales/%7Bsale%7D/orders", { headers: bearer(token) }], 404, "not_found"],
    ["a path-traversal sale id", () => ["GET", "/api/sales/..%2F..%2Fadmin", {}], 404, "not_found"],
    ["a broken percent-encoding", () => ["GET", "/api/orders/%E0%A4%A", { headers: bearer(token) }], 400, "bad_request"],
    ["a malformed order id", () => ["GET", "/api/orders/not-an-order", { headers: bearer(token) }], 404, "not_found"],
    [
      "a declared body over 4 KB",
      () => ["POST", orders(), { headers: { ...bearer(token), ...json }, body: `{"pad":"${"x".repeat(5000)}"}` }],
      413,
      "payload_too_large",
    ],
    [
      "a chunked body over 4 KB",
      () => [
        "POST",
        orders(),
        { headers: { ...bearer(token), ...json }, body: ["{", `"pad":"${"x".repeat(3000)}`, `${"x".repeat(3000)}"}`] },
      ],
      413,
      "payload_too_large",
    ],
    ["malformed JSON", () => ["POST", orders(), { headers: { ...bearer(token), ...json }, body: "{nope" }], 400, "malformed_json"],
    [
      "a non-empty JSON object",
      () => ["POST", orders(), { headers: { ...bearer(token), ...json }, body: '{"quantity":5}' }],
      400,
      "invalid_body",
    ],
    ["a JSON array", () => ["POST", orders(), { headers: { ...bearer(token), ...json }, body: "[]" }], 400, "invalid_body"],
    ["JSON null", () => ["POST", orders(), { headers: { ...bearer(token), ...json }, body: "null" }], 400, "invalid_body"],
    [
      "a form body",
      () => ["POST", orders(), { headers: { ...bearer(token), "content-type": "application/x-www-form-urlencoded" }, body: "a=1" }],
      415,
      "unsupported_media_type",
    ],
    [
      "{} as text/plain",
      () => ["POST", orders(), { headers: { ...bearer(token), "content-type": "text/plain" }, body: "{}" }],
      415,
      "unsupported_media_type",
    ],
    ["a body without a content type", () => ["POST", orders(), { headers: bearer(token), body: "{}" }], 415, "unsupported_media_type"],
    [
      "invalid UTF-8 as JSON",
      () => ["POST", orders(), { headers: { ...bearer(token), ...json }, body: "\u00ff\u00fe" }],
      400,
      "malformed_json",
    ],
    ["admin: malformed JSON", () => ["POST", "/admin/sales", { headers: { ...admin, ...json }, body: "{nope" }], 400, "malformed_json"],
    [
      "admin: a body over 4 KB",
      () => ["POST", "/admin/sales", { headers: { ...admin, ...json }, body: JSON.stringify({ itemName: "x".repeat(5000) }) }],
      413,
      "payload_too_large",
    ],
    [
      "admin: a form body",
      () => ["POST", "/admin/sales", { headers: { ...admin, "content-type": "application/x-www-form-urlencoded" }, body: "stock=1" }],
      415,
      "unsupported_media_type",
    ],
    ["admin: no body", () => ["POST", "/admin/sales", { headers: { ...admin, ...json } }], 400, "invalid_request"],
    [
      "admin: an unsupported charset",
      () => ["POST", "/admin/sales", { headers: { ...admin, "content-type": "application/json; charset=klingon" }, body: "{}" }],
      415,
      "unsupported_media_type",
    ],
    ["an unknown route", () => ["GET", "/wp-admin", {}], 404, "not_found"],
    ["GET on the order route", () => ["GET", orders(), { headers: bearer(token) }], 404, "not_found"],
    ["DELETE on a sale", () => ["DELETE", `/api/sales/${saleId}`, {}], 404, "not_found"],
  ];

  it.each(cases)("%s → %d %s", async (_what, request, status, error) => {
    const [method, path, options] = request();
    const answer = await api.request(method, path, options);
    expectError(answer, status, error);
    expect(answer.text).not.toMatch(/at .+\.(ts|js):\d+/);
  });

  it.each([
    ["a malformed request line", "NOT HTTP AT ALL\r\n\r\n", 400, "bad_request"],
    ["an invalid Content-Length", "POST /api/sales/x/orders HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "bad_request"],
    [
      "headers over Node's 16 KB limit",
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${"x".repeat(20_000)}\r\n\r\n`,
      431,
      "headers_too_large",
    ],
  ])("%s → %d %s (answered in JSON even though no handler sees it)", async (_what, raw, status, error) => {
    const response = await rawExchange(raw);
    const [head, body] = response.split("\r\n\r\n");
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head.toLowerCase()).toContain("content-type: application/json");
    expect(JSON.parse(body)).toEqual({ error, message: expect.any(String) });
  });

  it("reserved nothing for any of them", async () => {
    expect((await api.get(`/api/sales/${saleId}`)).json.remaining).toBe(1000);
  });
});
