/**
 * The capacity model behind `npm run capacity`: how many orders per second one hot sale can take in an environment,
 * link by link (ALB limit → fleet CPU → Tair shards → PolarDB primary), from its tfvars and from what one order cost
 * in CPU on the bench (scripts/bench.ts). Every link is a ceiling at 100 % CPU; the chain takes the lowest.
 */
import type { EnvConfig } from "../../stacks/config";
import type { PerOrderCpu } from "./bench-results";
import { UsageError } from "./cli";

/** Most stock buckets a sale takes (POST /admin/sales "stockBuckets"). */
export const MAX_STOCK_BUCKETS = 64;

/**
 * vCPUs of the x86 enterprise ECS families the envs use, by size: in these families `large` is 2 vCPUs, `xlarge` 4
 * and `<n>xlarge` 4n (each vCPU a hyperthread). Source: Alibaba Cloud ECS, "Overview of instance families"
 * (https://www.alibabacloud.com/help/en/ecs/user-guide/overview-of-instance-families), the tables of the c6, c7, c7a,
 * g6, g7, g7a, r6 and r7 families; "Classification and naming of instance types" for vCPU = hyperthread.
 */
const SIZED_FAMILIES = ["c6", "c7", "c7a", "g6", "g7", "g7a", "r6", "r7"];
const VCPUS_BY_SIZE: Readonly<Record<string, number>> = { large: 2, xlarge: 4 };

/** vCPUs of an ECS instance type, or a UsageError naming it when it is not in the table above. */
export function instanceTypeVcpus(instanceType: string): number {
  const match = /^ecs\.([a-z0-9-]+)\.([a-z0-9]+)$/.exec(instanceType);
  const multiple = /^(\d+)xlarge$/.exec(match?.[2] ?? "");
  const vcpus = VCPUS_BY_SIZE[match?.[2] ?? ""] ?? (multiple ? 4 * Number(multiple[1]) : undefined);
  if (match === null || !SIZED_FAMILIES.includes(match[1]) || vcpus === undefined) {
    throw new UsageError(
      `${instanceType}: vCPUs unknown to the capacity model (families ${SIZED_FAMILIES.join(", ")}, sizes large, xlarge, <n>xlarge); ` +
        "add its family to scripts/lib/capacity-model.ts from the ECS instance family tables",
    );
  }
  return vcpus;
}

/**
 * CPU cores of PolarDB for MySQL Cluster Edition node classes. Source: Alibaba Cloud PolarDB for MySQL, "Compute
 * node specifications of Enterprise Edition" (https://www.alibabacloud.com/help/en/polardb/polardb-for-mysql/specifications-of-compute-nodes),
 * Dedicated (x4, x8) and General-purpose (g2) tables.
 */
const POLARDB_CORES: Readonly<Record<string, number>> = {
  "polar.mysql.g2.medium": 2,
  "polar.mysql.x4.medium": 2,
  "polar.mysql.x8.medium": 2,
  "polar.mysql.x4.large": 4,
  "polar.mysql.x8.large": 4,
  "polar.mysql.x4.xlarge": 8,
  "polar.mysql.x8.xlarge": 8,
  "polar.mysql.x4.2xlarge": 16,
  "polar.mysql.x8.2xlarge": 16,
  "polar.mysql.x4.4xlarge": 32,
  "polar.mysql.x8.4xlarge": 32,
  "polar.mysql.x8.8xlarge": 64,
};

/** The environment as the model sees it: only what limits one sale's orders per second. */
export interface CapacityInputs {
  readonly env: string;
  readonly orderRateLimitQps: number;
  readonly instances: number;
  /** Where `instances` comes from: the largest sale window's pre-warm, or desired_instances without one. */
  readonly instancesSource: string;
  readonly maxInstances: number;
  readonly instanceTypes: readonly string[];
  readonly tairShards: number;
  readonly polardbNodeClass: string;
}

/**
 * The fleet at a sale window's pre-warmed size: the named window, else the largest in the file (over or not, so the
 * figure depends on the file alone), else desired_instances when the file has none.
 */
