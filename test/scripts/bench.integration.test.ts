import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { processTree, readAllProcStats } from "../../scripts/lib/cpu-accounting";
import { waitUntil } from "../../scripts/lib/wait";
import { buildTool, runTool, startTool } from "./support/cli";

/** A bench this short measures nothing worth reading: the test checks what it reports, never the figures' size. */
const TINY = [
  "--skip-node24",
  "--rounds",
  "1",
  "--duration",
  "2",
  "--warmup",
  "0",
  "--connections",
  "10",
  "--rate",
  "300",
  "--backlog",
  "2000",
  // Not the default's ports, so a bench running alongside keeps its own cluster.
  "--cluster-port",
  "21400",
];

beforeAll(() => buildTool("bench"), 180_000);

describe("npm run bench, tiny, then npm run capacity on what it saved", () => {
  let dir: string;
  let benchFile: string;
  let saved: {
    node: string;
    perOrder: Record<string, number>;
    figures: {
      http: Record<
        string,
        {
          request: string;
          processes: number;
          cpuMicrosPerRequest: Record<string, number> & { redisCommands: Record<string, { calls: number; micros: number }> };
          serviceByRole: Record<string, number>;
          cpuRatio?: number;
        }
      >;
      drain: { cpuMicrosPerOrder: Record<string, number> };
      cluster: Record<string, { cpuMicrosPerRequest: { redis: number; redisShards: number[]; redisBusiestShard: number } }>;
    };
  };

  beforeAll(() => {
    buildTool("capacity");
    dir = mkdtempSync(path.join(os.tmpdir(), "bench-"));
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("measures every target's CPU per request on the server side and saves one file per Node", async () => {
    const run = await runTool("bench", [...TINY, "--out-dir", dir, "--json", path.join(dir, "all.json")]);
    // 1: a target missed, which a two-second run on a shared machine may well do; anything else is a failure.
    expect({ code: run.code, stderr: run.code === 0 || run.code === 1 ? "" : run.stderr }).toEqual({
      code: run.code === 0 ? 0 : 1,
      stderr: "",
    });
    expect(run.stdout).toMatch(/^\(c\) POST order, distinct buyers +[\d,]+ +\d+ +\d+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +\d+ {2}202×\d+/m);
    expect(run.stdout).toMatch(
      /^\(f\) order writer drain +[\d,]+ orders\/s; per order: writer [\d.]+ µs, redis [\d.]+ µs, mysql [\d.]+ µs$/m,
    );
    expect(run.stdout).toMatch(/^svc µs by process: \(c\) (\w[\w-]* [\d.]+( \+ )?){3}; \(d\)/m);
    expect(run.stdout).toMatch(/^\(i\) order, cluster, 8 buckets +[\d,]+ +\d+ +\d+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +\d+ {2}202×\d+/m);
    expect(run.stdout).toMatch(
      /^redis µs per order by shard: \(h\) [\d.]+ \/ [\d.]+ \/ [\d.]+, busiest [\d.]+ → one sale ≤ [\d,?]+ orders\/s; \(i\) /m,
    );
    expect(run.stdout).toMatch(
      /^redis µs per order by command \(calls per order\), a script's including the commands it runs: \(c\) evalsha [\d.]+ \([\d.]+\).*; \(i\) /m,
    );
    expect(run.stdout).toMatch(/^load average [\d. ]+ before, [\d. ]+ after; saved to /m);

    const files = readdirSync(dir).filter((name) => name !== "all.json");
    expect(files).toEqual([
      expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ-node${process.versions.node.split(".")[0]}\\.json$`)),
    ]);
    benchFile = path.join(dir, files[0]);
    saved = JSON.parse(readFileSync(benchFile, "utf8"));
    expect(Object.keys(JSON.parse(readFileSync(path.join(dir, "all.json"), "utf8")).runs[0].figures.http)).toEqual([
      "a",
      "aGet",
      "b",
      "c",
      "d",
      "e",
    ]);

    const { http, drain } = saved.figures;
    expect(Object.keys(http)).toEqual(["a", "aGet", "b", "c", "d", "e"]);
    for (const target of Object.values(http)) expect(target.cpuMicrosPerRequest.service).toBeGreaterThan(0);
    // The service is measured whole: the cluster primary, one HTTP worker, the order writer.
    expect(http.c.processes).toBe(3);
    expect(Object.keys(http.c.serviceByRole).sort()).toEqual(["http", "order-writer", "primary"]);
    expect(http.c.serviceByRole.http).toBeGreaterThan(0);
    expect(Object.values(http.c.serviceByRole).reduce((sum, micros) => sum + micros, 0)).toBeCloseTo(http.c.cpuMicrosPerRequest.service, 6);
    expect(http.a.processes).toBe(1);
    expect(http.c.cpuMicrosPerRequest.redis).toBeGreaterThan(0);
    // Batched: at most one script call per order; one HSETNX per buyer (orders at the window's edges may fall either side).
    const { evalsha, hsetnx } = http.c.cpuMicrosPerRequest.redisCommands;
    expect(evalsha.calls).toBeGreaterThan(0);
    expect(evalsha.calls).toBeLessThanOrEqual(1);
    expect(evalsha.micros).toBeGreaterThan(hsetnx.micros);
    expect(hsetnx.calls).toBeGreaterThan(0.9);
    expect(hsetnx.calls).toBeLessThan(1.1);
    expect(drain.cpuMicrosPerOrder.mysql).toBeGreaterThan(0);
    // The reference gets the order's very request, and the ratio is CPU against CPU.
    expect(http.a.request).toBe(http.c.request);
    expect(http.a.request).toBe("POST, authorization: Bearer <token>, content-length: 0");
    expect(http.c.cpuRatio).toBeCloseTo(http.a.cpuMicrosPerRequest.service / http.c.cpuMicrosPerRequest.service, 10);
    expect(http.e.cpuRatio).toBeCloseTo(http.aGet.cpuMicrosPerRequest.service / http.e.cpuMicrosPerRequest.service, 10);
    // Each of the cluster's three shards counted apart; their sum is the Redis figure, the busiest their maximum.
    expect(Object.keys(saved.figures.cluster)).toEqual(["oneBucket", "eightBuckets"]);
    for (const { cpuMicrosPerRequest: cpu } of Object.values(saved.figures.cluster)) {
      expect(cpu.redisShards).toHaveLength(3);
      expect(cpu.redisShards.reduce((sum, micros) => sum + micros, 0)).toBeCloseTo(cpu.redis, 6);
      expect(cpu.redisBusiestShard).toBe(Math.max(...cpu.redisShards));
    }
    expect(saved.perOrder).toEqual({
      serviceMicros: http.c.cpuMicrosPerRequest.service,
      redisMicros: http.c.cpuMicrosPerRequest.redis,
      mysqlMicros: http.c.cpuMicrosPerRequest.mysql,
    });
  }, 300_000);

  test("the capacity model reads that file", async () => {
    const run = await runTool("capacity", ["prod", "--bench", benchFile, "--target", "100000"]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain(`per order, from ${benchFile} (${saved.node}`);
    expect(run.stdout).toMatch(/^bottleneck: (alb|fleet|tair|polardb) at [\d,]+ orders\/s$/m);
    expect(run.code).toBe(0);
  });

  test("the capacity model names a missing environment or bench file (exit code 2)", async () => {
    const noEnv = await runTool("capacity", ["staging", "--bench", benchFile]);
    expect(noEnv).toMatchObject({
      code: 2,
      stderr: 'error: no environment "staging": envs/staging.tfvars does not exist (environments: dev, prod)\n',
    });
    const noFile = await runTool("capacity", ["prod", "--bench", path.join(dir, "missing.json")]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain(`bench file ${path.join(dir, "missing.json")} does not exist`);
  });
});

describe("npm run bench, interrupted", () => {
  test("Ctrl-C stops every server and service it started, and exits 130", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bench-interrupted-"));
    try {
      const bench = startTool("bench", [...TINY, "--skip-cluster", "--out-dir", dir]);
      // By then its redis-server and mariadbd run, and the service with its workers.
      await waitUntil(() => bench.output().stderr.includes("round 1: (c)"), "the bench to reach the service", 120_000);
      const started = processTree(bench.child.pid!, readAllProcStats()).filter(({ pid }) => pid !== bench.child.pid);
      expect(started.map(({ command }) => command)).toEqual(expect.arrayContaining(["redis-server", "mariadbd"]));
      expect(started.length).toBeGreaterThanOrEqual(5);

      bench.child.kill("SIGINT");
      const run = await bench.finished;
      expect(run.code).toBe(130);
      expect(run.stderr).toContain("SIGINT: cleaning up");
      const stillRunning = () => {
        const now = readAllProcStats();
        return started.filter((one) => now.some(({ pid, startTicks }) => pid === one.pid && startTicks === one.startTicks));
      };
      await waitUntil(() => stillRunning().length === 0, "everything the bench started to end", 30_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
