/** The rules between keys, checked once every key has a valid value of its own. */
import { PRIVATE_RANGES, cidrContains, cidrsOverlap, parseCidr } from "../cidr";
import { Tfvars, vswitchCidrs } from "./schema";

/** ESS refuses scheduled tasks launching more than 90 days after they are created. */
export const MAX_SCHEDULE_AHEAD_DAYS = 90;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MSE_DEVELOPER_SPECIFICATIONS: readonly string[] = ["MSE_SC_1_2_60_c", "MSE_SC_2_4_60_c", "MSE_SC_1_2_200_c", "MSE_SC_2_4_200_c"];

/** A problem found after the keys parsed: the key (with index path), its value, and what is allowed. */
export interface Problem {
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
}

function networkProblems(tfvars: Tfvars): Problem[] {
  const problems: Problem[] = [];
  // Zone ids extend the region id: "cn-hangzhou-j", "ap-southeast-1a".
  const inRegion = (zone: string) => zone.startsWith(tfvars.region) && /^-?[a-z0-9]+$/.test(zone.slice(tfvars.region.length));
  const zonesAllowed = `distinct zones of region "${tfvars.region}" (such as "${tfvars.region}-j" or "${tfvars.region}a")`;
  if (new Set(tfvars.zones).size !== tfvars.zones.length || !tfvars.zones.every(inRegion)) {
    problems.push({ key: "zones", value: tfvars.zones, allowed: zonesAllowed });
  }
  const vpc = parseCidr(tfvars.vpc_cidr)!;
  if (!PRIVATE_RANGES.some((range) => cidrContains(range, vpc)) || vpc.prefix > 24) {
    problems.push({
      key: "vpc_cidr",
      value: tfvars.vpc_cidr,
      allowed: "a private CIDR (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) of prefix /8 to /24",
    });
    return problems;
  }
  const cidrs = vswitchCidrs(tfvars);
  const seen: { key: string; cidr: string }[] = [];
  const notCarvable: string[] = [];
  for (const [tier, list] of Object.entries(cidrs)) {
    const key = `${tier}_vswitch_cidrs`;
    const defaulted = tfvars[key as keyof Tfvars] === undefined;
    if (list.length !== tfvars.zones.length) {
      problems.push({ key, value: list, allowed: `one CIDR per zone (${tfvars.zones.length})` });
      continue;
    }
    list.forEach((text, index) => {
      const parsed = parseCidr(text);
      if (!parsed || parsed.prefix < 16 || parsed.prefix > 29 || !cidrContains(vpc, parsed)) {
        if (defaulted) notCarvable.push(key);
        else
          problems.push({
            key: `${key}[${index}]`,
            value: text,
            allowed: `a CIDR of prefix /16 to /29 inside vpc_cidr ${tfvars.vpc_cidr}`,
          });
        return;
      }
      const clash = seen.find((other) => cidrsOverlap(parseCidr(other.cidr)!, parsed));
      if (clash)
        problems.push({ key: `${key}[${index}]`, value: text, allowed: `a CIDR that does not overlap ${clash.key} (${clash.cidr})` });
      seen.push({ key: `${key}[${index}]`, cidr: text });
    });
  }
  if (notCarvable.length > 0) {
    const keys = [...new Set(notCarvable)].join(", ");
    problems.push({
      key: "vpc_cidr",
      value: tfvars.vpc_cidr,
      allowed: `a VPC of prefix /12 to /21 to carve the default vSwitch CIDRs from, or explicit ${keys}`,
    });
  }
  return problems;
}

function capacityProblems(tfvars: Tfvars): Problem[] {
  const problems: Problem[] = [];
  if (tfvars.max_instances < tfvars.min_instances) {
    problems.push({ key: "max_instances", value: tfvars.max_instances, allowed: `at least min_instances (${tfvars.min_instances})` });
  }
  const desired = tfvars.desired_instances;
  if (desired !== undefined && (desired < tfvars.min_instances || desired > tfvars.max_instances)) {
    problems.push({
      key: "desired_instances",
      value: desired,
      allowed: `from min_instances (${tfvars.min_instances}) to max_instances (${tfvars.max_instances})`,
    });
  }
  if (tfvars.scaling_metric === "cpu" && tfvars.scaling_target_value !== undefined && tfvars.scaling_target_value > 100) {
    problems.push({
      key: "scaling_target_value",
      value: tfvars.scaling_target_value,
      allowed: 'a CPU utilization from 1 to 100 (%) with scaling_metric "cpu"',
    });
  }
  return problems;
}