export function capacityInputs(config: EnvConfig, windowName?: string): CapacityInputs {
  const windows = config.compute.saleWindows;
  const window =
    windowName === undefined ? [...windows].sort((a, b) => b.instances - a.instances)[0] : windows.find((w) => w.name === windowName);
  if (windowName !== undefined && window === undefined) {
    const names = windows.map((w) => w.name).join(", ");
    throw new UsageError(`${config.sourceFile} has no sale window "${windowName}" (${names ? `windows: ${names}` : "it has none"})`);
  }
  return {
    env: config.envName,
    orderRateLimitQps: config.ingress.orderRateLimit.qps,
    instances: window?.instances ?? config.compute.desiredInstances,
    instancesSource: window ? `sale window ${window.name}` : "desired_instances, no sale window",
    maxInstances: config.compute.maxInstances,
    instanceTypes: config.compute.instanceTypes,
    tairShards: config.cache.shardCount,
    polardbNodeClass: config.database.nodeClass,
  };
}

export type LinkName = "alb" | "fleet" | "tair" | "polardb";

export interface Link {
  readonly name: LinkName;
  /** Orders per second this link takes at most. */
  readonly ordersPerSecond: number;
  /** How that figure is made, for the operator. */
  readonly explanation: string;
}

export interface CapacityChain {
  readonly inputs: CapacityInputs;
  readonly perOrder: PerOrderCpu;
  readonly buckets: number;
  readonly vcpusPerInstance: number;
  readonly ordersPerVcpuSecond: number;
  readonly ordersPerShardSecond: number;
  /** Shards one sale's orders run on: min(buckets, shards). */
  readonly shardsUsed: number;
  readonly polardbCores: number;
  readonly ordersPerPolardbCoreSecond: number;
  readonly links: readonly Link[];
  readonly bottleneck: Link;
}

const count = (value: number) => Math.floor(value).toLocaleString("en");

/** The chain for one sale with `buckets` stock buckets. */
export function capacityChain(inputs: CapacityInputs, perOrder: PerOrderCpu, buckets: number): CapacityChain {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_STOCK_BUCKETS) {
    throw new UsageError(`buckets must be a whole number from 1 to ${MAX_STOCK_BUCKETS}, got ${buckets}`);
  }
  // A type tried when the first is out of stock may be smaller: count the fleet at the smallest.
  const vcpus = Math.min(...inputs.instanceTypes.map(instanceTypeVcpus));
  const polardbCores = POLARDB_CORES[inputs.polardbNodeClass];
  if (polardbCores === undefined) {
    throw new UsageError(
      `${inputs.polardbNodeClass}: cores unknown to the capacity model; add the class to scripts/lib/capacity-model.ts from PolarDB's node specifications`,
    );
  }
  const ordersPerVcpuSecond = 1e6 / perOrder.serviceMicros;
  const ordersPerShardSecond = 1e6 / perOrder.redisMicros;
  const ordersPerPolardbCoreSecond = perOrder.mysqlMicros > 0 ? 1e6 / perOrder.mysqlMicros : Infinity;
  const shardsUsed = Math.min(buckets, inputs.tairShards);
  const links: Link[] = [
    {
      name: "alb",
      ordersPerSecond: inputs.orderRateLimitQps,
      explanation: `ALB order limit: order_rate_limit_qps = ${count(inputs.orderRateLimitQps)}`,
    },
    {
      name: "fleet",
      ordersPerSecond: inputs.instances * vcpus * ordersPerVcpuSecond,
      explanation:
        `fleet: ${inputs.instances} instances (${inputs.instancesSource}) × ${vcpus} vCPUs (smallest of ${inputs.instanceTypes.join(", ")}) ` +
        `× ${count(ordersPerVcpuSecond)} orders per vCPU-second (${perOrder.serviceMicros.toFixed(1)} µs per order)`,
    },
    {
      name: "tair",
      ordersPerSecond: shardsUsed * ordersPerShardSecond,
      explanation:
        `Tair: ${shardsUsed} shard(s) (min of ${buckets} bucket(s), tair_shard_count ${inputs.tairShards}) ` +
        `× ${count(ordersPerShardSecond)} orders per shard-second (${perOrder.redisMicros.toFixed(1)} µs per order)`,
    },
    {
      name: "polardb",
      ordersPerSecond: polardbCores * ordersPerPolardbCoreSecond,
      explanation:
        `PolarDB primary: ${polardbCores} cores (${inputs.polardbNodeClass}) × ${count(ordersPerPolardbCoreSecond)} rows per core-second ` +
        `(${perOrder.mysqlMicros.toFixed(1)} µs per order row, measured on MariaDB)`,
    },
  ];
  const bottleneck = links.reduce((low, link) => (link.ordersPerSecond < low.ordersPerSecond ? link : low));
  return {
    inputs,
    perOrder,
    buckets,
    vcpusPerInstance: vcpus,
    ordersPerVcpuSecond,
    ordersPerShardSecond,
    shardsUsed,
    polardbCores,
    ordersPerPolardbCoreSecond,
    links,
    bottleneck,
  };
}

