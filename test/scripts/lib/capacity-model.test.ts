import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../../../scripts/lib/cli";
import {
  capacityChain,
  capacityInputs,
  changesFor,
  formatCapacity,
  instanceTypeVcpus,
  type CapacityInputs,
} from "../../../scripts/lib/capacity-model";
import { capacityReport } from "../../../scripts/lib/capacity-report";
import { loadEnvConfig } from "../../../stacks/config";

const inputs: CapacityInputs = {
  env: "test",
  orderRateLimitQps: 20_000,
  instances: 10,
  instancesSource: "sale window big",
  maxInstances: 12,
  instanceTypes: ["ecs.c7.xlarge", "ecs.c6.large"],
  tairShards: 4,
  polardbNodeClass: "polar.mysql.x4.large",
};
// Round figures: 100 µs → 10,000 orders per vCPU-second, 20 µs → 50,000 per shard-second, 50 µs → 20,000 per core-second.
const perOrder = { serviceMicros: 100, redisMicros: 20, mysqlMicros: 50 };
const ordersPerSecond = (chain: ReturnType<typeof capacityChain>) =>
  Object.fromEntries(chain.links.map((l) => [l.name, l.ordersPerSecond]));

describe("the capacity chain", () => {
  it("multiplies each link out: fleet at the smallest type's vCPUs, Tair on min(buckets, shards), PolarDB on the primary's cores", () => {
    const chain = capacityChain(inputs, perOrder, 1);
    expect(chain.vcpusPerInstance).toBe(2);
    expect(chain.shardsUsed).toBe(1);
    expect(ordersPerSecond(chain)).toEqual({ alb: 20_000, fleet: 10 * 2 * 10_000, tair: 50_000, polardb: 4 * 20_000 });
    expect(chain.bottleneck.name).toBe("alb");
  });

  it("spreads a sale over as many shards as it has buckets, up to the shard count", () => {
    expect(capacityChain(inputs, perOrder, 3).links.find((l) => l.name === "tair")!.ordersPerSecond).toBe(150_000);
    expect(capacityChain(inputs, perOrder, 64).links.find((l) => l.name === "tair")!.ordersPerSecond).toBe(200_000);
  });

  it("picks the lowest link as the bottleneck", () => {
    expect(capacityChain({ ...inputs, orderRateLimitQps: 100_000 }, perOrder, 1).bottleneck.name).toBe("tair");
    expect(capacityChain({ ...inputs, orderRateLimitQps: 100_000, instances: 1 }, perOrder, 1).bottleneck.name).toBe("fleet");
    expect(
      capacityChain({ ...inputs, orderRateLimitQps: 100_000, polardbNodeClass: "polar.mysql.x4.medium" }, perOrder, 8).bottleneck.name,
    ).toBe("polardb");
  });

  it("says what to change, link by link, for a target", () => {
    const chain = capacityChain(inputs, perOrder, 1);
    expect(changesFor(chain, 10_000)).toEqual([]);
    expect(changesFor(chain, 90_000)).toEqual([
      "ALB: order_rate_limit_qps = 90,000 (now 20,000)",
      "Tair: the sale's stockBuckets ≥ 2 (now 1), on the 4 shards there are",
      'PolarDB: polardb_node_class = "polar.mysql.x4.xlarge" (5 cores needed; now polar.mysql.x4.large, 4)',
    ]);
    expect(changesFor(capacityChain({ ...inputs, tairShards: 1 }, perOrder, 1), 90_000)).toContain(
      "Tair: 2 shards: tair_shard_count ≥ 2 (now 1; a standard instance cannot become a cluster: a new instance) and the sale's stockBuckets ≥ 2 (now 1)",
    );
    expect(changesFor(chain, 250_000)).toEqual(
      expect.arrayContaining([
        "ALB: 250,000 orders/s is above the largest order_rate_limit_qps (100,000): one listener rule cannot admit it",
        "fleet: pre-warm 13 instances of 2 vCPUs (sale window instances, now 10) and max_instances ≥ 13 (now 12), or larger instance types",
      ]),
    );
    expect(changesFor(capacityChain(inputs, { ...perOrder, redisMicros: 1000 }, 1), 40_000)).toContain(
      "Tair: 40 shards needed, above the 32 tair_shard_count allows: one sale cannot take 40,000 orders/s",
    );
  });

  it("refuses buckets outside 1-64, and types or classes it has no figures for", () => {
    expect(() => capacityChain(inputs, perOrder, 65)).toThrow("buckets must be a whole number from 1 to 64, got 65");
    expect(() => capacityChain({ ...inputs, instanceTypes: ["ecs.t6-c1m1.large"] }, perOrder, 1)).toThrow(
      "ecs.t6-c1m1.large: vCPUs unknown to the capacity model",
    );
    expect(() => capacityChain({ ...inputs, polardbNodeClass: "polar.mysql.x9.huge" }, perOrder, 1)).toThrow(UsageError);
  });

  it("knows the vCPUs of the ECS sizes: large 2, xlarge 4, <n>xlarge 4n", () => {
    expect(["ecs.c7.large", "ecs.g7.xlarge", "ecs.c7a.2xlarge", "ecs.r7.8xlarge"].map(instanceTypeVcpus)).toEqual([2, 4, 8, 32]);
    expect(() => instanceTypeVcpus("ecs.c7.medium")).toThrow(UsageError);
  });

  it("prints every link, the bottleneck, the rows PolarDB takes and the changes for a target", () => {
    const text = formatCapacity(
      capacityChain(inputs, perOrder, 1),
      { file: "b.json", node: "Node v24.21.0", date: "2026-12-07T18:00:00Z" },
      90_000,
    );
    expect(text).toContain("per order, from b.json (Node v24.21.0, 2026-12-07): service 100.0 µs CPU, Redis 20.0 µs, MariaDB 50.0 µs");
    expect(text).toMatch(/^ {2}200,000 {2}fleet: 10 instances \(sale window big\) × 2 vCPUs/m);
    expect(text).toContain("bottleneck: alb at 20,000 orders/s");
    expect(text).toContain("20,000 rows/s at the bottleneck, 90,000 at the target");
    expect(text).toContain("target 90,000 orders/s: change\n  - ALB: order_rate_limit_qps = 90,000");
  });
});

