/**
 * What a synthesized stack costs per hour while it runs: an ESTIMATE, for `npm run preflight`. Pay-as-you-go list
 * prices move and differ by region; the Billing console (filter by the Project and Environment tags) has the real
 * figures, and the pricing calculator the real quote. Outside the estimate: traffic, ALB LCUs beyond the instance fee,
 * disks, OSS, and anything billed per request.
 *
 * Where each rate comes from (PRICE_TABLE.basis says it per row):
 * - ECS: Alibaba Cloud's per-vCPU and per-GiB pay-as-you-go list price of elastic container instances (ECI billing
 *   page, "按vCPU和内存": 0.000049 CNY/vCPU/s, 0.00000613 CNY/GiB/s), standing in for the ECS instance types, which
 *   bill per type.
 * - The data stores and the ALB: shares we assigned to the one published figure for this architecture, the vendor's
 *   flash-sale solution page's "about 6 CNY per hour" for its suggested sizes (2 × ecs.c7.large, Tair 2 GB, PolarDB
 *   2c4g, MSE developer edition, RocketMQ standard, ALB), scaled by size (GiB, vCPUs, nodes). Not checked against the
 *   price list: the test pins only that the suggested sizes add up to about 6 CNY/h.
 * - NAT gateway and EIP: our assumption (the reference bundle has none).
 */
import { resourcesOfType, singleBlock, type TerraformBlock, type TerraformJson } from "../../contract/terraform-json";

export const PRICE_TABLE = {
  label: "estimate",
  asOf: "2026-12-07",
  currency: "CNY",
  region: "cn-hangzhou",
  source:
    "ECI per-vCPU/GiB list price for ECS; shares of the vendor's ~6 CNY/h flash-sale reference bundle for the rest (scripts/lib/price-table.ts)",
  rates: {
    ecsPerVcpuHour: { value: 0.1764, basis: "ECI list price, 0.000049 CNY/vCPU/s" },
    ecsPerGibHour: { value: 0.0221, basis: "ECI list price, 0.00000613 CNY/GiB/s" },
    albStandardHour: { value: 0.7, basis: "share of the reference bundle" },
    tairPerGibHour: { value: 0.4, basis: "share of the reference bundle (Tair 2 GB)" },
    polardbPerNodeVcpuHour: { value: 0.5, basis: "share of the reference bundle (PolarDB 2c4g, 2 nodes)" },
    msePerNodeCoreHour: { value: 0.5, basis: "share of the reference bundle (MSE developer, 1 core)" },
    rocketmqHour: {
      value: { "rmq.s1.micro": 1.0, "rmq.s2.2xlarge": 6.0 } as Readonly<Record<string, number>>,
      basis: "share of the reference bundle (RocketMQ standard micro); 2xlarge scaled by its TPS",
    },
    natGatewayHour: { value: 0.3, basis: "our assumption, not in the reference bundle (enhanced NAT instance fee)" },
    eipHour: { value: 0.02, basis: "our assumption, not in the reference bundle (EIP held; traffic not counted)" },
  },
} as const;

/** vCPUs and GiB of an ECS type: the size names the vCPUs, the family letter the GiB per vCPU (c 2, g 4, r 8). */
function ecsShape(instanceType: string): { vcpus: number; gib: number } | undefined {
  const match = /^ecs\.([cgr])[0-9a-z]*\.(\d*)(large|xlarge)$/.exec(instanceType);
  if (!match) return undefined;
  const vcpus = match[3] === "large" ? 2 : 4 * Number(match[2] || 1);
  return { vcpus, gib: vcpus * { c: 2, g: 4, r: 8 }[match[1] as "c" | "g" | "r"] };
}

/** PolarDB node vCPUs by the class's size word (polar.mysql.x4.large: 4). */
function polardbVcpus(nodeClass: string): number | undefined {
  const size = nodeClass.split(".").pop() ?? "";
  return { medium: 2, large: 4, xlarge: 8, "2xlarge": 16, "4xlarge": 32, "8xlarge": 64 }[size];
}

export interface CostLine {
  readonly item: string;
  /** CNY per hour, or undefined when the table has no rate for it. */
  readonly perHour?: number;
}

/** The hourly cost lines of a synthesized stack with `instances` app instances running. */
export function costLines(json: TerraformJson, instances: number): CostLine[] {
  const { rates } = PRICE_TABLE;
  const lines: CostLine[] = [];
  const launch = resourcesOfType(json, "alicloud_ess_scaling_configuration")[0];
  // The group launches the first type it can: the estimate takes that one.
  const instanceType = String((launch?.instance_types as string[] | undefined)?.[0] ?? "");
  const shape = ecsShape(instanceType);
  lines.push({
    item: `${instances} × ${instanceType}`,
    perHour: shape && instances * (shape.vcpus * rates.ecsPerVcpuHour.value + shape.gib * rates.ecsPerGibHour.value),
  });
  for (const alb of resourcesOfType(json, "alicloud_alb_load_balancer")) {
    lines.push({ item: `ALB ${alb.load_balancer_edition}`, perHour: rates.albStandardHour.value });
  }
  for (const tair of resourcesOfType(json, "alicloud_redis_tair_instance")) {
    const gib = Number(/\.(\d+)g$/.exec(String(tair.instance_class))?.[1]);
    lines.push({
      item: `Tair ${tair.instance_class} × ${tair.shard_count} shard(s)`,
      perHour: Number.isFinite(gib) ? gib * Number(tair.shard_count) * rates.tairPerGibHour.value : undefined,
    });
  }
  for (const polardb of resourcesOfType(json, "alicloud_polardb_cluster")) {
    const vcpus = polardbVcpus(String(polardb.db_node_class));
    const nodes = Number(polardb.db_node_count);
    lines.push({
      item: `PolarDB ${nodes} × ${polardb.db_node_class}`,
      perHour: vcpus && nodes * vcpus * rates.polardbPerNodeVcpuHour.value,
    });
  }
  for (const rocketmq of resourcesOfType(json, "alicloud_rocketmq_instance")) {
    const spec = String((singleBlock(rocketmq.product_info) as TerraformBlock | undefined)?.msg_process_spec);
    lines.push({ item: `RocketMQ ${spec}`, perHour: rates.rocketmqHour.value[spec] });
  }
  for (const mse of resourcesOfType(json, "alicloud_mse_cluster")) {
    const cores = Number(/^MSE_SC_(\d+)_/.exec(String(mse.cluster_specification))?.[1]);
    lines.push({
      item: `MSE ${mse.instance_count} × ${mse.cluster_specification}`,
      perHour: Number.isFinite(cores) ? Number(mse.instance_count) * cores * rates.msePerNodeCoreHour.value : undefined,
    });
  }
  if (resourcesOfType(json, "alicloud_nat_gateway").length > 0) {
    lines.push({ item: "NAT gateway + EIP", perHour: rates.natGatewayHour.value + rates.eipHour.value });
  }
  return lines;
}

/** The sum of the priced lines, and the items the table has no rate for. */
export function hourlyCost(json: TerraformJson, instances: number): { total: number; unpriced: string[] } {
  const lines = costLines(json, instances);
  return {
    total: lines.reduce((sum, line) => sum + (line.perHour ?? 0), 0),
    unpriced: lines.filter((line) => line.perHour === undefined).map((line) => line.item),
  };
}