function rateLimitProblems(tfvars: Tfvars): Problem[] {
  const problems: Problem[] = [];
  for (const rule of ["order", "read"] as const) {
    const qps = tfvars[`${rule}_rate_limit_qps`];
    const perIp = tfvars[`${rule}_rate_limit_per_ip_qps`];
    if (perIp >= qps)
      problems.push({
        key: `${rule}_rate_limit_per_ip_qps`,
        value: perIp,
        allowed: `below ${rule}_rate_limit_qps (${qps}); ALB rejects per_ip_qps >= qps`,
      });
  }
  if (tfvars.read_rate_limit_qps <= tfvars.order_rate_limit_qps) {
    problems.push({
      key: "read_rate_limit_qps",
      value: tfvars.read_rate_limit_qps,
      allowed: `above order_rate_limit_qps (${tfvars.order_rate_limit_qps}): reads get the higher limit`,
    });
  }
  return problems;
}

function saleWindowProblems(tfvars: Tfvars, now: Date): Problem[] {
  const problems: Problem[] = [];
  const latestLaunch = now.getTime() + MAX_SCHEDULE_AHEAD_DAYS * DAY_MS;
  const spans: { name: string; from: number; to: number }[] = [];
  tfvars.sale_windows.forEach((window, index) => {
    const key = `sale_windows[${index}]`;
    const from = Date.parse(window.starts_at) - tfvars.prewarm_lead_minutes * MINUTE_MS;
    const to = Date.parse(window.ends_at) + tfvars.scale_in_delay_minutes * MINUTE_MS;
    if (tfvars.sale_windows.findIndex((other) => other.name === window.name) !== index) {
      problems.push({ key: `${key}.name`, value: window.name, allowed: "a name no other sale window uses" });
    }
    if (Date.parse(window.ends_at) <= Date.parse(window.starts_at)) {
      problems.push({ key: `${key}.ends_at`, value: window.ends_at, allowed: `after starts_at (${window.starts_at})` });
      return;
    }
    if (to > latestLaunch) {
      problems.push({
        key: `${key}.ends_at`,
        value: window.ends_at,
        allowed: `a sale whose scale-in (ends_at + scale_in_delay_minutes) is at most ${MAX_SCHEDULE_AHEAD_DAYS} days after synth time ${now.toISOString()} (ESS scheduled-task limit); add later sales closer to the date`,
      });
    }
    if (window.instances < tfvars.min_instances || window.instances > tfvars.max_instances) {
      problems.push({
        key: `${key}.instances`,
        value: window.instances,
        allowed: `from min_instances (${tfvars.min_instances}) to max_instances (${tfvars.max_instances})`,
      });
    }
    const overlapping = spans.find((span) => from < span.to && span.from < to);
    if (overlapping) {
      problems.push({
        key: `${key}.starts_at`,
        value: window.starts_at,
        allowed: `a window whose pre-warm-to-scale-in span does not overlap sale window "${overlapping.name}" (pre-warm ${tfvars.prewarm_lead_minutes} min before, scale-in ${tfvars.scale_in_delay_minutes} min after)`,
      });
    }
    spans.push({ name: window.name, from, to });
  });
  return problems;
}

