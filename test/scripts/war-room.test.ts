import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  INSTANCE_RATES_KEPT_MS,
  WarRoom,
  instanceOf,
  liveSaleIds,
  parsePrometheusText,
  renderWarRoom,
  type Sample,
} from "../../scripts/lib/war-room";

/**
 * Two /metrics answers and a sale's stats recorded from the real service (one worker) while a crowd bought a 50-unit
 * sale: 39 orders reserved at the first reading; at the second the sale is sold out and 50 more clicks were refused.
 */
const FIXTURES = join(__dirname, "fixtures/war-room");
const recorded = JSON.parse(readFileSync(join(FIXTURES, "reading.json"), "utf8")) as {
  saleId: string;
  stats: { stock: number; reserved: number; confirmed: number; pending: number };
};
const metricsAt = (n: 1 | 2) => parsePrometheusText(readFileSync(join(FIXTURES, `metrics-${n}.txt`), "utf8"));
const T0 = Date.parse("2026-12-12T12:00:00Z");

function roomAfterTwoReadings(orderLimitQps?: number): WarRoom {
  const room = new WarRoom("https://sale.example.com", orderLimitQps);
  const during = { ...recorded.stats, reserved: 39, confirmed: 38, pending: 1 };
  room.read({ at: T0, metrics: metricsAt(1), sales: [{ saleId: recorded.saleId, stats: during }] });
  room.read({ at: T0 + 1000, metrics: metricsAt(2), sales: [{ saleId: recorded.saleId, stats: recorded.stats }] });
  return room;
}

describe("reading the service's /metrics", () => {
  it("finds the live sales, the instance, and the counters the view needs", () => {
    const samples = metricsAt(2);
    expect(liveSaleIds(samples)).toEqual([recorded.saleId]);
    expect(instanceOf(samples)).toMatch(/\S/);
    expect(samples).toContainEqual({
      name: "seckill_http_requests_total",
      labels: { route: "POST /api/sales/:saleId/orders", status: "410" },
      value: 50,
    });
    expect(samples.find((sample) => sample.name === "seckill_order_writer_backlog")?.value).toBe(1);
  });

  it("reads escaped label values", () => {
    expect(parsePrometheusText('x{a="q\\"uote",b="back\\\\slash"} 2\n# HELP x y\n')).toEqual([
      { name: "x", labels: { a: 'q"uote', b: "back\\slash" }, value: 2 },
    ]);
  });
});

describe("the war room's screen", () => {
  it("renders a recorded sale: its stats, orders against the ALB limit, the outcome mix, the pipeline and the errors", () => {
    expect(renderWarRoom(roomAfterTwoReadings(200).view(T0 + 1200))).toBe(
      [
        "seckill war room  https://sale.example.com  12:00:01Z  (refreshed every second; Ctrl-C leaves)",
        "",
        "SALE                             stock  reserved confirmed   pending      paid   expired",
        `${recorded.saleId.padEnd(28)}        50        50        50         0         -         -`,
        "",
        "ORDERS      61.0/s      [#########.....................] 31% of the ALB limit 200/s",
        "OUTCOMES    reserved 11.0/s (18%)  sold_out 50.0/s (82%)",
        "PIPELINE    writer lag 0.1 s  backlog 1  dead letters 0",
        "ERRORS      5xx 0.0/s  503 0.0/s  (the fleet's; the ALB's own 503s: SLS alert \"throttled\")",
        "FLEET       1 instance measured in the last 30 s",
      ].join("\n"),
    );
  });

  it("says when the admin plane does not answer, and keeps the last figures, marked with their time", () => {
    const room = roomAfterTwoReadings(200);
    room.failed("GET /metrics answered 404: the load balancer hides the admin plane from outside admin_cidrs");
    const screen = renderWarRoom(room.view(T0 + 5000)).split("\n");
    expect(screen.slice(2, 4)).toEqual([
      "!! ADMIN PLANE UNREACHABLE: GET /metrics answered 404: the load balancer hides the admin plane from outside admin_cidrs",
      "!! retrying every second; the figures below are from 12:00:01Z",
    ]);
    expect(screen).toContain(`${recorded.saleId.padEnd(28)}        50        50        50         0         -         -`);
    // Once it answers again, the warning goes.
    room.read({ at: T0 + 6000, metrics: metricsAt(2), sales: [] });
    expect(renderWarRoom(room.view(T0 + 6000))).not.toContain("UNREACHABLE");
  });

  it("says so before anything was read, and without a limit says where to get one", () => {
    const room = new WarRoom("http://127.0.0.1:1");
    room.failed("connection refused");
    const screen = renderWarRoom(room.view(T0));
    expect(screen).toContain("!! retrying every second; nothing read yet");
    expect(screen).toContain("no live sale (name one with --sale <id>)");
    expect(screen).toContain("ORDERS      -           ALB limit unknown (pass --order-limit-qps, or --stack)");
  });

  it("shows paid and expired where the stats have them", () => {
    const room = new WarRoom("x");
    room.read({
      at: T0,
      metrics: [],
      sales: [{ saleId: "s1", stats: { stock: 10, reserved: 8, confirmed: 8, pending: 0, paid: 5, expired: 1 } }],
    });
    expect(renderWarRoom(room.view(T0))).toContain(`${"s1".padEnd(28)}        10         8         8         0         5         1`);
  });
});

describe("rates across a fleet", () => {
  const metrics = (instance: string, orders: number, sold: number): Sample[] => [
    { name: "seckill_instance_info", labels: { instance }, value: 1 },
    { name: "seckill_http_requests_total", labels: { route: "POST /api/sales/:saleId/orders", status: "202" }, value: orders },
    { name: "seckill_http_requests_total", labels: { route: "POST /api/sales/:saleId/orders", status: "503" }, value: 0 },
    { name: "seckill_reservation_outcomes_total", labels: { outcome: "reserved" }, value: sold },
  ];

  it("adds up each instance's own rate: a reading never subtracts another instance's counters", () => {
    const room = new WarRoom("x");
    room.read({ at: T0, metrics: metrics("a", 1000, 100), sales: [] });
    room.read({ at: T0 + 500, metrics: metrics("b", 50, 5), sales: [] });
    room.read({ at: T0 + 2000, metrics: metrics("a", 1200, 120), sales: [] });
    room.read({ at: T0 + 2500, metrics: metrics("b", 150, 15), sales: [] });
    const view = room.view(T0 + 2500);
    expect(view.instances).toBe(2);
    expect(view.ordersPerSecond).toBeCloseTo(100 + 50);
    expect(view.outcomesPerSecond.reserved).toBeCloseTo(10 + 5);
  });

  it("measures a restarted instance afresh, and forgets an instance not seen for a while", () => {
    const room = new WarRoom("x");
    room.read({ at: T0, metrics: metrics("a", 1000, 100), sales: [] });
    room.read({ at: T0 + 1000, metrics: metrics("a", 10, 1), sales: [] });
    expect(room.view(T0 + 1000).ordersPerSecond).toBeUndefined();
    room.read({ at: T0 + 2000, metrics: metrics("a", 30, 3), sales: [] });
    expect(room.view(T0 + 2000).ordersPerSecond).toBeCloseTo(20);
    expect(room.view(T0 + 2000 + INSTANCE_RATES_KEPT_MS + 1).instances).toBe(0);
  });
});
