/**
 * The keys an envs/<env>.tfvars may set, each with the values it accepts and its default. A bad value's message says
 * what is allowed: the problem line reads `key = value: expected <message>`.
 */
import { z } from "zod";
import { parseCidr, cidrSubnet, formatCidr } from "../cidr";

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

export const saleWindowSchema = z
  .object({
    name: text(/^[a-z0-9][a-z0-9-]{0,10}$/, "1-11 characters of a-z, 0-9 and -"),
    starts_at: utcMinute,
    ends_at: utcMinute,
    instances: wholeNumber(1, 2000),
  })
  .strict();

export const stateBackendSchema = z
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

export const tfvarsSchema = z
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

export type Tfvars = z.infer<typeof tfvarsSchema>;

/** The value the schema gives each key a file leaves out, for the keys that have one. */
export const TFVARS_DEFAULTS: Readonly<Record<string, unknown>> = Object.fromEntries(
  Object.entries(tfvarsSchema.shape).flatMap(([key, schema]) => {
    const unset = schema.safeParse(undefined);
    return unset.success && unset.data !== undefined ? [[key, unset.data]] : [];
  }),
);

/** Every key an envs/<env>.tfvars may set (terraform.tfvars.example documents each). */
export const TFVARS_KEYS: readonly string[] = Object.keys(tfvarsSchema.shape);

export function vswitchCidrs(tfvars: Tfvars): { app: string[]; alb: string[]; data: string[] } {
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
