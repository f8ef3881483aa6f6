/**
 * The rules between keys, as a refinement of the tfvars schema: a broken rule is an issue at the key (or list item)
 * it is about, with what is allowed there as its message, so its problem line reads like any other bad value's.
 */
import { z } from "zod";
import { keyPath } from "../../contract/config-issues";
import { PRIVATE_RANGES, cidrContains, cidrsOverlap, parseCidr } from "../cidr";
import { MAX_SCHEDULE_AHEAD_DAYS, Tfvars, tfvarsSchema, vswitchCidrs } from "./schema";

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MSE_DEVELOPER_SPECIFICATIONS: readonly string[] = ["MSE_SC_1_2_60_c", "MSE_SC_2_4_60_c", "MSE_SC_1_2_200_c", "MSE_SC_2_4_200_c"];

type RuleContext = z.RefinementCtx<Tfvars>;

function networkRules(tfvars: Tfvars, ctx: RuleContext): void {
  // Zone ids extend the region id: "cn-hangzhou-j", "ap-southeast-1a".
  const inRegion = (zone: string) => zone.startsWith(tfvars.region) && /^-?[a-z0-9]+$/.test(zone.slice(tfvars.region.length));
  if (new Set(tfvars.zones).size !== tfvars.zones.length || !tfvars.zones.every(inRegion)) {
    ctx.addIssue({
      code: "custom",
      path: ["zones"],
      message: `distinct zones of region "${tfvars.region}" (such as "${tfvars.region}-j" or "${tfvars.region}a")`,
    });
  }
  const vpc = parseCidr(tfvars.vpc_cidr)!;
  if (!PRIVATE_RANGES.some((range) => cidrContains(range, vpc)) || vpc.prefix > 24) {
    ctx.addIssue({
      code: "custom",
      path: ["vpc_cidr"],
      message: "a private CIDR (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) of prefix /8 to /24",
    });
    return;
  }
  const seen: { path: PropertyKey[]; cidr: string }[] = [];
  const notCarvable: string[] = [];
  for (const [tier, list] of Object.entries(vswitchCidrs(tfvars))) {
    const key = `${tier}_vswitch_cidrs`;
    const defaulted = tfvars[key as keyof Tfvars] === undefined;
    if (list.length !== tfvars.zones.length) {
      ctx.addIssue({ code: "custom", path: [key], message: `one CIDR per zone (${tfvars.zones.length})` });
      continue;
    }
    list.forEach((text, index) => {
      const path = [key, index];
      const parsed = parseCidr(text);
      if (!parsed || parsed.prefix < 16 || parsed.prefix > 29 || !cidrContains(vpc, parsed)) {
        if (defaulted) notCarvable.push(key);
        else ctx.addIssue({ code: "custom", path, message: `a CIDR of prefix /16 to /29 inside vpc_cidr ${tfvars.vpc_cidr}` });
        return;
      }
      const clash = seen.find((other) => cidrsOverlap(parseCidr(other.cidr)!, parsed));
      if (clash) {
        ctx.addIssue({ code: "custom", path, message: `a CIDR that does not overlap ${keyPath(clash.path)} (${clash.cidr})` });
      }
      seen.push({ path, cidr: text });
    });
  }
  if (notCarvable.length > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["vpc_cidr"],
      message: `a VPC of prefix /12 to /21 to carve the default vSwitch CIDRs from, or explicit ${[...new Set(notCarvable)].join(", ")}`,
    });
  }
}

function capacityRules(tfvars: Tfvars, ctx: RuleContext): void {
  if (tfvars.production && tfvars.image_id === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["image_id"],
      message: "an image id set in the file of a production environment (so the image changes only when the file does)",
    });
  }
  if (tfvars.max_instances < tfvars.min_instances) {
    ctx.addIssue({ code: "custom", path: ["max_instances"], message: `at least min_instances (${tfvars.min_instances})` });
  }
  const desired = tfvars.desired_instances;
  if (desired !== undefined && (desired < tfvars.min_instances || desired > tfvars.max_instances)) {
    ctx.addIssue({
      code: "custom",
      path: ["desired_instances"],
      message: `from min_instances (${tfvars.min_instances}) to max_instances (${tfvars.max_instances})`,
    });
  }
  if (tfvars.scaling_metric === "cpu" && tfvars.scaling_target_value !== undefined && tfvars.scaling_target_value > 100) {
    ctx.addIssue({
      code: "custom",
      path: ["scaling_target_value"],
      message: 'a CPU utilization from 1 to 100 (%) with scaling_metric "cpu"',
    });
  }
}