/** The smallest PolarDB class of the table with at least `cores`, or undefined past the largest. */
function polardbClassWithCores(cores: number): string | undefined {
  return Object.entries(POLARDB_CORES)
    .filter(([name, classCores]) => classCores >= cores && !name.includes(".g2."))
    .sort(([, a], [, b]) => a - b)[0]?.[0];
}

/** What to change so the chain takes `target` orders per second: one line per link short of it. */
export function changesFor(chain: CapacityChain, target: number): string[] {
  const { inputs } = chain;
  const changes: string[] = [];
  for (const link of chain.links) {
    if (link.ordersPerSecond >= target) continue;
    switch (link.name) {
      case "alb":
        changes.push(
          target > 100_000
            ? `ALB: ${count(target)} orders/s is above the largest order_rate_limit_qps (100,000): one listener rule cannot admit it`
            : `ALB: order_rate_limit_qps = ${count(Math.ceil(target))} (now ${count(inputs.orderRateLimitQps)})`,
        );
        break;
      case "fleet": {
        const instances = Math.ceil(target / (chain.vcpusPerInstance * chain.ordersPerVcpuSecond));
        changes.push(
          `fleet: pre-warm ${instances} instances of ${chain.vcpusPerInstance} vCPUs (sale window instances, now ${inputs.instances})` +
            (instances > inputs.maxInstances ? ` and max_instances ≥ ${instances} (now ${inputs.maxInstances})` : "") +
            ", or larger instance types",
        );
        break;
      }
      case "tair": {
        const shards = Math.ceil(target / chain.ordersPerShardSecond);
        const buckets = `the sale's stockBuckets ≥ ${shards} (now ${chain.buckets})`;
        changes.push(
          shards > 32
            ? `Tair: ${shards} shards needed, above the 32 tair_shard_count allows: one sale cannot take ${count(target)} orders/s`
            : shards <= inputs.tairShards
              ? `Tair: ${buckets}, on the ${inputs.tairShards} shards there are`
              : `Tair: ${shards} shards: tair_shard_count ≥ ${shards} (now ${inputs.tairShards}; ` +
                `${inputs.tairShards === 1 ? "a standard instance cannot become a cluster: a new instance" : "shards are added in place"}) and ${buckets}`,
        );
        break;
      }
      case "polardb": {
        const cores = Math.ceil(target / chain.ordersPerPolardbCoreSecond);
        const nodeClass = polardbClassWithCores(cores);
        changes.push(
          nodeClass
            ? `PolarDB: polardb_node_class = "${nodeClass}" (${cores} cores needed; now ${inputs.polardbNodeClass}, ${chain.polardbCores})`
            : `PolarDB: ${cores} cores needed, more than the largest class in the table`,
        );
        break;
      }
    }
  }
  return changes;
}

/** The report `npm run capacity` prints (and the README shows for prod). */
export function formatCapacity(
  chain: CapacityChain,
  bench: { readonly file: string; readonly node: string; readonly date: string },
  target?: number,
): string {
  const width = Math.max(...chain.links.map((link) => count(link.ordersPerSecond).length));
  const lines = [
    `Capacity of ${chain.inputs.env} for one hot sale, in orders per second (each link at 100 % CPU)`,
    `per order, from ${bench.file} (${bench.node}, ${bench.date.slice(0, 10)}): service ${chain.perOrder.serviceMicros.toFixed(1)} µs CPU, ` +
      `Redis ${chain.perOrder.redisMicros.toFixed(1)} µs, MariaDB ${chain.perOrder.mysqlMicros.toFixed(1)} µs`,
    "",
    ...chain.links.map((link) => `  ${count(link.ordersPerSecond).padStart(width)}  ${link.explanation}`),
    "",
    `bottleneck: ${chain.bottleneck.name} at ${count(chain.bottleneck.ordersPerSecond)} orders/s`,
    `PolarDB: the order writers insert one row per order: ${count(chain.bottleneck.ordersPerSecond)} rows/s at the bottleneck` +
      (target === undefined ? "" : `, ${count(target)} at the target`),
  ];
  if (target !== undefined) {
    const changes = changesFor(chain, target);
    lines.push(
      "",
      changes.length === 0
        ? `target ${count(target)} orders/s: reached as configured`
        : `target ${count(target)} orders/s: change\n${changes.map((change) => `  - ${change}`).join("\n")}`,
    );
  }
  return lines.join("\n");
}
