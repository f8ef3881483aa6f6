/**
 * `npm run bench [-- options]`: what a request costs the seckill service in CPU, measured on the server side, against
 * a bare node:http hello world receiving the very same requests. For this Node and the Node 24 the fleet runs
 * (build/node-runtime.ts), load from autocannon in this process:
 *   (a) bare node:http hello world, POST as an order and GET as a read   (b) bare Express hello world, POST
 *   (c) POST /api/sales/:id/orders, distinct buyers, stock that does not run out
 *   (d) the same on a sold-out sale  (e) GET /api/sales/:id
 *   (f) the order writer alone draining a backlog into MySQL
 *   (g) (c) with REDIS_REPLICA_ACK=1 on a throwaway redis-server and its replica
 *   (h) (c) with REDIS_MODE=cluster on a throwaway 3-shard Redis Cluster, one sale in 1 bucket  (i) the same, 8 buckets
 * CPU per request is counted from /proc (every process of the target: the service's primary, HTTP workers and order
 * writer), Redis's INFO cpu (each shard's, on the cluster) and MariaDB's /proc, over the measured window only. The
 * ratios divide the reference's CPU per request by the target's, so a load generator that cannot keep up, or a busy
 * shared machine, cannot cap or flatter them the way requests per second could. Every HTTP target gets the same requests at the same offered rate:
 * a server's CPU per request falls as its event loop gets busier (more requests per wake-up and per write), so
 * targets loaded differently would not compare.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Redis from "ioredis";
import type { RowDataPacket } from "mysql2/promise";
import autocannon from "autocannon";
import { mintUserToken } from "../app/http/auth";
import { loadConfig } from "../app/platform/config";
import { createMysqlPool } from "../app/platform/mysql";
import { migrate } from "../app/platform/migrations";
import { Reservations } from "../app/sales/reservations";
import { newSaleId, type Sale } from "../app/sales/sale";
import { insertSale } from "../app/sales/sale-store";
import { nodeRuntime } from "../build/node-runtime";
import { BENCH_RESULTS_DIR, benchResultsFileName, type PerOrderCpu } from "./lib/bench-results";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./lib/cli";
import {
  clockTicksPerSecond,
  cpuRatio,
  environmentVariable,
  microsPerRequest,
  parseRedisCommandStats,
  parseRedisInfoCpu,
  redisCommandsSpent,
  processTree,
  readAllProcStats,
  readProcessEnvironment,
  redisSecondsSpent,
  ticksSpent,
  type ProcStat,
  type RedisCommandStat,
  type RedisCpu,
} from "./lib/cpu-accounting";
import { startApp } from "./lib/local-app";
import {
  createScratch,
  freePort,
  startThrowawayMariadb,
  startThrowawayRedis,
  stopChild,
  type Scratch,
  type ThrowawayRedis,
  type ThrowawayServer,
} from "./lib/local-services";
import { startRedisCluster } from "./lib/redis-cluster";
import { Cleanups } from "./lib/cleanups";

/** Beside the test files' clusters (21000…), and, with the bus at +10000, below the ephemeral ports (32768 on). */
const DEFAULT_CLUSTER_PORT = 21300;

const USAGE = `Usage: npm run bench -- [options]

Measures what a request costs the seckill service in CPU (its processes, Redis, MariaDB; counted on the server side)
against bare node:http and Express hello worlds receiving the same requests, on this Node and on the Node 24 the
fleet runs (build/node-runtime.ts). Starts its own redis-server and mariadbd (both must be installed), so their CPU
is the bench's alone. Saves one file per Node in bench-results/ (npm run capacity reads them).

  --rounds <n>        measure every HTTP target n times, report each by its cheapest round (default 2)
  --duration <s>      seconds measured per HTTP target and round (default 10)
  --warmup <s>        seconds of discarded load before each measurement (default 3)
  --settle <s>        seconds each target idles after it starts, before any load (default 12: a new process's
                      start-up garbage is collected about 8 s in)
  --connections <n>   concurrent connections (default 100)
  --rate <n>          requests per second offered to every HTTP target alike (default 2000; 0: as fast as autocannon
                      goes, which on a small machine loads each target differently)
  --workers <n>       the service's HTTP workers (WORKERS, default 1)
  --backlog <n>       order events the writer drains in (f) (default 50000)
  --skip-node24       measure this Node only
  --skip-cluster      leave out (h) and (i), the order targets on a local 3-shard Redis Cluster (they need redis-cli)
  --cluster-port <n>  the cluster's first port; it takes n to n+2 and, for its bus, n+10000 to n+10002 (default ${DEFAULT_CLUSTER_PORT})
  --out-dir <dir>     where to save the per-Node files (default ${BENCH_RESULTS_DIR})
  --json <file>       also write every runtime's figures to one JSON file`;

const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef0123456789";
const USER_TOKEN_SECRET = "bench-user-token-secret-0123456789abcdef01";
/** Issue 16's targets; reported, and the exit code is 1 when one is missed. */
const TARGETS = { orderRatio: 0.5, soldOutRatio: 0.8, redisMicrosPerOrder: 6, drainPerSecond: 10_000 };
const TARGET_SCRIPT = path.join(__dirname, "bench-target.js");

