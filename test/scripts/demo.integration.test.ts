import { execFileSync } from "node:child_process";
import { demoFailed, DemoResult, formatDemoReport } from "../../scripts/demo";
import { CrowdResult } from "../../scripts/lib/crowd";
import { buildTool, runTool } from "./support/cli";

describe("npm run demo at small scale", () => {
  beforeAll(() => buildTool("demo"), 120_000);

  test("sells exactly the stock, confirms every order, reports the numbers and removes its database and keys", async () => {
    const run = await runTool("demo", ["--buyers", "400", "--stock", "40", "--concurrency", "20", "--payment-window", "10"]);

    expect(run.stdout).toMatch(/^ {2}units sold {12}40 of 40 \(Redis counts 40\)/m);
    expect(run.stdout).toMatch(/^ {2}orders confirmed {6}40 rows in MySQL$/m);
    expect(run.stdout).toMatch(/^ {2}oversold {14}0$/m);
    expect(run.stdout).toMatch(/^ {2}duplicates {12}0$/m);
    expect(run.stdout).toMatch(/^ {2}unconfirmed {11}0$/m);
    expect(run.stdout).toMatch(/^ {2}requests {14}440 from 400 buyers in .*: [\d,]+ req\/s$/m);
    expect(run.stdout).toMatch(/^ {2}latency {15}p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms$/m);
    expect(run.stdout).toMatch(/^ {2}last order confirmed {2}(.* after|already in MySQL when) the last 202 reached the crowd$/m);
    // Half the 40 pay; the other 20 expire and are resold to 20 of 30 new buyers, who pay.
    expect(run.stdout).toMatch(/^ {2}paid {18}40 orders$/m);
    expect(run.stdout).toMatch(/^ {2}expired {15}20 orders unpaid at pay-by/m);
    expect(run.stdout).toMatch(/^ {2}resold {16}20 returned units/m);
    expect(run.stdout).toMatch(/^ {2}final balance {9}40 paid \+ 0 holding \+ 0 on sale = 40 stock$/m);
    expect(run.stdout).toMatch(/^OK: nothing oversold/m);
    expect(run.code).toBe(0);

    const [, database, keyPrefix] = /Own database (\S+), Redis key prefix (\S+)/.exec(run.stderr) ?? [];
    expect(database).toMatch(/^seckill_demo_[0-9a-f]{8}$/);
    expect(mariadb(`SHOW DATABASES LIKE '${database}'`)).toBe("");
    expect(execFileSync("redis-cli", ["--scan", "--pattern", `${keyPrefix}*`], { encoding: "utf8" }).trim()).toBe("");
  }, 120_000);

  test("--watch shows the war room of the sale while the crowd buys, then the report after its last screen", async () => {
    const run = await runTool("demo", ["--watch", "--buyers", "400", "--stock", "40", "--concurrency", "20"]);

    const screens = run.stdout.split("seckill war room").slice(1);
    expect(screens.length).toBeGreaterThan(0);
    const last = screens[screens.length - 1];
    // stock, reserved, confirmed, pending, then paid and expired, which the demo's second act changes after this screen.
    expect(last).toMatch(/^[0-9a-f]{16} +40 +40 +40 +0 +\d+ +\d+$/m);
    expect(last).toMatch(/^PIPELINE +writer lag/m);
    expect(last.indexOf("Flash sale demo")).toBeGreaterThan(last.indexOf("FLEET"));
    expect(run.stdout).toMatch(/^OK: nothing oversold/m);
    expect(run.code).toBe(0);
  }, 120_000);

  test("--throwaway runs the sale on its own redis-server and mariadbd", async () => {
    const run = await runTool("demo", ["--throwaway", "--buyers", "200", "--stock", "20", "--concurrency", "20", "--payment-window", "10"]);

    expect(run.stdout).toMatch(/^Flash sale demo \(Redis throwaway redis-server on :\d+, MariaDB throwaway mariadbd on :\d+\)$/m);
    expect(run.stdout).toMatch(/^OK: nothing oversold/m);
    expect(run.code).toBe(0);
  }, 120_000);
});

describe("the demo's verdict", () => {
  const crowd: CrowdResult = {
    clicks: 11,
    requests: 11,
    outcomes: {
      reserved: 11,
      already_purchased: 0,
      sold_out: 0,
      rate_limited: 0,
      lb_rejected: 0,
      unavailable: 0,
      outcome_unknown: 0,
      server_error: 0,
      unexpected: 0,
      no_answer: 0,
    },
    reservations: [],
    firstAnswer: {},
    clicksGivenUp: 0,
    latenciesMs: [1, 2, 3],
    startedAt: 0,
    elapsedMs: 100,
  };
  const clean: DemoResult = {
    stock: 10,
    buyers: 10,
    unitsSold: 10,
    reservedInRedis: 10,
    ordersConfirmed: 10,
    oversold: 0,
    duplicates: 0,
    unconfirmed: 0,
    soldOutAfterMs: 50,
    lastConfirmationMs: 20,
    crowd,
    errors: [],
    services: "Redis test, MariaDB test",
    lifecycle: { paid: 8, expired: 2, resold: 2, holding: 2, onSale: 0, balanced: true },
  };

  test.each([
    ["an oversold unit", { oversold: 1 }, /^ {2}oversold {14}1 {2}✗ must be 0$/m],
    ["a buyer served twice", { duplicates: 1 }, /^ {2}duplicates {12}1 {2}✗ must be 0$/m],
    ["an order missing from MySQL", { unconfirmed: 1, lastConfirmationMs: undefined }, /^ {2}unconfirmed {11}1 {2}✗ must be 0$/m],
    ["an answer outside the contract", { errors: ["1 × server error, e.g. 500"] }, /^ {2}error: 1 × server error, e.g. 500$/m],
    [
      "a balance that does not add up",
      { lifecycle: { paid: 8, expired: 2, resold: 2, holding: 1, onSale: 0, balanced: false } },
      /^ {2}final balance {9}8 paid \+ 1 holding \+ 0 on sale = 10 stock {2}✗ must add up$/m,
    ],
  ])("fails on %s", (_, broken, line) => {
    const result = { ...clean, ...broken };

    expect(demoFailed(result)).toBe(true);
    expect(formatDemoReport(result)).toMatch(line);
    expect(formatDemoReport(result)).toMatch(/^FAILED: the sale broke a promise/m);
  });

  test("says the payment window was too short when orders expired while the crowd ran", () => {
    const result = {
      ...clean,
      lifecycle: { paid: 0, expired: 3, resold: 0, holding: 0, onSale: 0, balanced: false },
      errors: [
        "3 orders expired before the crowd was over (it took 100 ms): the 5 s payment window must outlast it; try --payment-window 16",
      ],
    };
    expect(demoFailed(result)).toBe(true);
    expect(formatDemoReport(result)).toMatch(/^ {2}error: 3 orders expired before the crowd was over .* try --payment-window 16$/m);
  });

  test("passes when nothing is oversold, duplicated or unconfirmed", () => {
    expect(demoFailed(clean)).toBe(false);
    expect(formatDemoReport(clean)).toMatch(
      /^OK: nothing oversold, nobody served twice, every order confirmed, every unit paid for, held or on sale$/m,
    );
  });
});

function mariadb(sql: string): string {
  return execFileSync("mariadb", ["-h", "127.0.0.1", "-uroot", "-N", "-e", sql], { encoding: "utf8" }).trim();
}
