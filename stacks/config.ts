/**
 * Per-environment configuration: `envs/<env>.tfvars` (HCL) → validated, typed {@link EnvConfig}.
 *
 * The tfvars files are read at synth time, so every value must be a literal; a bad value fails synth with the
 * file, the key, the value and what is allowed. terraform.tfvars.example documents every key.
 */
import { readFile, readdir } from "node:fs/promises";
import * as path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { z } from "zod";
import { PRIVATE_RANGES, cidrContains, cidrSubnet, cidrsOverlap, formatCidr, parseCidr } from "./cidr";
import type { StaticSiteDomain } from "./static-site";

export type ScalingMetric = "alb_qps" | "cpu";
export type DataStoreBilling = "PayAsYouGo" | "Subscription";
export type RocketMqSeries = "standard" | "professional" | "ultimate";
export type RocketMqSubSeries = "cluster_ha" | "single_node";
export type MseEdition = "mse_dev" | "mse_pro";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export interface NetworkConfig {
  readonly vpcCidr: string;
  /** One CIDR per zone, in zone order. */
  readonly appVswitchCidrs: readonly string[];
  readonly albVswitchCidrs: readonly string[];
  readonly dataVswitchCidrs: readonly string[];
  /** Bandwidth cap of the NAT gateway's EIP (pay by traffic), Mbit/s. */
  readonly natBandwidthMbps: number;
}

export interface RateLimit {
  /** Requests per second for the whole rule (ALB TrafficLimit `qps`). */
  readonly qps: number;
  /** Requests per second per client IP (ALB TrafficLimit `per_ip_qps`), always below `qps`. */
  readonly perIpQps: number;
}

export interface IngressConfig {
  readonly albEdition: "Standard" | "StandardWithWaf";
  /** Certificate (SSL Certificates Service) for an HTTPS :443 listener; :80 then redirects. */
  readonly certificateId?: string;
  readonly orderRateLimit: RateLimit;
  readonly readRateLimit: RateLimit;
  /** CNAME `<recordName>.<domainName>` → the ALB, when both are set. */
  readonly dns?: { readonly domainName: string; readonly recordName: string };
}

export interface SalePageConfig {
  /** Publish the page through CDN on `<recordName>.<dns_domain_name>`; without it the page is only uploaded. */
  readonly domain?: StaticSiteDomain;
}

export interface SaleWindow {
  readonly name: string;
  readonly startsAt: Date;
  readonly endsAt: Date;
  /** Instances the group is pre-warmed to (min and desired) for this sale. */
  readonly instances: number;
}

export interface ComputeConfig {
  readonly appPort: number;
  /** Tried in order when a type is out of stock in a zone. */
  readonly instanceTypes: readonly string[];
  readonly systemDiskCategory: string;
  readonly systemDiskSizeGib: number;
  readonly minInstances: number;
  readonly desiredInstances: number;
  readonly maxInstances: number;
  readonly scalingMetric: ScalingMetric;
  /** Target of the tracking rule: ALB QPS per backend, or average CPU %. */
  readonly scalingTargetValue: number;
  readonly instanceWarmupSeconds: number;
  readonly saleWindows: readonly SaleWindow[];
  readonly prewarmLeadMinutes: number;
  readonly scaleInDelayMinutes: number;
}

export interface CacheConfig {
  readonly instanceClass: string;
  readonly shardCount: number;
}

export interface DatabaseConfig {
  readonly nodeClass: string;
  readonly nodeCount: number;
  readonly hotStandby: boolean;
}

export interface DataStoreConfig {
  readonly billing: DataStoreBilling;
  /** Only used with Subscription billing. */
  readonly subscriptionMonths: number;
  /** Sources besides the app vSwitches (bastion, DMS) allowed into Tair and PolarDB. */
  readonly extraWhitelist: readonly string[];
}

export interface MessagingConfig {
  readonly series: RocketMqSeries;
  readonly subSeries: RocketMqSubSeries;
  readonly msgProcessSpec: string;
  readonly messageRetentionHours: number;
}

export interface RegistryConfig {
  readonly edition: MseEdition;
  readonly specification: string;
  readonly instanceCount: number;
}