function salePageProblems(tfvars: Tfvars): Problem[] {
  const problems: Problem[] = [];
  const record = tfvars.sale_page_record_name;
  if (record === undefined) {
    for (const key of ["sale_page_cdn_scope", "sale_page_certificate_id"] as const) {
      if (tfvars[key] !== undefined)
        problems.push({ key, value: tfvars[key], allowed: "set only with sale_page_record_name (without a page domain there is no CDN)" });
    }
    return problems;
  }
  if (tfvars.dns_domain_name === undefined) {
    problems.push({
      key: "sale_page_record_name",
      value: record,
      allowed: "set only with dns_domain_name (the page's host is <sale_page_record_name>.<dns_domain_name>)",
    });
  } else if (record === tfvars.dns_record_name) {
    problems.push({
      key: "sale_page_record_name",
      value: record,
      allowed: `a host record other than dns_record_name ("${tfvars.dns_record_name}"), which points at the ALB`,
    });
  }
  if (tfvars.sale_page_certificate_id !== undefined && tfvars.certificate_id === undefined) {
    problems.push({
      key: "sale_page_certificate_id",
      value: tfvars.sale_page_certificate_id,
      allowed: "set only with certificate_id: a page served over HTTPS may call only an HTTPS API (browsers block mixed content)",
    });
  }
  return problems;
}

function serviceProblems(tfvars: Tfvars): Problem[] {
  const problems: Problem[] = [];
  if ((tfvars.dns_domain_name === undefined) !== (tfvars.dns_record_name === undefined)) {
    const missing = tfvars.dns_domain_name === undefined ? "dns_domain_name" : "dns_record_name";
    problems.push({ key: missing, value: undefined, allowed: "set together with the other dns_* key (or neither)" });
  }
  const seriesOfSpec = { s: "standard", p: "professional", u: "ultimate" }[tfvars.rocketmq_spec[4] as "s" | "p" | "u"];
  // The digit after the series letter names the sub-series (rmq.s1.micro single node, rmq.s2.2xlarge cluster HA,
  // rmq.s3.* serverless): every spec in the provider's acceptance tests and docs follows it.
  const subSeriesDigit = { single_node: "1", cluster_ha: "2" }[tfvars.rocketmq_sub_series];
  if (seriesOfSpec !== tfvars.rocketmq_series) {
    problems.push({
      key: "rocketmq_spec",
      value: tfvars.rocketmq_spec,
      allowed: `a spec of the ${tfvars.rocketmq_series} series ("rmq.${tfvars.rocketmq_series[0]}…")`,
    });
  } else if (tfvars.rocketmq_spec[5] !== subSeriesDigit) {
    problems.push({
      key: "rocketmq_spec",
      value: tfvars.rocketmq_spec,
      allowed: `a ${tfvars.rocketmq_sub_series} spec ("rmq.${tfvars.rocketmq_series[0]}${subSeriesDigit}.…")`,
    });
  }
  if (tfvars.rocketmq_series === "ultimate" && tfvars.rocketmq_sub_series !== "cluster_ha") {
    problems.push({
      key: "rocketmq_sub_series",
      value: tfvars.rocketmq_sub_series,
      allowed: '"cluster_ha" (the only sub-series of the ultimate series)',
    });
  }
  if (tfvars.mse_edition === "mse_dev") {
    if (tfvars.mse_instance_count !== 1)
      problems.push({
        key: "mse_instance_count",
        value: tfvars.mse_instance_count,
        allowed: '1 with mse_edition "mse_dev" (Developer Edition is a single node)',
      });
    if (!MSE_DEVELOPER_SPECIFICATIONS.includes(tfvars.mse_specification)) {
      problems.push({
        key: "mse_specification",
        value: tfvars.mse_specification,
        allowed: `a Developer Edition spec: ${MSE_DEVELOPER_SPECIFICATIONS.join(", ")}`,
      });
    }
  } else if (tfvars.mse_instance_count < 3 || tfvars.mse_instance_count % 2 === 0) {
    problems.push({
      key: "mse_instance_count",
      value: tfvars.mse_instance_count,
      allowed: 'an odd count of at least 3 with mse_edition "mse_pro" (a Nacos quorum)',
    });
  }
  return problems;
}

/** Every rule a file breaks, in the order of its keys' sections. */
export function crossFieldProblems(tfvars: Tfvars, now: Date): Problem[] {
  return [
    ...networkProblems(tfvars),
    ...capacityProblems(tfvars),
    ...rateLimitProblems(tfvars),
    ...saleWindowProblems(tfvars, now),
    ...salePageProblems(tfvars),
    ...serviceProblems(tfvars),
  ];
}