interface Options {
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  /** Seconds each target idles after it starts, before any load. */
  readonly settleS: number;
  readonly connections: number;
  /** Requests per second offered to every HTTP target; 0: unpaced. */
  readonly rate: number;
  readonly workers: number;
  readonly backlog: number;
}

interface Runtime {
  readonly label: string;
  readonly node: string;
}

/** The processes whose CPU a measurement counts. */
interface CpuSources {
  /** The target: its process and every descendant. */
  readonly rootPid: number;
  /** The Redis the target uses (or would: the hello worlds' figure is its idle cost); on a cluster, every shard. */
  readonly redis: readonly Redis[];
  readonly mysqlPid: number;
}

interface CpuSnapshot {
  readonly target: ProcStat[];
  /** The root of the target's tree. */
  readonly rootPid: number;
  readonly mysql: ProcStat[];
  readonly redis: RedisCpu[];
  readonly redisCommands: Map<string, RedisCommandStat>[];
}

/** CPU per request over one measured window, in µs. */
interface CpuPerRequest {
  /** The target's processes (for the service: primary, HTTP workers, order writer). */
  readonly service: number;
  /** Redis, whole process (used_cpu_user + used_cpu_sys); on a cluster, every shard's summed. */
  readonly redis: number;
  /** Redis's main thread, which runs the commands and scripts (Redis 6.2+). */
  readonly redisMainThread?: number;
  /** On a cluster: each shard's whole-process figure, in the order of their ports. */
  readonly redisShards?: number[];
  /** On a cluster: the busiest shard's figure; 10⁶ ÷ it bounds one sale's orders/s, however large the fleet. */
  readonly redisBusiestShard?: number;
  readonly mysql: number;
  /**
   * Where Redis's time went, by command (INFO commandstats, every shard summed), busiest first: calls and µs per
   * request. A script's µs include the commands it runs, which are listed on their own as well.
   */
  readonly redisCommands: Record<string, { readonly calls: number; readonly micros: number }>;
}

interface Measured {
  readonly name: string;
  /** Method and headers every request carried (token values differ per request, not their length). */
  readonly request: string;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statuses: Record<string, number>;
  /** Connection errors, timeouts and responses with another status than expected. */
  readonly errors: number;
  readonly cpuMicrosPerRequest: CpuPerRequest;
  /** The target's CPU µs per request by process role: the service's primary, http workers, order-writer. */
  readonly serviceByRole: Record<string, number>;
  /** Processes counted for the target. */
  readonly processes: number;
  /** Target processes that exited during the window: their last CPU is missing from the figure. */
  readonly exitedProcesses: number;
}

interface HttpFigures extends Measured {
  /** The reference's service CPU per request (same request) ÷ this target's; undefined for the references. */
  readonly cpuRatio?: number;
}

interface DrainFigures {
  readonly orders: number;
  readonly seconds: number;
  readonly ordersPerSecond: number;
  readonly cpuMicrosPerOrder: CpuPerRequest;
}

type Scenario = "a" | "aGet" | "b" | "c" | "d" | "e";

interface RuntimeFigures {
  readonly node: string;
  /** Each target's cheapest round (least service CPU per request). */
  readonly http: Record<Scenario, HttpFigures>;
  /** Service CPU µs per request of every round, per target. */
  readonly roundsMicros: Record<Scenario, number[]>;
  readonly drain: DrainFigures;
  /** One round; its 503s are outcome_unknown answers (WAIT timed out), which the mode exists to give. */
  readonly replicaAck: HttpFigures;
  /** (h) and (i), one round each; absent with --skip-cluster. */
  readonly cluster?: { readonly oneBucket: HttpFigures; readonly eightBuckets: HttpFigures };
}

async function cpuSnapshot(sources: CpuSources): Promise<CpuSnapshot> {
  const redis = (await Promise.all(sources.redis.map((server) => server.info("cpu")))).map(parseRedisInfoCpu);
  const redisCommands = (await Promise.all(sources.redis.map((server) => server.info("commandstats")))).map(parseRedisCommandStats);
  const all = readAllProcStats();
  return {
    target: processTree(sources.rootPid, all),
    rootPid: sources.rootPid,
    mysql: processTree(sources.mysqlPid, all),
    redis,
    redisCommands,
  };
}

/** What app/main.ts tells each forked process it is (its ROLE_VARIABLE); the process that forks them is the primary. */
const ROLE_VARIABLE = "SECKILL_PROCESS_ROLE";