function rateLimitRules(tfvars: Tfvars, ctx: RuleContext): void {
  for (const rule of ["order", "read", "default"] as const) {
    const qps = tfvars[`${rule}_rate_limit_qps`];
    if (tfvars[`${rule}_rate_limit_per_ip_qps`] >= qps) {
      ctx.addIssue({
        code: "custom",
        path: [`${rule}_rate_limit_per_ip_qps`],
        message: `below ${rule}_rate_limit_qps (${qps}); ALB rejects per_ip_qps >= qps`,
      });
    }
  }
  if (tfvars.read_rate_limit_qps <= tfvars.order_rate_limit_qps) {
    ctx.addIssue({
      code: "custom",
      path: ["read_rate_limit_qps"],
      message: `above order_rate_limit_qps (${tfvars.order_rate_limit_qps}): reads get the higher limit`,
    });
  }
}

function edgeRules(tfvars: Tfvars, ctx: RuleContext): void {
  if (tfvars.production && tfvars.admin_cidrs === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["admin_cidrs"],
      message: "the operators' networks, required with production = true: the ALB forwards the admin plane from nowhere else",
    });
  }
  if (tfvars.production && tfvars.alarm_contacts.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["alarm_contacts"],
      message: "at least one contact, required with production = true: an alarm that reaches nobody wakes nobody",
    });
  }
}

function saleWindowRules(tfvars: Tfvars, ctx: RuleContext, now: Date): void {
  const latestLaunch = now.getTime() + MAX_SCHEDULE_AHEAD_DAYS * DAY_MS;
  const spans: { name: string; from: number; to: number }[] = [];
  tfvars.sale_windows.forEach((window, index) => {
    const from = Date.parse(window.starts_at) - tfvars.prewarm_lead_minutes * MINUTE_MS;
    const to = Date.parse(window.ends_at) + tfvars.scale_in_delay_minutes * MINUTE_MS;
    if (tfvars.sale_windows.findIndex((other) => other.name === window.name) !== index) {
      ctx.addIssue({ code: "custom", path: ["sale_windows", index, "name"], message: "a name no other sale window uses" });
    }
    if (Date.parse(window.ends_at) <= Date.parse(window.starts_at)) {
      ctx.addIssue({ code: "custom", path: ["sale_windows", index, "ends_at"], message: `after starts_at (${window.starts_at})` });
      return;
    }
    if (to > latestLaunch) {
      ctx.addIssue({
        code: "custom",
        path: ["sale_windows", index, "ends_at"],
        message: `a sale whose scale-in (ends_at + scale_in_delay_minutes) is at most ${MAX_SCHEDULE_AHEAD_DAYS} days after synth time ${now.toISOString()} (ESS scheduled-task limit); add later sales closer to the date`,
      });
    }
    if (window.instances < tfvars.min_instances || window.instances > tfvars.max_instances) {
      ctx.addIssue({
        code: "custom",
        path: ["sale_windows", index, "instances"],
        message: `from min_instances (${tfvars.min_instances}) to max_instances (${tfvars.max_instances})`,
      });
    }
    const overlapping = spans.find((span) => from < span.to && span.from < to);
    if (overlapping) {
      ctx.addIssue({
        code: "custom",
        path: ["sale_windows", index, "starts_at"],
        message: `a window whose pre-warm-to-scale-in span does not overlap sale window "${overlapping.name}" (pre-warm ${tfvars.prewarm_lead_minutes} min before, scale-in ${tfvars.scale_in_delay_minutes} min after)`,
      });
    }
    spans.push({ name: window.name, from, to });
  });
}

function salePageRules(tfvars: Tfvars, ctx: RuleContext): void {
  const record = tfvars.sale_page_record_name;
  if (record === undefined) {
    for (const key of ["sale_page_cdn_scope", "sale_page_certificate_id"] as const) {
      if (tfvars[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "set only with sale_page_record_name (without a page domain there is no CDN)",
        });
      }
    }
    return;
  }
  if (tfvars.dns_domain_name === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["sale_page_record_name"],
      message: "set only with dns_domain_name (the page's host is <sale_page_record_name>.<dns_domain_name>)",
    });
  } else if (record === tfvars.dns_record_name) {
    ctx.addIssue({
      code: "custom",
      path: ["sale_page_record_name"],
      message: `a host record other than dns_record_name ("${tfvars.dns_record_name}"), which points at the ALB`,
    });
  }
  if (tfvars.sale_page_certificate_id !== undefined && tfvars.certificate_id === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["sale_page_certificate_id"],
      message: "set only with certificate_id: a page served over HTTPS may call only an HTTPS API (browsers block mixed content)",
    });
  }
}

