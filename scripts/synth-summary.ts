/**
 * After `cdktf synth`: where each stack's Terraform JSON went and what it declares (counts by tier and type, and
 * the sizes that matter on sale day), read back from cdktf.out — the files Terraform will actually apply.
 *
 * Then the newest Alibaba Cloud Linux 3 system image of each region next to the one each stack pins, when
 * ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY let it ask ECS (bumping image_id stays a reviewed one-line change).
 *
 * Usage: node dist/synth/scripts/synth-summary.js [cdktf.out]
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  constructPath,
  resourcesOfType,
  singleBlock,
  type BlocksByType,
  type TerraformBlock,
  type TerraformJson,
} from "../contract/terraform-json";
import { SYSTEM_IMAGE_ID } from "../stacks/config";
import { accessKeyFromEnvironment, ecsEndpoint, imageBuildDate, newestSystemImage } from "./lib/ecs-images";

/** The first construct below the stack (network, ingress, compute, ...), from cdktf's metadata path. */
function tierOf(block: TerraformBlock): string {
  return (constructPath(block) ?? "?").split("/")[1] ?? "?";
}

function single(block: unknown): TerraformBlock {
  return singleBlock(block) ?? {};
}

function countsByTier(json: TerraformJson): string[] {
  const tiers = new Map<string, Map<string, number>>();
  for (const [kind, blocks] of [
    ["", json.resource],
    ["data.", json.data],
  ] as const) {
    for (const [type, byName] of Object.entries(blocks ?? {})) {
      for (const block of Object.values(byName)) {
        const types = tiers.get(tierOf(block)) ?? new Map<string, number>();
        const shortType = kind + type.replace(/^alicloud_/, "");
        types.set(shortType, (types.get(shortType) ?? 0) + 1);
        tiers.set(tierOf(block), types);
      }
    }
  }
  return [...tiers.entries()].map(([tier, types]) => {
    const total = [...types.values()].reduce((sum, count) => sum + count, 0);
    const detail = [...types.entries()].map(([type, count]) => `${type} ${count}`).join(", ");
    return `  ${tier.padEnd(18)} ${String(total).padStart(3)}  ${detail}`;
  });
}

function sizes(json: TerraformJson): string[] {
  const lines: string[] = [];
  const line = (label: string, text: string) => lines.push(`  ${label.padEnd(10)} ${text}`);

  for (const alb of resourcesOfType(json, "alicloud_alb_load_balancer")) {
    const listeners = resourcesOfType(json, "alicloud_alb_listener").map(
      (listener) => `${listener.listener_protocol}:${listener.listener_port}`,
    );
    line(
      "ALB",
      `${alb.load_balancer_edition}, ${listeners.join(" + ")}, deletion protection ${alb.deletion_protection_enabled === true ? "on" : "off"}`,
    );
  }
  const limits = resourcesOfType(json, "alicloud_alb_rule").flatMap((rule) =>
    (rule.rule_actions as TerraformBlock[])
      .filter((action) => action.type === "TrafficLimit")
      .map(
        (action) =>
          `${rule.rule_name} ${single(action.traffic_limit_config).qps} qps (${single(action.traffic_limit_config).per_ip_qps}/IP)`,
      ),
  );
  if (limits.length > 0) line("Limits", limits.join("; "));
  const pageObjects = resourcesOfType(json, "alicloud_oss_bucket_object").filter((object) => tierOf(object) === "sale-page").length;
  if (pageObjects > 0) {
    const cdn = resourcesOfType(json, "alicloud_cdn_domain_new")[0];
    const corsOrigins = new Set(
      resourcesOfType(json, "alicloud_alb_rule").flatMap((rule) =>
        (rule.rule_actions as TerraformBlock[])
          .filter((action) => action.type === "Cors")
          .flatMap((action) => single(action.cors_config).allow_origin as string[]),
      ),
    );
    const cors = corsOrigins.size > 0 ? `, API CORS for ${[...corsOrigins].join(", ")}` : "";
    line(
      "Page",
      cdn
        ? `${pageObjects} objects, CDN ${cdn.domain_name} (${cdn.scope}, ${cdn.certificate_config ? "HTTPS" : "HTTP"})${cors}`
        : `${pageObjects} objects in a private bucket, not published (no sale_page_record_name)`,
    );
  }
  for (const group of resourcesOfType(json, "alicloud_ess_scaling_group")) {
    const launch = resourcesOfType(json, "alicloud_ess_scaling_configuration")[0] ?? {};
    const rule = resourcesOfType(json, "alicloud_ess_scaling_rule")[0];
    const tracking = rule ? `, tracks ${rule.metric_name} ${rule.target_value}` : "";
    line(
      "Fleet",
      `${(launch.instance_types ?? []).join("|")}, min ${group.min_size} / desired ${group.desired_capacity} / max ${group.max_size}${tracking}`,
    );
  }
  const nat = resourcesOfType(json, "alicloud_nat_gateway")[0];
  const eip = resourcesOfType(json, "alicloud_eip_address")[0];
  line("Egress", nat ? `NAT gateway, EIP capped at ${eip?.bandwidth} Mbit/s` : "none: instances reach only the VPC (nat_gateway = false)");
  for (const launch of resourcesOfType(json, "alicloud_ess_scaling_configuration")) {
    const built = imageBuildDate(String(launch.image_id));
    line("Image", `${launch.image_id} (pinned in tfvars${built ? `, built ${built.toISOString().slice(0, 10)}` : ""})`);
  }
  const tasks = resourcesOfType(json, "alicloud_ess_scheduled_task").map(
    (task) => `${task.launch_time} ${String(task.scheduled_task_name).split("-").slice(2).join("-")} → ${task.desired_capacity}`,
  );
  line("Sales", tasks.length > 0 ? tasks.join("; ") : "no scheduled pre-warm (no sale window ahead)");
  for (const tair of resourcesOfType(json, "alicloud_redis_tair_instance")) {
    line(
      "Tair",
      `${tair.instance_class} × ${tair.shard_count} shard(s), ${tair.payment_type}, ${tair.zone_id} + ${tair.secondary_zone_id}`,
    );
  }
  for (const polardb of resourcesOfType(json, "alicloud_polardb_cluster")) {
    line(
      "PolarDB",
      `${polardb.db_node_class} × ${polardb.db_node_count} nodes, ${polardb.pay_type}, hot standby ${polardb.hot_standby_cluster}, deletion lock ${polardb.deletion_lock}`,
    );
  }
  for (const rocketmq of resourcesOfType(json, "alicloud_rocketmq_instance")) {
    line("RocketMQ", `${rocketmq.series_code}/${rocketmq.sub_series_code} ${single(rocketmq.product_info).msg_process_spec}`);
  }
  for (const mse of resourcesOfType(json, "alicloud_mse_cluster")) {
    line("Nacos", `${mse.mse_version} ${mse.cluster_specification} × ${mse.instance_count}`);
  }
  const [backend, settings] = Object.entries(json.terraform?.backend ?? { local: {} })[0];
  line("State", backend === "oss" ? `oss://${settings.bucket}/${settings.prefix}` : `${backend} ${settings.path ?? ""}`.trim());
  return lines;
}