/** CPU µs per request between two snapshots; every figure 0 when nothing was served. */
function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number) {
  const hz = clockTicksPerSecond();
  const target = ticksSpent(before.target, after.target);
  const perRequest = (seconds: number) => microsPerRequest(seconds, requests) ?? 0;
  const byRole: Record<string, number> = {};
  for (const [pid, ticks] of target.byPid) {
    const role = environmentVariable(readProcessEnvironment(pid), ROLE_VARIABLE) ?? (pid === after.rootPid ? "primary" : "other");
    byRole[role] = (byRole[role] ?? 0) + perRequest(ticks / hz);
  }
  const redis = redisSecondsSpent(before.redis, after.redis);
  const shards =
    redis.perServer.length > 1 ? { redisShards: redis.perServer.map(perRequest), redisBusiestShard: perRequest(redis.busiest) } : {};
  return {
    cpu: {
      service: perRequest(target.ticks / hz),
      redis: perRequest(redis.total),
      ...(redis.mainThread !== undefined ? { redisMainThread: perRequest(redis.mainThread) } : {}),
      ...shards,
      mysql: perRequest(ticksSpent(before.mysql, after.mysql).ticks / hz),
      redisCommands: Object.fromEntries(
        [...redisCommandsSpent(before.redisCommands, after.redisCommands)].map(([name, { calls, usec }]) => [
          name,
          { calls: requests > 0 ? calls / requests : 0, micros: perRequest(usec / 1e6) },
        ]),
      ),
    },
    serviceByRole: byRole,
    processes: after.target.length,
    exitedProcesses: target.exited.length,
  };
}

/** A reference server or the lone order writer, as its own process (scripts/bench-target.ts). */
class Target {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(runtime: Runtime, mode: string, env: Record<string, string> = {}): Promise<Target> {
    const port = await freePort();
    const child = spawn(runtime.node, [TARGET_SCRIPT, mode], {
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

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

interface Running {
  readonly baseUrl: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Everything the bench starts, so that Ctrl-C stops it too instead of leaving servers and services behind. */
const started = new Cleanups();

/**
 * Starts a target, lets it settle for `settleS`, runs `work` on it and stops it. A new V8 process collects its
 * start-up's garbage about 8 s after it starts (the memory reducer, a major GC in every process of the service): a
 * one-off of a few hundred milliseconds of CPU that would otherwise land in the first measured window.
 */
async function withRunning<T>(settleS: number, start: () => Promise<Running>, work: (running: Running) => Promise<T>): Promise<T> {
  const running = await start();
  const stop = started.add(() => running.stop());
  try {
    await sleep(settleS * 1000);
    return await work(running);
  } finally {
    await stop();
  }
}

/**
 * The two requests every target receives, shaped as the sale page sends them: an order (POST, a bearer token, an
 * empty body declared as such) and a read (GET, the same token). Each request carries a new buyer's token.
 */
type RequestShape = "order" | "read";

function requestShape(shape: RequestShape, buyers: () => string) {
  return shape === "order"
    ? {
        method: "POST",
        describe: "POST, authorization: Bearer <token>, content-length: 0",
        headers: () => ({ authorization: `Bearer ${buyers()}`, "content-length": "0" }),
      }
    : { method: "GET", describe: "GET, authorization: Bearer <token>", headers: () => ({ authorization: `Bearer ${buyers()}` }) };
}

/** A fresh buyer's token on every call, so each order comes from someone who has not bought yet. */
function distinctBuyers(label: string): () => string {
  let next = 0;
  return () => mintUserToken(`${label}-${next++}`, USER_TOKEN_SECRET);
}

interface Load {
  readonly name: string;
  readonly url: string;
  readonly shape: RequestShape;
  readonly buyers: string;
  readonly expectedStatus: number;
}

async function measure(load: Load, sources: CpuSources, options: Options): Promise<Measured> {
  const shape = requestShape(load.shape, distinctBuyers(load.buyers));
  const run = (duration: number) =>
    autocannon({
      url: load.url,
      connections: options.connections,
      ...(options.rate > 0 ? { overallRate: options.rate } : {}),
      duration,
      requests: [
        { method: shape.method, setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...shape.headers() } }) },
      ],
    });
  if (options.warmupS > 0) await run(options.warmupS);
  const before = await cpuSnapshot(sources);
  const result = await run(options.durationS);
  const after = await cpuSnapshot(sources);
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]));
  const unexpected = Object.entries(statuses)
    .filter(([status]) => Number(status) !== load.expectedStatus)
    .reduce((sum, [, count]) => sum + count, 0);
  const { cpu, serviceByRole, processes, exitedProcesses } = cpuPerRequest(before, after, result.requests.total);
  return {
    name: load.name,
    request: shape.describe,
    requests: result.requests.total,
    seconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts + unexpected,
    cpuMicrosPerRequest: cpu,
    serviceByRole,
    processes,
    exitedProcesses,
  };
}

async function adminCreateSale(baseUrl: string, stock: number, stockBuckets = 1): Promise<string> {
  const now = Date.now();
  const answer = await fetch(`${baseUrl}/admin/sales`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      itemName: "Bench phone",
      stock,
      stockBuckets,
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    }),
  });
  if (answer.status !== 201) throw new Error(`creating a sale answered ${answer.status}: ${await answer.text()}`);
  return ((await answer.json()) as { id: string }).id;
}

function serviceEnv(scratch: Scratch, options: Options) {
  return {
    REDIS_URL: scratch.redisUrl,
    MYSQL_URL: scratch.mysqlUrl,
    SECKILL_ADMIN_TOKEN: ADMIN_TOKEN,
    SECKILL_USER_TOKEN_SECRET: USER_TOKEN_SECRET,
    ORDER_QUEUE: "redis",
    WORKERS: String(options.workers),
    LOG_LEVEL: "warn",
  };
}