function serviceRules(tfvars: Tfvars, ctx: RuleContext): void {
  if ((tfvars.dns_domain_name === undefined) !== (tfvars.dns_record_name === undefined)) {
    const missing = tfvars.dns_domain_name === undefined ? "dns_domain_name" : "dns_record_name";
    ctx.addIssue({ code: "custom", path: [missing], message: "set together with the other dns_* key (or neither)" });
  }
  const seriesOfSpec = { s: "standard", p: "professional", u: "ultimate" }[tfvars.rocketmq_spec[4] as "s" | "p" | "u"];
  // The digit after the series letter names the sub-series (rmq.s1.micro single node, rmq.s2.2xlarge cluster HA,
  // rmq.s3.* serverless): every spec in the provider's acceptance tests and docs follows it.
  const subSeriesDigit = { single_node: "1", cluster_ha: "2" }[tfvars.rocketmq_sub_series];
  if (seriesOfSpec !== tfvars.rocketmq_series) {
    ctx.addIssue({
      code: "custom",
      path: ["rocketmq_spec"],
      message: `a spec of the ${tfvars.rocketmq_series} series ("rmq.${tfvars.rocketmq_series[0]}…")`,
    });
  } else if (tfvars.rocketmq_spec[5] !== subSeriesDigit) {
    ctx.addIssue({
      code: "custom",
      path: ["rocketmq_spec"],
      message: `a ${tfvars.rocketmq_sub_series} spec ("rmq.${tfvars.rocketmq_series[0]}${subSeriesDigit}.…")`,
    });
  }
  if (tfvars.rocketmq_series === "ultimate" && tfvars.rocketmq_sub_series !== "cluster_ha") {
    ctx.addIssue({
      code: "custom",
      path: ["rocketmq_sub_series"],
      message: '"cluster_ha" (the only sub-series of the ultimate series)',
    });
  }
  if (tfvars.mse_edition === "mse_dev") {
    if (tfvars.mse_instance_count !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["mse_instance_count"],
        message: '1 with mse_edition "mse_dev" (Developer Edition is a single node)',
      });
    }
    if (!MSE_DEVELOPER_SPECIFICATIONS.includes(tfvars.mse_specification)) {
      ctx.addIssue({
        code: "custom",
        path: ["mse_specification"],
        message: `a Developer Edition spec: ${MSE_DEVELOPER_SPECIFICATIONS.join(", ")}`,
      });
    }
  } else if (tfvars.mse_instance_count < 3 || tfvars.mse_instance_count % 2 === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["mse_instance_count"],
      message: 'an odd count of at least 3 with mse_edition "mse_pro" (a Nacos quorum)',
    });
  }
}

/** Tair's proxies, in front of every cluster instance the stack makes, do not forward WAIT. */
function replicaAckRules(tfvars: Tfvars, ctx: RuleContext): void {
  if (tfvars.tair_replica_ack === "wait" && tfvars.tair_shard_count > 1) {
    ctx.addIssue({
      code: "custom",
      path: ["tair_replica_ack"],
      message: `"semisync" or "async" with tair_shard_count ${tfvars.tair_shard_count} (a cluster is reached through proxies, which do not support WAIT)`,
    });
  }
}

/** The tfvars schema with the rules between keys; sale windows are checked against `now` (the synth time). */
export function tfvarsSchemaWithRules(now: Date) {
  return tfvarsSchema.superRefine(
    (tfvars, ctx) => {
      networkRules(tfvars, ctx);
      capacityRules(tfvars, ctx);
      rateLimitRules(tfvars, ctx);
      edgeRules(tfvars, ctx);
      saleWindowRules(tfvars, ctx, now);
      salePageRules(tfvars, ctx);
      serviceRules(tfvars, ctx);
      replicaAckRules(tfvars, ctx);
    },
    // The rules compare values the schema accepted. By default zod would still run them after issues it may continue
    // past (a number out of range, a CIDR with host bits set), and they would then judge values already refused.
    { when: (payload) => payload.issues.length === 0 },
  );
}