/** The summary of one synthesized stack (its cdk.tf.json). */
export function summarizeStack(file: string): string {
  const json = JSON.parse(readFileSync(file, "utf8")) as TerraformJson;
  const count = (blocks?: BlocksByType) => Object.values(blocks ?? {}).reduce((sum, byName) => sum + Object.keys(byName).length, 0);
  const sensitive = Object.values(json.output ?? {}).filter((output) => output.sensitive).length;
  return [
    `${path.basename(path.dirname(file))}  →  ${path.relative(process.cwd(), file)}`,
    `  ${count(json.resource)} resources, ${count(json.data)} data sources, ${Object.keys(json.output ?? {}).length} outputs (${sensitive} sensitive), ${Object.keys(json.variable ?? {}).length} variables`,
    ...countsByTier(json),
    ...sizes(json),
  ].join("\n");
}

/** The newest system image of each region the stacks run in, next to the images they pin; one line per region. */
export async function newestImageLines(files: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const pinnedByRegion = new Map<string, string[]>();
  for (const file of files) {
    const json = JSON.parse(readFileSync(file, "utf8")) as TerraformJson;
    const region = String(single(json.provider?.alicloud).region);
    const pinned = resourcesOfType(json, "alicloud_ess_scaling_configuration").map(
      (launch) => `${path.basename(path.dirname(file))} pins ${launch.image_id}`,
    );
    pinnedByRegion.set(region, [...(pinnedByRegion.get(region) ?? []), ...pinned]);
  }
  const accessKey = accessKeyFromEnvironment(env);
  if (!accessKey) {
    return ["Newest system image: not looked up (offline: set ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY to ask ECS)"];
  }
  return Promise.all(
    [...pinnedByRegion].map(async ([region, pinned]) => {
      try {
        const newest = await newestSystemImage({ endpoint: ecsEndpoint(region), region, accessKey, idPattern: SYSTEM_IMAGE_ID });
        const found = newest ? `${newest.imageId} (${newest.creationTime})` : "none matches";
        return `Newest system image in ${region}: ${found}; ${pinned.join(", ")}`;
      } catch (error) {
        return `Newest system image in ${region}: not looked up (${(error as Error).message})`;
      }
    }),
  );
}

async function main(): Promise<void> {
  const outdir = process.argv[2] ?? "cdktf.out";
  const stacksDir = path.join(outdir, "stacks");
  const files = existsSync(stacksDir)
    ? readdirSync(stacksDir)
        .sort()
        .map((stack) => path.join(stacksDir, stack, "cdk.tf.json"))
        .filter((file) => existsSync(file))
    : [];
  if (files.length === 0) {
    console.error(`${stacksDir}: no synthesized stacks (run cdktf synth first)`);
    process.exitCode = 1;
    return;
  }
  console.log(files.map(summarizeStack).join("\n\n"));
  console.log(`\n${(await newestImageLines(files)).join("\n")}`);
}

if (require.main === module) void main();