/** The bench's own servers: nobody else's commands or queries land in their CPU figures. */
interface Servers {
  readonly redis: ThrowawayRedis;
  readonly mysql: ThrowawayServer;
  /** A connection to `redis` for INFO cpu. */
  readonly info: Redis;
}

/** The service as the fleet runs it: dist/app/main.js, a cluster primary forking the HTTP workers and the order writer. */
function startService(
  runtime: Runtime,
  scratch: Scratch,
  options: Options,
  extra: { REDIS_REPLICA_ACK?: string; REDIS_URL?: string; REDIS_MODE?: "cluster" } = {},
) {
  return () => startApp({ ...serviceEnv(scratch, options), ...extra }, runtime.node);
}

/** One measurement of every HTTP target, each in a fresh process. */
async function httpRound(
  runtime: Runtime,
  servers: Servers,
  scratch: Scratch,
  options: Options,
  round: number,
): Promise<Record<Scenario, Measured>> {
  const log = (line: string) => process.stderr.write(`  round ${round}: ${line}\n`);
  const run = `${runtime.label.replace(/\W+/g, "")}-${round}`;
  /** Measures `running` answering one kind of request, counting its processes' CPU. */
  const measureOn =
    (running: Running) =>
    (name: string, urlPath: string, shape: RequestShape, expectedStatus: number): Promise<Measured> => {
      log(name);
      const buyers = `${run}-${name.slice(1, name.indexOf(")"))}${shape === "read" ? "g" : ""}`;
      const sources = { rootPid: running.pid, redis: [servers.info], mysqlPid: servers.mysql.pid };
      return measure({ name, url: `${running.baseUrl}${urlPath}`, shape, buyers, expectedStatus }, sources, options);
    };
  const [a, aGet] = await withRunning(
    options.settleS,
    () => Target.start(runtime, "hello-http"),
    async (t) => [
      await measureOn(t)("(a) bare node:http, POST", "/", "order", 200),
      await measureOn(t)("(a) bare node:http, GET", "/", "read", 200),
    ],
  );
  const b = await withRunning(
    options.settleS,
    () => Target.start(runtime, "hello-express"),
    (t) => measureOn(t)("(b) bare Express, POST", "/", "order", 200),
  );
  return withRunning(options.settleS, startService(runtime, scratch, options), async (t) => {
    const plenty = await adminCreateSale(t.baseUrl, 1_000_000);
    const soldOut = await adminCreateSale(t.baseUrl, 1);
    const lastUnit = await fetch(`${t.baseUrl}/api/sales/${soldOut}/orders`, {
      method: "POST",
      headers: { authorization: `Bearer ${distinctBuyers(`${run}-first`)()}` },
    });
    if (lastUnit.status !== 202) throw new Error(`buying the only unit answered ${lastUnit.status}`);
    const c = await measureOn(t)("(c) POST order, distinct buyers", `/api/sales/${plenty}/orders`, "order", 202);
    const d = await measureOn(t)("(d) POST order, sold out", `/api/sales/${soldOut}/orders`, "order", 410);
    const e = await measureOn(t)("(e) GET sale", `/api/sales/${plenty}`, "read", 200);
    return { a, aGet, b, c, d, e };
  });
}

/** Which reference each target is compared with: the hello world that received the same request. */
const REFERENCE: Record<Scenario, Scenario | undefined> = { a: undefined, aGet: undefined, b: "a", c: "a", d: "a", e: "aGet" };

/**
 * Every target is measured in each round and reported by its cheapest round: on a shared machine a disturbed window
 * (caches, frequency, a neighbour's burst) only ever makes a request dearer. Errors count over all rounds.
 */
async function benchHttp(
  runtime: Runtime,
  servers: Servers,
  scratch: Scratch,
  options: Options,
): Promise<Pick<RuntimeFigures, "http" | "roundsMicros">> {
  const rounds: Record<Scenario, Measured>[] = [];
  for (let round = 1; round <= options.rounds; round++) rounds.push(await httpRound(runtime, servers, scratch, options, round));
  const scenarios = Object.keys(REFERENCE) as Scenario[];
  const cheapest = (scenario: Scenario): Measured => {
    const runs = rounds.map((r) => r[scenario]);
    const top = runs.reduce((x, y) => (y.cpuMicrosPerRequest.service < x.cpuMicrosPerRequest.service ? y : x));
    return { ...top, errors: runs.reduce((sum, run) => sum + run.errors, 0) };
  };
  const best = Object.fromEntries(scenarios.map((s) => [s, cheapest(s)])) as Record<Scenario, Measured>;
  const withRatio = (s: Scenario): HttpFigures => {
    const reference = REFERENCE[s];
    if (reference === undefined) return best[s];
    return { ...best[s], cpuRatio: cpuRatio(best[reference].cpuMicrosPerRequest.service, best[s].cpuMicrosPerRequest.service) };
  };
  return {
    http: Object.fromEntries(scenarios.map((s) => [s, withRatio(s)])) as Record<Scenario, HttpFigures>,
    roundsMicros: Object.fromEntries(
      scenarios.map((s) => [s, rounds.map((r) => Number(r[s].cpuMicrosPerRequest.service.toFixed(1)))]),
    ) as Record<Scenario, number[]>,
  };
}