describe("on the real environments", () => {
  let dir: string;
  let benchFile: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "capacity-"));
    benchFile = path.join(dir, "2026-12-07T18-00-00Z-node24.json");
    writeFileSync(benchFile, JSON.stringify({ date: "2026-12-07T18:00:00Z", node: "Node v24.21.0", perOrder }));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes prod's fleet from its largest sale window and its limits from its tfvars", async () => {
    const prod = capacityInputs(await loadEnvConfig("envs/prod.tfvars"));
    expect(prod).toMatchObject({ orderRateLimitQps: 20_000, instances: 24, instancesSource: "sale window double12", tairShards: 1 });
    expect(capacityChain(prod, perOrder, 1).vcpusPerInstance).toBe(4);
  });

  it("sizes the fleet by a named sale window, and names one the file lacks", async () => {
    const prod = await loadEnvConfig("envs/prod.tfvars");
    expect(capacityInputs(prod, "newyear")).toMatchObject({ instances: 16, instancesSource: "sale window newyear" });
    expect(() => capacityInputs(prod, "618")).toThrow('envs/prod.tfvars has no sale window "618" (windows: double12, newyear)');
  });

  it.each(["dev", "prod"])("reports %s's chain", async (env) => {
    const text = await capacityReport({ env, benchFile, target: 50_000 });
    expect(text).toContain(`Capacity of ${env} for one hot sale`);
    expect(text).toMatch(/^bottleneck: (alb|fleet|tair|polardb) at [\d,]+ orders\/s$/m);
    expect(text).toContain("target 50,000 orders/s");
  });

  it("names a missing environment and a missing bench file", async () => {
    await expect(capacityReport({ env: "nope", benchFile })).rejects.toThrow(
      'no environment "nope": envs/nope.tfvars does not exist (environments: dev, prod)',
    );
    await expect(capacityReport({ env: "prod", benchFile: path.join(dir, "gone.json") })).rejects.toThrow(
      `bench file ${path.join(dir, "gone.json")} does not exist`,
    );
  });
});