export interface AppConfig {
  readonly logLevel: LogLevel;
  /** Worker processes per instance; unset = one per CPU. */
  readonly workers?: number;
  /** Base URL of a Node.js release mirror (same layout as nodejs.org/dist). */
  readonly nodeMirror: string;
}

export interface StateBackendConfig {
  readonly bucket: string;
  readonly prefix: string;
  readonly region: string;
  readonly tablestoreEndpoint?: string;
  readonly tablestoreTable?: string;
}

export interface EnvConfig {
  /** From the file name: envs/<envName>.tfvars. */
  readonly envName: string;
  /** The tfvars file, as given to the loader. */
  readonly sourceFile: string;
  /** The clock the sale windows were checked against; scheduled tasks in the past are left out. */
  readonly synthTime: Date;
  readonly region: string;
  readonly zones: readonly string[];
  readonly production: boolean;
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly network: NetworkConfig;
  readonly ingress: IngressConfig;
  readonly salePage: SalePageConfig;
  readonly compute: ComputeConfig;
  readonly cache: CacheConfig;
  readonly database: DatabaseConfig;
  readonly dataStores: DataStoreConfig;
  readonly messaging: MessagingConfig;
  readonly registry: RegistryConfig;
  readonly app: AppConfig;
  readonly stateBackend?: StateBackendConfig;
}

/** A tfvars file that fails validation; `problems` has one line per bad key. */
export class ConfigError extends Error {
  constructor(
    readonly sourceFile: string,
    readonly problems: readonly string[],
  ) {
    super(`${sourceFile}: invalid configuration\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export const ENV_NAME = /^[a-z][a-z0-9]{1,11}$/;
/** ESS refuses scheduled tasks launching more than 90 days after they are created. */
export const MAX_SCHEDULE_AHEAD_DAYS = 90;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** MSE `cluster_specification` values accepted by provider 1.289.0 (resource_alicloud_mse_cluster.go). */
const MSE_SPECIFICATIONS = [
  "MSE_SC_1_2_60_c",
  "MSE_SC_2_4_60_c",
  "MSE_SC_4_8_60_c",
  "MSE_SC_8_16_60_c",
  "MSE_SC_16_32_60_c",
  "MSE_SC_1_2_200_c",
  "MSE_SC_2_4_200_c",
  "MSE_SC_4_8_200_c",
  "MSE_SC_8_16_200_c",
  "MSE_SC_16_32_200_c",
] as const;
const MSE_DEVELOPER_SPECIFICATIONS: readonly string[] = ["MSE_SC_1_2_60_c", "MSE_SC_2_4_60_c", "MSE_SC_1_2_200_c", "MSE_SC_2_4_200_c"];
const SUBSCRIPTION_MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36];

function wholeNumber(min: number, max: number) {
  const allowed = { error: `a whole number from ${min} to ${max}` };
  return z.number(allowed).int(allowed).min(min, allowed).max(max, allowed);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((value) => JSON.stringify(value)).join(", ")}` });
}

function text(pattern: RegExp, description: string) {
  return z.string({ error: description }).regex(pattern, { error: description });
}