/** (f): fills one sale's order stream with `backlog` events, then times the writer until MySQL has them all. */
async function benchDrain(runtime: Runtime, servers: Servers, scratch: Scratch, options: Options): Promise<DrainFigures> {
  process.stderr.write(`  (f) order writer drain of ${options.backlog} orders\n`);
  const config = loadConfig(serviceEnv(scratch, options));
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
    // No settling: the writer drains the backlog from the moment it starts, and the drain is what is timed.
    return await withRunning(
      0,
      () => Target.start(runtime, "order-writer", serviceEnv(scratch, options)),
      async (writer) => {
        const sources: CpuSources = { rootPid: writer.pid, redis: [servers.info], mysqlPid: servers.mysql.pid };
        const before = await cpuSnapshot(sources);
        const startedAt = performance.now();
        while ((await sold()) < options.backlog) await sleep(10);
        const seconds = (performance.now() - startedAt) / 1000;
        const { cpu } = cpuPerRequest(before, await cpuSnapshot(sources), options.backlog);
        return { orders: options.backlog, seconds, ordersPerSecond: options.backlog / seconds, cpuMicrosPerOrder: cpu };
      },
    );
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

/** (g): orders of distinct buyers, each answered only once a replica has it (WAIT 1), on a primary with one replica. */
async function benchReplicaAck(runtime: Runtime, servers: Servers, options: Options, referenceMicros: number): Promise<HttpFigures> {
  process.stderr.write("  (g) order, distinct buyers, REDIS_REPLICA_ACK=1 with a local replica\n");
  const primary = await startThrowawayRedis();
  const stopPrimary = started.add(primary.stop);
  const replica = await startThrowawayRedis({ args: ["--replicaof", "127.0.0.1", String(primary.port)] });
  const stopReplica = started.add(replica.stop);
  const info = new Redis(primary.url);
  const scratch = await createScratch(primary.url, servers.mysql.url, "benchack");
  try {
    const measured = await withRunning(options.settleS, startService(runtime, scratch, options, { REDIS_REPLICA_ACK: "1" }), async (t) => {
      const sale = await adminCreateSale(t.baseUrl, 1_000_000);
      return measure(
        {
          name: "(g) POST order, replica ack",
          url: `${t.baseUrl}/api/sales/${sale}/orders`,
          shape: "order",
          buyers: `${runtime.label.replace(/\W+/g, "")}-g`,
          expectedStatus: 202,
        },
        { rootPid: t.pid, redis: [info], mysqlPid: servers.mysql.pid },
        options,
      );
    });
    return { ...measured, cpuRatio: cpuRatio(referenceMicros, measured.cpuMicrosPerRequest.service) };
  } finally {
    info.disconnect();
    await scratch.dispose();
    await stopReplica();
    await stopPrimary();
  }
}

/**
 * (h) and (i): (c)'s load on the service in REDIS_MODE=cluster, against a sale in one bucket (every order on one
 * shard) and one in 8 buckets (spread over the shards by their hash tags). Each shard's INFO cpu is counted apart:
 * the busiest shard's CPU per order is what caps one sale's rate, as (c)'s one Redis does in standalone mode.
 */
async function benchCluster(
  runtime: Runtime,
  servers: Servers,
  scratch: Scratch,
  options: Options,
  clusterPort: number,
  referenceMicros: number,
): Promise<NonNullable<RuntimeFigures["cluster"]>> {
  process.stderr.write(`  (h)/(i) order on a local 3-shard Redis Cluster (ports ${clusterPort}-${clusterPort + 2})\n`);
  const cluster = await startRedisCluster(clusterPort);
  const stopCluster = started.add(cluster.stop);
  const shards = cluster.nodes.map((node) => new Redis(node.url));
  try {
    // The database is the scratch's; the keys go to the cluster, under the scratch's prefix (the cluster is thrown away).
    const redisUrl = `${cluster.seedUrl}/?keyPrefix=${encodeURIComponent(scratch.keyPrefix)}`;
    return await withRunning(
      options.settleS,
      startService(runtime, scratch, options, { REDIS_URL: redisUrl, REDIS_MODE: "cluster" }),
      async (t) => {
        const order = async (name: string, buckets: number, tag: string): Promise<HttpFigures> => {
          process.stderr.write(`  ${name}\n`);
          const sale = await adminCreateSale(t.baseUrl, 1_000_000, buckets);
          const measured = await measure(
            {
              name,
              url: `${t.baseUrl}/api/sales/${sale}/orders`,
              shape: "order",
              buyers: `${runtime.label.replace(/\W+/g, "")}-${tag}`,
              expectedStatus: 202,
            },
            { rootPid: t.pid, redis: shards, mysqlPid: servers.mysql.pid },
            options,
          );
          return { ...measured, cpuRatio: cpuRatio(referenceMicros, measured.cpuMicrosPerRequest.service) };
        };
        return {
          oneBucket: await order("(h) order, cluster, 1 bucket", 1, "h"),
          eightBuckets: await order("(i) order, cluster, 8 buckets", 8, "i"),
        };
      },
    );
  } finally {
    for (const shard of shards) shard.disconnect();
    await stopCluster();
  }
}

/** redis-cli joins the cluster's nodes: without it (h) and (i) cannot run, which the operator hears before anything starts. */
function requireRedisCli(): void {
  const probe = spawnSync("redis-cli", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new UsageError(
      "redis-cli is not on PATH: targets (h) and (i) need it to create a local Redis Cluster; install it or pass --skip-cluster",
    );
  }
}

/** The most orders/s one sale can get from a cluster whose busiest shard spends `micros` per order. */
function saleBound(micros: number | undefined): string {
  return micros === undefined || micros <= 0 ? "?" : Math.round(1e6 / micros).toLocaleString("en");
}

/** The Node 24 the fleet runs: build/node-runtime.ts's pinned, integrity-checked package, unpacked into dist/bench/. */
function fleetNode(): Runtime {
  const runtime = nodeRuntime();
  const dir = path.join("dist", "bench", `node-v${runtime.version}`);
  const node = path.resolve(dir, "package", "bin", "node");
  if (!existsSync(node)) {
    mkdirSync(dir, { recursive: true });
    execFileSync("tar", ["-xzf", runtime.path, "-C", dir]);
  }
  return { label: `Node ${execFileSync(node, ["--version"], { encoding: "utf8" }).trim()}`, node };
}

function table(runtime: Runtime, figures: RuntimeFigures, options: Options): string {
  const µs = (value: number | undefined) => (value === undefined ? "" : value.toFixed(1));
  const row = (f: HttpFigures) =>
    [
      f.name.padEnd(32),
      Math.round(f.requestsPerSecond).toLocaleString("en").padStart(8),
      f.p50Ms.toFixed(0).padStart(5),
      f.p99Ms.toFixed(0).padStart(5),
      µs(f.cpuMicrosPerRequest.service).padStart(8),
      µs(f.cpuMicrosPerRequest.redis).padStart(7),
      µs(f.cpuMicrosPerRequest.mysql).padStart(7),
      (f.cpuRatio === undefined ? "" : f.cpuRatio.toFixed(2)).padStart(6),
      String(f.errors).padStart(7),
      `  ${Object.entries(f.statuses)
        .map(([s, n]) => `${s}×${n}`)
        .join(" ")}`,
    ].join("");
  const drain = figures.drain;
  return [
    `${runtime.label}  (${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}; ${figures.http.c.processes} service processes; ` +
      `${options.rate > 0 ? `${options.rate} req/s offered` : "unpaced"}, ${options.connections} connections)`,
    "latency p50/p99 in ms; CPU µs per request, server side: svc = the target's processes, redis = INFO cpu, mysql = mariadbd (/proc)",
    `${"".padEnd(32)}${"req/s".padStart(8)}${"p50".padStart(5)}${"p99".padStart(5)}${"svc µs".padStart(8)}${"redis".padStart(7)}${"mysql".padStart(7)}${"ratio".padStart(6)}${"errors".padStart(7)}  statuses`,
    ...Object.values(figures.http).map(row),
    row(figures.replicaAck),
    ...(figures.cluster === undefined ? [] : [row(figures.cluster.oneBucket), row(figures.cluster.eightBuckets)]),
    `${"(f) order writer drain".padEnd(32)}${Math.round(drain.ordersPerSecond).toLocaleString("en").padStart(8)} orders/s; per order: writer ${µs(drain.cpuMicrosPerOrder.service)} µs, redis ${µs(drain.cpuMicrosPerOrder.redis)} µs, mysql ${µs(drain.cpuMicrosPerOrder.mysql)} µs`,
    `redis µs per order by command (calls per order), a script's including the commands it runs: ${[
      figures.http.c,
      ...(figures.cluster === undefined ? [] : [figures.cluster.eightBuckets]),
    ]
      .map((f) => `${f.name.slice(0, 3)} ${commandCosts(f.cpuMicrosPerRequest)}`)
      .join("; ")}`,
    `svc µs by process: ${(["c", "d", "e"] as const)
      .map(
        (s) =>
          `(${s}) ${Object.entries(figures.http[s].serviceByRole)
            .map(([role, micros]) => `${role} ${micros.toFixed(1)}`)
            .join(" + ")}`,
      )
      .join("; ")}`,
    ...(figures.cluster === undefined
      ? []
      : [
          `redis µs per order by shard: ${[figures.cluster.oneBucket, figures.cluster.eightBuckets]
            .map(
              (f) =>
                `${f.name.slice(0, 3)} ${(f.cpuMicrosPerRequest.redisShards ?? []).map((m) => m.toFixed(1)).join(" / ")}, busiest ` +
                `${µs(f.cpuMicrosPerRequest.redisBusiestShard)} → one sale ≤ ${saleBound(f.cpuMicrosPerRequest.redisBusiestShard)} orders/s`,
            )
            .join("; ")}`,
        ]),
    `ratio = (a)'s svc µs ÷ the target's, same request ((e): the GET); cheapest of ${figures.roundsMicros.a.length} round(s); svc µs per round: ${Object.entries(
      figures.roundsMicros,
    )
      .map(([scenario, runs]) => `(${scenario}) ${runs.join("/")}`)
      .join(", ")}`,
  ].join("\n");
}

/** The commands that took the most of Redis's time: `evalsha 9.3 (0.07)`. */
function commandCosts(cpu: CpuPerRequest, shown = 6): string {
  return Object.entries(cpu.redisCommands)
    .slice(0, shown)
    .map(([name, { calls, micros }]) => `${name} ${micros.toFixed(1)} (${calls < 0.1 ? calls.toFixed(3) : calls.toFixed(2)})`)
    .join(", ");
}

/** A target served less than this share of the offered rate: it ran at another load than the reference. */
const RATE_KEPT = 0.95;

function verdict(figures: RuntimeFigures, options: Options): string[] {
  const { c, d } = figures.http;
  const misses: string[] = [];
  const ratio = (f: HttpFigures) => (f.cpuRatio ?? 0).toFixed(2);
  if ((c.cpuRatio ?? 0) < TARGETS.orderRatio) misses.push(`(c) CPU ratio ${ratio(c)}, target ≥ ${TARGETS.orderRatio}`);
  if ((d.cpuRatio ?? 0) < TARGETS.soldOutRatio) misses.push(`(d) CPU ratio ${ratio(d)}, target ≥ ${TARGETS.soldOutRatio}`);
  if (c.cpuMicrosPerRequest.redis > TARGETS.redisMicrosPerOrder)
    misses.push(`(c) Redis ${c.cpuMicrosPerRequest.redis.toFixed(1)} µs per order, target ≤ ${TARGETS.redisMicrosPerOrder}`);
  if (figures.drain.ordersPerSecond < TARGETS.drainPerSecond)
    misses.push(`(f) drains ${Math.round(figures.drain.ordersPerSecond)} orders/s, target ${TARGETS.drainPerSecond}`);
  for (const f of Object.values(figures.http)) if (f.errors > 0) misses.push(`${f.name}: ${f.errors} errors`);
  if (options.rate > 0) {
    for (const f of Object.values(figures.http))
      if (f.requestsPerSecond < RATE_KEPT * options.rate)
        misses.push(`${f.name}: served ${Math.round(f.requestsPerSecond)} of the ${options.rate} req/s offered, so it ran at another load`);
  }
  for (const f of Object.values(figures.http))
    if (f.exitedProcesses > 0) misses.push(`${f.name}: ${f.exitedProcesses} process(es) exited while measured`);
  if (figures.cluster !== undefined) {
    const { oneBucket, eightBuckets } = figures.cluster;
    const busiest = (f: HttpFigures) => f.cpuMicrosPerRequest.redisBusiestShard ?? Infinity;
    if (busiest(eightBuckets) >= busiest(oneBucket))
      misses.push(
        `(i) one sale ≤ ${saleBound(eightBuckets.cpuMicrosPerRequest.redisBusiestShard)} orders/s on 8 buckets, ` +
          `not more than ≤ ${saleBound(oneBucket.cpuMicrosPerRequest.redisBusiestShard)} on 1`,
      );
    for (const f of [oneBucket, eightBuckets]) {
      if (f.errors > 0) misses.push(`${f.name}: ${f.errors} errors`);
      if (options.rate > 0 && f.requestsPerSecond < RATE_KEPT * options.rate)
        misses.push(`${f.name}: served ${Math.round(f.requestsPerSecond)} of the ${options.rate} req/s offered`);
    }
  }
  return misses;
}

/** What the capacity model reads: one accepted order's CPU, from (c). */
function perOrder(figures: RuntimeFigures): PerOrderCpu {
  const { service, redis, mysql } = figures.http.c.cpuMicrosPerRequest;
  return { serviceMicros: service, redisMicros: redis, mysqlMicros: mysql };
}

const ACCOUNTING = {
  service:
    "user+system CPU ticks (/proc/<pid>/stat) of the target's process tree: for the service the cluster primary, its HTTP workers and the order writer",
  redis:
    "INFO cpu deltas of the bench's own redis-server: used_cpu_user + used_cpu_sys (whole process); redisMainThread: the _main_thread fields; " +
    "(h)/(i): summed over the 3 shards of the bench's own cluster, each shard in redisShards, the busiest in redisBusiestShard",
  mysql:
    "user+system CPU ticks of the bench's own throwaway mariadbd, InnoDB's background threads (flushing, purge) included; its only client is the bench",
  ratio: "(a)'s service CPU per request (the same request: POST order, or GET for (e)) ÷ the target's",
};

async function main(): Promise<number> {
  const flags = parseFlags(USAGE, {
    rounds: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    settle: { type: "string" },
    connections: { type: "string" },
    rate: { type: "string" },
    workers: { type: "string" },
    backlog: { type: "string" },
    "skip-node24": { type: "boolean" },
    "skip-cluster": { type: "boolean" },
    "cluster-port": { type: "string" },
    "out-dir": { type: "string" },
    json: { type: "string" },
  });
  if (flags === undefined) return 0;
  const options: Options = {
    rounds: wholeNumberFlag("rounds", flags.rounds, 2),
    durationS: wholeNumberFlag("duration", flags.duration, 10),
    warmupS: wholeNumberFlag("warmup", flags.warmup, 3, 0),
    settleS: wholeNumberFlag("settle", flags.settle, 12, 0),
    connections: wholeNumberFlag("connections", flags.connections, 100),
    rate: wholeNumberFlag("rate", flags.rate, 2000, 0),
    workers: wholeNumberFlag("workers", flags.workers, 1),
    backlog: wholeNumberFlag("backlog", flags.backlog, 50_000),
  };
  const clusterPort = flags["skip-cluster"]
    ? undefined
    : wholeNumberFlag("cluster-port", flags["cluster-port"], DEFAULT_CLUSTER_PORT, 1024);
  if (clusterPort !== undefined && clusterPort + 10_002 > 65_535)
    throw new UsageError(`--cluster-port ${clusterPort} leaves no room for the cluster bus (port + 10000); pick one ≤ 55533`);
  if (clusterPort !== undefined) requireRedisCli();
  const outDir = flags["out-dir"] ?? BENCH_RESULTS_DIR;
  const runtimes: Runtime[] = [{ label: `Node ${process.version}`, node: process.execPath }];
  if (!flags["skip-node24"]) runtimes.push(fleetNode());
  process.stderr.write("starting a private redis-server and mariadbd\n");
  const stopInterrupts = started.onInterrupt((message) => process.stderr.write(`${message}\n`));
  const redis = await startThrowawayRedis();
  const stopRedis = started.add(redis.stop);
  const mysql = await startThrowawayMariadb().catch(async (error: unknown) => {
    await stopRedis();
    throw error;
  });
  const stopMysql = started.add(mysql.stop);
  const servers: Servers = { redis, mysql, info: new Redis(redis.url) };
  const report: { node: string; file: string; figures: RuntimeFigures; misses: string[] }[] = [];
  try {
    for (const runtime of runtimes) {
      process.stderr.write(`${runtime.label}\n`);
      const loadAverageBefore = os.loadavg();
      const withScratch = async <T>(label: string, work: (scratch: Scratch) => Promise<T>): Promise<T> => {
        const scratch = await createScratch(redis.url, mysql.url, label);
        try {
          const pool = createMysqlPool(loadConfig(serviceEnv(scratch, options)).mysql, 1);
          await migrate(pool).finally(() => pool.end());
          return await work(scratch);
        } finally {
          await scratch.dispose();
        }
      };
      const http = await withScratch("bench", (scratch) => benchHttp(runtime, servers, scratch, options));
      // Its own database and key prefix: the writer must see only the backlog it is timed on, not the orders (c) left.
      const drain = await withScratch("benchdrain", (scratch) => benchDrain(runtime, servers, scratch, options));
      const replicaAck = await benchReplicaAck(runtime, servers, options, http.http.a.cpuMicrosPerRequest.service);
      const cluster =
        clusterPort === undefined
          ? undefined
          : await withScratch("benchcluster", (scratch) =>
              benchCluster(runtime, servers, scratch, options, clusterPort, http.http.a.cpuMicrosPerRequest.service),
            );
      const figures: RuntimeFigures = { node: runtime.label, ...http, drain, replicaAck, ...(cluster === undefined ? {} : { cluster }) };
      const misses = verdict(figures, options);
      const date = new Date();
      const file = path.join(outDir, benchResultsFileName(date, runtime.label.replace(/^Node /, "")));
      const machine = {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        platform: `${os.platform()} ${os.arch()}`,
        loadAverageBefore,
        loadAverageAfter: os.loadavg(),
      };
      mkdirSync(outDir, { recursive: true });
      writeFileSync(
        file,
        `${JSON.stringify({ date: date.toISOString(), node: runtime.label, machine, options, accounting: ACCOUNTING, targets: TARGETS, perOrder: perOrder(figures), figures, misses }, null, 2)}\n`,
      );
      report.push({ node: runtime.label, file, figures, misses });
      const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(" ");
      process.stdout.write(
        `\n${table(runtime, figures, options)}\nload average ${load(loadAverageBefore)} before, ${load(machine.loadAverageAfter)} after; saved to ${file}\n`,
      );
    }
  } finally {
    servers.info.disconnect();
    await stopRedis();
    await stopMysql();
    stopInterrupts();
  }
  process.stdout.write("\n");
  for (const { node, misses } of report) {
    process.stdout.write(misses.length === 0 ? `${node}: all targets met\n` : `${node}: MISSED ${misses.join("; ")}\n`);
  }
  if (flags.json) {
    mkdirSync(path.dirname(path.resolve(flags.json)), { recursive: true });
    writeFileSync(
      flags.json,
      `${JSON.stringify({ date: new Date().toISOString(), options, accounting: ACCOUNTING, targets: TARGETS, runs: report }, null, 2)}\n`,
    );
    process.stdout.write(`figures written to ${flags.json}\n`);
  }
  return report.every((r) => r.misses.length === 0) ? 0 : 1;
}

runMain(main);