const bool = z.boolean({ error: "true or false" });
const cidr = text(/^[\d./]+$/, 'an IPv4 CIDR such as "10.0.0.0/16"').refine((value) => parseCidr(value) !== undefined, {
  error: 'an IPv4 CIDR such as "10.0.0.0/16" (no host bits set)',
});
const cidrList = z.array(cidr, { error: "a list of IPv4 CIDRs, one per zone" });
const url = text(/^https?:\/\/[^\s"'`$\\]+[^/\s]$/, "an http(s) URL without a trailing slash");
const utcMinute = text(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:00)?Z$/, 'a UTC time to the minute, "YYYY-MM-DDThh:mmZ"').refine(
  (value) => !Number.isNaN(Date.parse(value)),
  { error: 'a real UTC time to the minute, "YYYY-MM-DDThh:mmZ"' },
);
const TAGS_ALLOWED = 'a map of tag keys (1-64 characters) to values (at most 128), neither starting with "aliyun", "acs:" or "http(s)://"';
const tagText = text(/^(?!aliyun|acs:|https?:\/\/).{0,128}$/, TAGS_ALLOWED);

const saleWindowSchema = z
  .object({
    name: text(/^[a-z0-9][a-z0-9-]{0,10}$/, "1-11 characters of a-z, 0-9 and -"),
    starts_at: utcMinute,
    ends_at: utcMinute,
    instances: wholeNumber(1, 2000),
  })
  .strict();

const stateBackendSchema = z
  .object({
    bucket: text(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "an OSS bucket name (3-63 characters of a-z, 0-9 and -)"),
    prefix: text(/^(?![./])[A-Za-z0-9_./-]+$/, 'a key prefix not starting with "/" or "."').optional(),
    region: text(/^[a-z]{2,}(-[a-z0-9]+)+$/, 'a region id such as "cn-hangzhou"').optional(),
    tablestore_endpoint: text(
      /^https:\/\/[a-z0-9-]+\.[a-z0-9-]+\.ots\.aliyuncs\.com$/,
      'a Tablestore endpoint "https://<instance>.<region>.ots.aliyuncs.com"',
    ).optional(),
    tablestore_table: text(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, "a Tablestore table name").optional(),
  })
  .strict();

const tfvarsSchema = z
  .object({
    region: text(/^[a-z]{2,}(-[a-z0-9]+)+$/, 'a region id such as "cn-hangzhou"'),
    zones: z
      .array(text(/^[a-z]{2,}(-[a-z0-9]+)+$/, 'a zone id such as "cn-hangzhou-j"'), { error: "a list of 2 or 3 zone ids" })
      .min(2, { error: "a list of 2 or 3 zone ids" })
      .max(3, { error: "a list of 2 or 3 zone ids" }),
    production: bool.default(false),
    deletion_protection: bool.optional(),
    tags: z.record(text(/^(?!aliyun|acs:|https?:\/\/).{1,64}$/, TAGS_ALLOWED), tagText, { error: TAGS_ALLOWED }).default({}),

    vpc_cidr: cidr.default("10.0.0.0/16"),
    app_vswitch_cidrs: cidrList.optional(),
    alb_vswitch_cidrs: cidrList.optional(),
    data_vswitch_cidrs: cidrList.optional(),
    nat_bandwidth_mbps: wholeNumber(1, 200).default(50),

    alb_edition: oneOf(["Standard", "StandardWithWaf"]).default("Standard"),
    certificate_id: text(/^[A-Za-z0-9_.:-]+$/, "a certificate id from SSL Certificates Service").optional(),
    order_rate_limit_qps: wholeNumber(1, 100_000).default(2000),
    order_rate_limit_per_ip_qps: wholeNumber(1, 100_000).default(10),
    read_rate_limit_qps: wholeNumber(1, 100_000).default(10_000),
    read_rate_limit_per_ip_qps: wholeNumber(1, 100_000).default(50),
    dns_domain_name: text(
      /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/,
      'a domain hosted in Alibaba Cloud DNS, such as "example.com"',
    ).optional(),
    dns_record_name: text(/^(@|[a-z0-9*]([a-z0-9.-]{0,61}[a-z0-9])?)$/, 'a host record such as "sale" or "@"').optional(),

    // No wildcard: the record names the one origin the API allows.
    sale_page_record_name: text(
      /^(@|[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?)$/,
      'a host record such as "shop" or "@" (no wildcard)',
    ).optional(),
    sale_page_cdn_scope: oneOf(["domestic", "overseas", "global"]).optional(),
    sale_page_certificate_id: text(/^[A-Za-z0-9_.:-]+$/, "a certificate id from SSL Certificates Service").optional(),

    app_port: wholeNumber(1024, 65535).default(8080),
    instance_types: z
      .array(text(/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/, 'an ECS instance type such as "ecs.c7.large"'), {
        error: "a list of 1 to 10 ECS instance types",
      })
      .min(1, { error: "a list of 1 to 10 ECS instance types" })
      .max(10, { error: "a list of 1 to 10 ECS instance types" })
      .default(["ecs.c7.large", "ecs.c6.large", "ecs.g7.large"]),
    system_disk_category: oneOf(["cloud_essd", "cloud_ssd", "cloud_efficiency", "cloud_essd_xc1"]).default("cloud_essd"),
    system_disk_size_gib: wholeNumber(20, 500).default(40),
    min_instances: wholeNumber(1, 2000).default(2),
    desired_instances: wholeNumber(1, 2000).optional(),
    max_instances: wholeNumber(1, 2000).default(10),
    scaling_metric: oneOf(["alb_qps", "cpu"]).default("alb_qps"),
    scaling_target_value: z.number({ error: "a positive number" }).positive({ error: "a positive number" }).optional(),
    instance_warmup_seconds: wholeNumber(0, 86_400).default(300),
    sale_windows: z
      .array(saleWindowSchema, { error: "a list of { name, starts_at, ends_at, instances }" })
      .max(20, { error: "at most 20 sale windows" })
      .default([]),
    prewarm_lead_minutes: wholeNumber(5, 1440).default(30),
    scale_in_delay_minutes: wholeNumber(0, 1440).default(30),

    tair_instance_class: text(/^tair\.rdb\.[a-z0-9.]+$/, 'a Tair memory-enhanced class such as "tair.rdb.2g"').default("tair.rdb.2g"),
    tair_shard_count: wholeNumber(1, 32).default(1),
    // The stack creates Cluster Edition (creation_category "Normal"); ".c" classes are Standard Edition's.
    polardb_node_class: text(
      /^polar\.mysql\.[a-z0-9.]+(?<!\.c)$/,
      'a PolarDB for MySQL Cluster Edition node class such as "polar.mysql.x4.medium" (".c" classes are Standard Edition)',
    ).default("polar.mysql.x4.medium"),
    polardb_node_count: wholeNumber(2, 16).default(2),
    polardb_hot_standby: bool.default(true),
    data_store_billing: oneOf(["PayAsYouGo", "Subscription"]).default("PayAsYouGo"),
    subscription_months: z
      .number({ error: `one of ${SUBSCRIPTION_MONTHS.join(", ")}` })
      .refine((value) => SUBSCRIPTION_MONTHS.includes(value), { error: `one of ${SUBSCRIPTION_MONTHS.join(", ")}` })
      .default(1),
    data_store_extra_whitelist: z
      .array(text(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, 'an IPv4 address or CIDR such as "10.8.0.5" or "10.8.0.0/24"'), {
        error: "a list of IPv4 addresses or CIDRs",
      })
      .max(20, { error: "at most 20 entries" })
      .default([]),

    rocketmq_series: oneOf(["standard", "professional", "ultimate"]).default("standard"),
    rocketmq_sub_series: oneOf(["cluster_ha", "single_node"]).default("cluster_ha"),
    rocketmq_spec: text(/^rmq\.[spu]\d+\.[a-z0-9]+$/, 'a RocketMQ 5 message-processing spec such as "rmq.s2.2xlarge"').default(
      "rmq.s2.2xlarge",
    ),
    rocketmq_message_retention_hours: wholeNumber(1, 720).default(72),

    mse_edition: oneOf(["mse_dev", "mse_pro"]).default("mse_pro"),
    mse_specification: oneOf(MSE_SPECIFICATIONS).default("MSE_SC_2_4_60_c"),
    mse_instance_count: wholeNumber(1, 15).default(3),

    log_level: oneOf(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    workers: wholeNumber(1, 64).optional(),
    node_mirror: url.default("https://mirrors.aliyun.com/nodejs-release"),

    state_backend: stateBackendSchema.optional(),
  })
  .strict();

type Tfvars = z.infer<typeof tfvarsSchema>;

/** Every key an envs/<env>.tfvars may set (terraform.tfvars.example documents each). */
export const TFVARS_KEYS: readonly string[] = Object.keys(tfvarsSchema.shape);

/** A problem found after the keys parsed: the key (with index path), its value, and what is allowed. */
interface Problem {
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
}

function describe(problem: Problem): string {
  const shown = problem.value === undefined ? "(missing)" : JSON.stringify(problem.value);
  return `${problem.key} = ${shown}: expected ${problem.allowed}`;
}

function keyPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>(
    (acc, segment) => (typeof segment === "number" ? `${acc}[${segment}]` : acc ? `${acc}.${String(segment)}` : String(segment)),
    "",
  );
}

function valueAt(raw: unknown, segments: readonly PropertyKey[]): unknown {
  return segments.reduce<unknown>(
    (value, segment) => (value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[segment] : undefined),
    raw,
  );
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function unknownKeyProblem(raw: unknown, parent: readonly PropertyKey[], key: string, knownKeys: readonly string[]): Problem {
  const closest = knownKeys.find((known) => editDistance(known, key) <= 2);
  return {
    key: keyPath([...parent, key]),
    value: valueAt(raw, [...parent, key]),
    allowed: closest ? `no such key (did you mean "${closest}"?)` : "no such key (terraform.tfvars.example lists every key)",
  };
}

/** tfvars are read at synth time: hcl2json hands expressions back as "${...}" strings, which would be taken literally. */
function expressionProblems(value: unknown, segments: PropertyKey[] = []): Problem[] {
  if (typeof value === "string" && value.includes("${")) {
    return [
      {
        key: keyPath(segments),
        value,
        allowed: "a literal value (tfvars are read at synth time; expressions, variables and functions are not evaluated)",
      },
    ];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => expressionProblems(item, [...segments, index]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => expressionProblems(item, [...segments, key]));
  }
  return [];
}

function schemaProblems(raw: unknown, issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    if (issue.code === "unrecognized_keys") {
      const shape =
        issue.path.length === 0
          ? tfvarsSchema.shape
          : issue.path[0] === "state_backend"
            ? stateBackendSchema.shape
            : saleWindowSchema.shape;
      return issue.keys.map((key) => unknownKeyProblem(raw, issue.path, key, Object.keys(shape)));
    }
    return [{ key: keyPath(issue.path), value: valueAt(raw, issue.path), allowed: issue.message }];
  });
}

function vswitchCidrs(tfvars: Tfvars): { app: string[]; alb: string[]; data: string[] } {
  // Defaults carve the VPC: app /20s from the bottom, data and ALB /24s from the top quarter (for a /16 VPC).
  const vpc = parseCidr(tfvars.vpc_cidr)!;
  const carve = (newBits: number, firstIndex: number) =>
    tfvars.zones.map((_, zone) => (vpc.prefix + newBits <= 29 ? formatCidr(cidrSubnet(vpc, newBits, firstIndex + zone)) : ""));
  return {
    app: tfvars.app_vswitch_cidrs ?? carve(4, 0),
    data: tfvars.data_vswitch_cidrs ?? carve(8, 224),
    alb: tfvars.alb_vswitch_cidrs ?? carve(8, 240),
  };
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

function toEnvConfig(tfvars: Tfvars, envName: string, sourceFile: string, now: Date): EnvConfig {
  const cidrs = vswitchCidrs(tfvars);
  const backend = tfvars.state_backend;
  return {
    envName,
    sourceFile,
    synthTime: now,
    region: tfvars.region,
    zones: tfvars.zones,
    production: tfvars.production,
    deletionProtection: tfvars.deletion_protection ?? tfvars.production,
    tags: tfvars.tags,
    network: {
      vpcCidr: tfvars.vpc_cidr,
      appVswitchCidrs: cidrs.app,
      albVswitchCidrs: cidrs.alb,
      dataVswitchCidrs: cidrs.data,
      natBandwidthMbps: tfvars.nat_bandwidth_mbps,
    },
    ingress: {
      albEdition: tfvars.alb_edition,
      certificateId: tfvars.certificate_id,
      orderRateLimit: { qps: tfvars.order_rate_limit_qps, perIpQps: tfvars.order_rate_limit_per_ip_qps },
      readRateLimit: { qps: tfvars.read_rate_limit_qps, perIpQps: tfvars.read_rate_limit_per_ip_qps },
      dns:
        tfvars.dns_domain_name && tfvars.dns_record_name
          ? { domainName: tfvars.dns_domain_name, recordName: tfvars.dns_record_name }
          : undefined,
    },
    salePage: {
      domain:
        tfvars.dns_domain_name && tfvars.sale_page_record_name
          ? {
              domainName: tfvars.dns_domain_name,
              recordName: tfvars.sale_page_record_name,
              cdnScope: tfvars.sale_page_cdn_scope ?? "domestic",
              certificateId: tfvars.sale_page_certificate_id,
            }
          : undefined,
    },
    compute: {
      appPort: tfvars.app_port,
      instanceTypes: tfvars.instance_types,
      systemDiskCategory: tfvars.system_disk_category,
      systemDiskSizeGib: tfvars.system_disk_size_gib,
      minInstances: tfvars.min_instances,
      desiredInstances: tfvars.desired_instances ?? tfvars.min_instances,
      maxInstances: tfvars.max_instances,
      scalingMetric: tfvars.scaling_metric,
      scalingTargetValue: tfvars.scaling_target_value ?? (tfvars.scaling_metric === "cpu" ? 60 : 1000),
      instanceWarmupSeconds: tfvars.instance_warmup_seconds,
      saleWindows: tfvars.sale_windows.map((window) => ({
        name: window.name,
        startsAt: new Date(window.starts_at),
        endsAt: new Date(window.ends_at),
        instances: window.instances,
      })),
      prewarmLeadMinutes: tfvars.prewarm_lead_minutes,
      scaleInDelayMinutes: tfvars.scale_in_delay_minutes,
    },
    cache: { instanceClass: tfvars.tair_instance_class, shardCount: tfvars.tair_shard_count },
    database: { nodeClass: tfvars.polardb_node_class, nodeCount: tfvars.polardb_node_count, hotStandby: tfvars.polardb_hot_standby },
    dataStores: {
      billing: tfvars.data_store_billing,
      subscriptionMonths: tfvars.subscription_months,
      extraWhitelist: tfvars.data_store_extra_whitelist,
    },
    messaging: {
      series: tfvars.rocketmq_series,
      subSeries: tfvars.rocketmq_sub_series,
      msgProcessSpec: tfvars.rocketmq_spec,
      messageRetentionHours: tfvars.rocketmq_message_retention_hours,
    },
    registry: { edition: tfvars.mse_edition, specification: tfvars.mse_specification, instanceCount: tfvars.mse_instance_count },
    app: { logLevel: tfvars.log_level, workers: tfvars.workers, nodeMirror: tfvars.node_mirror },
    stateBackend: backend && {
      bucket: backend.bucket,
      prefix: backend.prefix ?? `seckill/${envName}`,
      region: backend.region ?? tfvars.region,
      tablestoreEndpoint: backend.tablestore_endpoint,
      tablestoreTable: backend.tablestore_table,
    },
  };
}

/** Validates parsed tfvars (as @cdktf/hcl2json returns them) against the rules above; throws {@link ConfigError}. */
export function validateEnvConfig(
  raw: unknown,
  options: { readonly envName: string; readonly sourceFile: string; readonly now: Date },
): EnvConfig {
  const { envName, sourceFile, now } = options;
  if (!ENV_NAME.test(envName)) {
    throw new ConfigError(sourceFile, [
      `environment name ${JSON.stringify(envName)} (from the file name): expected 2-12 characters of a-z and 0-9, starting with a letter`,
    ]);
  }
  const literalProblems = expressionProblems(raw);
  if (literalProblems.length > 0) throw new ConfigError(sourceFile, literalProblems.map(describe));
  const parsed = tfvarsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(sourceFile, schemaProblems(raw, parsed.error.issues).map(describe));
  const tfvars = parsed.data;
  const problems = [
    ...networkProblems(tfvars),
    ...capacityProblems(tfvars),
    ...rateLimitProblems(tfvars),
    ...saleWindowProblems(tfvars, now),
    ...salePageProblems(tfvars),
    ...serviceProblems(tfvars),
  ];
  if (problems.length > 0) throw new ConfigError(sourceFile, problems.map(describe));
  return toEnvConfig(tfvars, envName, sourceFile, now);
}

/** Reads and validates one tfvars file; the environment name comes from the file name. */
export async function loadEnvConfig(file: string, now: Date = new Date()): Promise<EnvConfig> {
  const sourceFile = path.relative(process.cwd(), file) || file;
  const envName = path.basename(file, ".tfvars");
  let raw: Record<string, unknown>;
  try {
    raw = await parse(sourceFile, await readFile(file, "utf8"));
  } catch (error) {
    throw new ConfigError(sourceFile, [`not valid HCL: ${(error as Error).message}`]);
  }
  return validateEnvConfig(raw, { envName, sourceFile, now });
}

/** Every `<dir>/*.tfvars`, in name order. */
export async function loadAllEnvConfigs(dir: string, now: Date = new Date()): Promise<EnvConfig[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".tfvars")).sort();
  if (files.length === 0) throw new Error(`${dir}: no <env>.tfvars files found`);
  return Promise.all(files.map((name) => loadEnvConfig(path.join(dir, name), now)));
}
