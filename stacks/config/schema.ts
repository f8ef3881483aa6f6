/**
 * The keys an envs/<env>.tfvars may set, declared once: the values each accepts, its default, and (registered in
 * {@link tfvarsDocs}) what terraform.tfvars.example says about it. A bad value's message says what is allowed: the
 * problem line reads `key = value: expected <message>`.
 */
import { z } from "zod";
import { LOG_LEVELS, type LogLevel } from "../../contract/log-levels";
import { parseCidr, cidrSubnet, formatCidr } from "../cidr";

/** The service's log levels, but for "silent": a fleet that logs nothing cannot be operated. */
const FLEET_LOG_LEVELS = LOG_LEVELS.filter((level) => level !== "silent") as [
  Exclude<LogLevel, "silent">,
  ...Exclude<LogLevel, "silent">[],
];

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
/**
 * ALB system TLS policies that admit TLS 1.2 and later only (Alibaba Cloud ALB, "TLS security policies": the other
 * system policies, tls_cipher_policy_1_0 and _1_1, also admit TLS 1.0 and 1.1).
 */
export const TLS_1_2_SECURITY_POLICIES = [
  "tls_cipher_policy_1_2",
  "tls_cipher_policy_1_2_strict",
  "tls_cipher_policy_1_2_strict_with_1_3",
] as const;
/** An ALB SourceIp condition holds at most 5 values (alicloud/resource_alicloud_alb_rule.go:523, source_ip_config.values). */
export const MAX_ADMIN_CIDRS = 5;

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
const ADMIN_CIDRS_ALLOWED = `a list of 1 to ${MAX_ADMIN_CIDRS} IPv4 CIDRs of operator networks, none wider than /8`;
const adminCidr = cidr.refine((value) => parseCidr(value)!.prefix >= 8, { error: ADMIN_CIDRS_ALLOWED });
const utcMinute = text(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:00)?Z$/, 'a UTC time to the minute, "YYYY-MM-DDThh:mmZ"').refine(
  (value) => !Number.isNaN(Date.parse(value)),
  { error: 'a real UTC time to the minute, "YYYY-MM-DDThh:mmZ"' },
);
const TAGS_ALLOWED = 'a map of tag keys (1-64 characters) to values (at most 128), neither starting with "aliyun", "acs:" or "http(s)://"';
const tagText = text(/^(?!aliyun|acs:|https?:\/\/).{0,128}$/, TAGS_ALLOWED);

/** CloudMonitor takes at most this many contacts in a group in practice here; more belong in a DingTalk group. */
export const MAX_ALARM_CONTACTS = 20;
const ALARM_CONTACTS_ALLOWED = `a list of at most ${MAX_ALARM_CONTACTS} { name, email?, phone?, dingtalk_webhook? }, each with at least one channel`;
/** A whole-number alarm threshold from 1 to `max` (section observability). */
function alarmThreshold(max: number, fallback: number, description: string, unit: string) {
  return wholeNumber(1, max).default(fallback).register(tfvarsDocs, { section: "observability", description, unit });
}

export const alarmContactSchema = z
  .object({
    // alicloud_cms_alarm_contact.alarm_contact_name: 2-40 characters (website/docs/r/cms_alarm_contact.html.markdown).
    name: text(/^[A-Za-z0-9_.\-\u4e00-\u9fa5]{2,40}$/, "2-40 letters, digits, _, . or -"),
    email: text(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address such as "oncall@example.com"').optional(),
    phone: text(/^\+?\d{6,15}$/, 'a phone number of digits, optionally "+country", such as "+8613800000000"').optional(),
    dingtalk_webhook: text(
      /^https:\/\/oapi\.dingtalk\.com\/robot\/send\?access_token=[A-Za-z0-9]+$/,
      'a DingTalk robot webhook "https://oapi.dingtalk.com/robot/send?access_token=…"',
    ).optional(),
  })
  .strict()
  .refine((contact) => contact.email ?? contact.phone ?? contact.dingtalk_webhook, {
    error: "at least one of email, phone and dingtalk_webhook, or the contact is reached by nothing",
  });

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

/**
 * terraform.tfvars.example's sections, in order; each key names its own. The intro, when there is one, is the prose
 * printed under the heading.
 */
export const TFVARS_SECTIONS = {
  placement: { heading: "placement" },
  network: { heading: "network" },
  ingress: { heading: "ingress (ALB)" },
  salePage: {
    heading: "sale page (OSS behind CDN)",
    intro:
      "The page (web/) is always uploaded to a private, encrypted OSS bucket (output sale_page_bucket), with the API's public " +
      "URL written into it. With a host record it is published: a CDN domain <sale_page_record_name>.<dns_domain_name> reads " +
      "the bucket, a CNAME in the dns_domain_name zone points at the CDN, and the ALB answers the page's origin with CORS " +
      "(preflights answered by ALB itself, never by the fleet). Outputs sale_page_url and sale_page_cdn_cname.",
  },
  compute: { heading: "compute (auto-scaled ECS)" },
  dataStores: { heading: "data stores" },
  messaging: { heading: "messaging (RocketMQ 5)" },
  registry: { heading: "registry (MSE Nacos)" },
  app: { heading: "app" },
  observability: {
    heading: "observability (SLS logs, CloudMonitor alarms)",
    intro:
      "The fleet's journal (service and boot) and the ALB's access log go to an SLS project of the environment; CloudMonitor " +
      "alarms go to a contact group made of alarm_contacts; alerts on the logs (order pipeline, throttling, p99) go to the " +
      'SLS action policy sls_alert_action_policy_id. README, "During a sale", says what each one means and what to do first.',
  },
  stateBackend: { heading: "Terraform state" },
} satisfies Record<string, { readonly heading: string; readonly intro?: string }>;

/** What terraform.tfvars.example says about a key, besides its default (the schema's own) and whether it is required. */
export interface TfvarsKeyDoc {
  readonly section: keyof typeof TFVARS_SECTIONS;
  /** What the key does and the values it takes, in sentences. */
  readonly description: string;
  /** The unit of a number, printed after its value. */
  readonly unit?: string;
  /** What Terraform destroys and recreates when the key changes (the provider marks the argument ForceNew). */
  readonly replaces?: string;
  /**
   * What a file that leaves the key out gets, for a key the schema has no default for: a value that depends on other
   * keys, or "unset (…)" for a feature left off.
   */
  readonly whenUnset?: string;
  /** A value to show for a key without a default (required keys are shown set to it, others commented out), or next to the default. */
  readonly example?: unknown;
}

/** The documentation of each tfvars key, registered on the key's schema in {@link tfvarsSchema}. */
export const tfvarsDocs = z.registry<TfvarsKeyDoc>();

/**
 * An Alibaba Cloud Linux 3 x86-64 system image (its id carries its build date) or a custom image. boot.sh needs
 * cloud-init and x86-64, which both give.
 */
export const SYSTEM_IMAGE_ID = /^aliyun_3_x64_20G_alibase_\d{8}\.vhd$/;
const IMAGE_ID = new RegExp(`${SYSTEM_IMAGE_ID.source}|^m-[a-z0-9]{8,30}$`);
const IMAGE_ID_ALLOWED = 'a system image id "aliyun_3_x64_20G_alibase_<YYYYMMDD>.vhd" or a custom image id "m-…"';
/** What a non-production environment boots from when its file names no image: the system image the stacks were last tested with. */
export const DEFAULT_IMAGE_ID = "aliyun_3_x64_20G_alibase_20251030.vhd";

/** ESS refuses scheduled tasks launching more than 90 days after they are created. */
export const MAX_SCHEDULE_AHEAD_DAYS = 90;
const ROCKETMQ_INSTANCE = "the RocketMQ instance (unconsumed messages are lost)";
const vswitchesOf = (tier: string) =>
  `the ${tier} vSwitches whose CIDR changes, and everything in them (a vpc_cidr change moves the carved defaults too)`;
const RATE_LIMITS = "1-100000; above it ALB answers 503";

export const tfvarsSchema = z
  .object({
    region: text(/^[a-z]{2,}(-[a-z0-9]+)+$/, 'a region id such as "cn-hangzhou"').register(tfvarsDocs, {
      section: "placement",
      description: "Alibaba Cloud region id.",
      example: "cn-hangzhou",
    }),
    zones: z
      .array(text(/^[a-z]{2,}(-[a-z0-9]+)+$/, 'a zone id such as "cn-hangzhou-j"'), { error: "a list of 2 or 3 zone ids" })
      .min(2, { error: "a list of 2 or 3 zone ids" })
      .max(3, { error: "a list of 2 or 3 zone ids" })
      .register(tfvarsDocs, {
        section: "placement",
        description:
          "2 or 3 distinct zones of that region. Every tier (ALB, app, data) gets one vSwitch per zone; Tair's replica and " +
          "PolarDB's hot standby go to the second zone.",
        replaces: "the vSwitches and everything in them",
        example: ["cn-hangzhou-j", "cn-hangzhou-k"],
      }),
    production: bool.default(false).register(tfvarsDocs, {
      section: "placement",
      description: "A production environment: deletion protection must be on (a guard rail fails synth otherwise).",
    }),
    deletion_protection: bool.optional().register(tfvarsDocs, {
      section: "placement",
      description:
        "Deletion protection on the ALB and a deletion lock on PolarDB (a prepaid PolarDB gets none: Terraform cannot delete it anyway).",
      whenUnset: "the value of `production`",
      example: true,
    }),
    tags: z
      .record(text(/^(?!aliyun|acs:|https?:\/\/).{1,64}$/, TAGS_ALLOWED), tagText, { error: TAGS_ALLOWED })
      .default({})
      .register(tfvarsDocs, {
        section: "placement",
        description: "Extra tags on every resource (Project, Environment and ManagedBy are always set).",
        example: { CostCenter: "retail" },
      }),

    vpc_cidr: cidr.default("10.0.0.0/16").register(tfvarsDocs, {
      section: "network",
      description: "VPC CIDR, private (10/8, 172.16/12, 192.168/16), prefix /8 to /24.",
    }),
    app_vswitch_cidrs: cidrList.optional().register(tfvarsDocs, {
      section: "network",
      description: "The app tier's vSwitch CIDRs, one per zone, inside vpc_cidr, prefix /16 to /29, overlapping no other vSwitch.",
      whenUnset: "carved from vpc_cidr, /20 blocks from its start",
      // cidr_block is ForceNew (resource_alicloud_vswitch.go:35).
      replaces: vswitchesOf("app"),
      example: ["10.0.0.0/20", "10.0.16.0/20"],
    }),
    alb_vswitch_cidrs: cidrList.optional().register(tfvarsDocs, {
      section: "network",
      description: "The ALB's vSwitch CIDRs, one per zone, inside vpc_cidr, prefix /16 to /29, overlapping no other vSwitch.",
      whenUnset: "carved from vpc_cidr, /24 blocks in its top quarter (from 10.0.240.0/24 in 10.0.0.0/16)",
      // cidr_block is ForceNew (resource_alicloud_vswitch.go:35).
      replaces: vswitchesOf("alb"),
      example: ["10.0.240.0/24", "10.0.241.0/24"],
    }),
    data_vswitch_cidrs: cidrList.optional().register(tfvarsDocs, {
      section: "network",
      description: "The data tier's vSwitch CIDRs, one per zone, inside vpc_cidr, prefix /16 to /29, overlapping no other vSwitch.",
      whenUnset: "carved from vpc_cidr, /24 blocks in its top quarter (from 10.0.224.0/24 in 10.0.0.0/16)",
      // cidr_block is ForceNew (resource_alicloud_vswitch.go:35).
      replaces: vswitchesOf("data"),
      example: ["10.0.224.0/24", "10.0.225.0/24"],
    }),
    nat_bandwidth_mbps: wholeNumber(1, 200).default(50).register(tfvarsDocs, {
      section: "network",
      description: "Bandwidth cap of the NAT gateway's EIP (instances' only way to the internet), 1-200, billed by traffic.",
      unit: "Mbit/s",
    }),
    nat_gateway: bool.default(false).register(tfvarsDocs, {
      section: "network",
      description:
        "A NAT gateway with an EIP, the instances' way to the internet (in the first zone only). Nothing the fleet runs needs " +
        "it: instances boot from the stack's bucket and talk only to services inside the VPC. Turn it on for tools of your own " +
        "that call out; nat_bandwidth_mbps caps it.",
    }),

    alb_edition: oneOf(["Standard", "StandardWithWaf"])
      .default("Standard")
      .register(tfvarsDocs, { section: "ingress", description: '"Standard" or "StandardWithWaf" (Basic has no TrafficLimit action).' }),
    certificate_id: text(/^[A-Za-z0-9_.:-]+$/, "a certificate id from SSL Certificates Service")
      .optional()
      .register(tfvarsDocs, {
        section: "ingress",
        description: "SSL Certificates Service certificate id. When set: an HTTPS :443 listener serves, :80 redirects to it.",
        whenUnset: "unset (HTTP :80 only)",
        example: "12345678-cn-hangzhou",
      }),
    order_rate_limit_qps: wholeNumber(1, 100_000)
      .default(2000)
      .register(tfvarsDocs, {
        section: "ingress",
        description: `Rate limit of orders (POST /api/sales/*/orders), ${RATE_LIMITS}.`,
        unit: "requests per second",
      }),
    order_rate_limit_per_ip_qps: wholeNumber(1, 100_000)
      .default(10)
      .register(tfvarsDocs, {
        section: "ingress",
        description: `Rate limit of orders per client IP, below order_rate_limit_qps, ${RATE_LIMITS}.`,
        unit: "requests per second",
      }),
    read_rate_limit_qps: wholeNumber(1, 100_000)
      .default(10_000)
      .register(tfvarsDocs, {
        section: "ingress",
        description: `Rate limit of reads (/api/sales/* and /api/orders/*), above order_rate_limit_qps, ${RATE_LIMITS}.`,
        unit: "requests per second",
      }),
    read_rate_limit_per_ip_qps: wholeNumber(1, 100_000)
      .default(50)
      .register(tfvarsDocs, {
        section: "ingress",
        description: `Rate limit of reads per client IP, below read_rate_limit_qps, ${RATE_LIMITS}.`,
        unit: "requests per second",
      }),
    dns_domain_name: text(
      /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/,
      'a domain hosted in Alibaba Cloud DNS, such as "example.com"',
    )
      .optional()
      .register(tfvarsDocs, {
        section: "ingress",
        description:
          "A domain in Alibaba Cloud DNS: with dns_record_name, a CNAME <dns_record_name>.<dns_domain_name> → the ALB. Set both or neither.",
        whenUnset: "unset",
        example: "example.com",
      }),
    dns_record_name: text(/^(@|[a-z0-9*]([a-z0-9.-]{0,61}[a-z0-9])?)$/, 'a host record such as "sale" or "@"')
      .optional()
      .register(tfvarsDocs, {
        section: "ingress",
        description: "The host record of that CNAME. Set both or neither.",
        whenUnset: "unset",
        example: "sale",
      }),
    tls_security_policy: oneOf(TLS_1_2_SECURITY_POLICIES)
      .default("tls_cipher_policy_1_2")
      .register(tfvarsDocs, {
        section: "ingress",
        description:
          "TLS policy of the HTTPS listener (with certificate_id), an ALB system policy admitting TLS 1.2 and later only: " +
          '"tls_cipher_policy_1_2", "tls_cipher_policy_1_2_strict" (forward-secret ciphers only) or ' +
          '"tls_cipher_policy_1_2_strict_with_1_3" (that, and TLS 1.3). The sale page\'s CDN domain takes TLS 1.2 and 1.3.',
      }),
    admin_cidrs: z
      .array(adminCidr, { error: ADMIN_CIDRS_ALLOWED })
      .min(1, { error: ADMIN_CIDRS_ALLOWED })
      .max(MAX_ADMIN_CIDRS, { error: ADMIN_CIDRS_ALLOWED })
      .optional()
      .register(tfvarsDocs, {
        section: "ingress",
        description:
          `Operator networks, 1 to ${MAX_ADMIN_CIDRS} IPv4 CIDRs (none wider than /8): the only sources the ALB forwards the admin plane ` +
          "from (/admin/*, /metrics, /readyz, /healthz); it answers everyone else 404 itself. The admin API and the smoke test " +
          "run from inside them. Required with production = true.",
        whenUnset: "unset (the ALB answers the admin plane to nobody)",
        example: ["203.0.113.0/24"],
      }),
    default_rate_limit_qps: wholeNumber(1, 100_000)
      .default(1000)
      .register(tfvarsDocs, {
        section: "ingress",
        description:
          "Rate limit of every other path: the admin plane, and a catch-all rule in front of the listener's default action, so " +
          `nothing reaches the fleet without a limit; ${RATE_LIMITS}.`,
        unit: "requests per second",
      }),
    default_rate_limit_per_ip_qps: wholeNumber(1, 100_000)
      .default(20)
      .register(tfvarsDocs, {
        section: "ingress",
        description: `Rate limit of every other path per client IP, below default_rate_limit_qps, ${RATE_LIMITS}.`,
        unit: "requests per second",
      }),

    // No wildcard: the record names the one origin the API allows.
    sale_page_record_name: text(/^(@|[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?)$/, 'a host record such as "shop" or "@" (no wildcard)')
      .optional()
      .register(tfvarsDocs, {
        section: "salePage",
        description:
          'Host record of the page, e.g. "shop" or "@" (no wildcard). Needs dns_domain_name; must differ from dns_record_name ' +
          "(that one points at the ALB).",
        whenUnset: "unset (page uploaded only: no CDN, no DNS record, no CORS)",
        example: "shop",
      }),
    sale_page_cdn_scope: oneOf(["domestic", "overseas", "global"]).optional().register(tfvarsDocs, {
      section: "salePage",
      description:
        'Where the CDN serves: "domestic" (Mainland China), "overseas" (outside it) or "global". Only with sale_page_record_name.',
      whenUnset: '"domestic"',
      example: "global",
    }),
    sale_page_certificate_id: text(/^[A-Za-z0-9_.:-]+$/, "a certificate id from SSL Certificates Service")
      .optional()
      .register(tfvarsDocs, {
        section: "salePage",
        description:
          "SSL Certificates Service certificate id for the page's host: the page is then served over HTTPS only. Only with " +
          "sale_page_record_name, and needs certificate_id (an HTTPS page may call only an HTTPS API: browsers block mixed content).",
        whenUnset: "unset (the page over HTTP)",
        example: "12345679-cn-hangzhou",
      }),

    app_port: wholeNumber(1024, 65535).default(8080).register(tfvarsDocs, {
      section: "compute",
      description: "Port the app listens on (1024-65535); the ALB server group and the security group follow it.",
    }),
    instance_types: z
      .array(text(/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/, 'an ECS instance type such as "ecs.c7.large"'), {
        error: "a list of 1 to 10 ECS instance types",
      })
      .min(1, { error: "a list of 1 to 10 ECS instance types" })
      .max(10, { error: "a list of 1 to 10 ECS instance types" })
      .default(["ecs.c7.large", "ecs.c6.large", "ecs.g7.large"])
      .register(tfvarsDocs, { section: "compute", description: "1-10 instance types, tried in order when one is out of stock in a zone." }),
    system_disk_category: oneOf(["cloud_essd", "cloud_ssd", "cloud_efficiency", "cloud_essd_xc1"])
      .default("cloud_essd")
      .register(tfvarsDocs, {
        section: "compute",
        description: 'System disk category: "cloud_essd", "cloud_ssd", "cloud_efficiency" or "cloud_essd_xc1".',
      }),
    system_disk_size_gib: wholeNumber(20, 500)
      .default(40)
      .register(tfvarsDocs, { section: "compute", description: "System disk size, 20-500.", unit: "GiB" }),
    min_instances: wholeNumber(1, 2000).default(2).register(tfvarsDocs, {
      section: "compute",
      description: "Fewest instances, 1-2000: min_instances <= desired_instances <= max_instances.",
    }),
    desired_instances: wholeNumber(1, 2000).optional().register(tfvarsDocs, {
      section: "compute",
      description: "Desired instances, from min_instances to max_instances.",
      whenUnset: "min_instances",
      example: 4,
    }),
    max_instances: wholeNumber(1, 2000)
      .default(10)
      .register(tfvarsDocs, { section: "compute", description: "Most instances, 1-2000, at least min_instances." }),
    scaling_metric: oneOf(["alb_qps", "cpu"]).default("alb_qps").register(tfvarsDocs, {
      section: "compute",
      description: 'Target tracking: "alb_qps" (ALB requests per second per instance) or "cpu" (average CPU utilization, %).',
    }),
    scaling_target_value: z
      .number({ error: "a positive number" })
      .positive({ error: "a positive number" })
      .optional()
      .register(tfvarsDocs, {
        section: "compute",
        description: "The target of that metric (a CPU target is at most 100).",
        whenUnset: "1000 for alb_qps, 60 for cpu",
        example: 1500,
      }),
    instance_warmup_seconds: wholeNumber(0, 86_400).default(300).register(tfvarsDocs, {
      section: "compute",
      description: "Time a new instance needs before its metrics count (boot + app start), 0-86400.",
      unit: "seconds",
    }),
    sale_windows: z
      .array(saleWindowSchema, { error: "a list of { name, starts_at, ends_at, instances }" })
      .max(20, { error: "at most 20 sale windows" })
      .default([])
      .register(tfvarsDocs, {
        section: "compute",
        description:
          'Sale windows (UTC, "YYYY-MM-DDThh:mmZ"), at most 20. Before each, the group is pre-warmed to `instances` (min and ' +
          "desired); after it, it goes back to min/desired above. name: 1-11 of a-z, 0-9, -. ESS accepts scheduled tasks at most " +
          `${MAX_SCHEDULE_AHEAD_DAYS} days ahead; windows already over are left out at synth time.`,
        example: [{ name: "double12", starts_at: "2026-12-12T12:00Z", ends_at: "2026-12-12T14:00Z", instances: 8 }],
      }),
    prewarm_lead_minutes: wholeNumber(5, 1440).default(30).register(tfvarsDocs, {
      section: "compute",
      description: "How long before a sale window's starts_at the group is pre-warmed, 5-1440.",
      unit: "minutes",
    }),
    scale_in_delay_minutes: wholeNumber(0, 1440).default(30).register(tfvarsDocs, {
      section: "compute",
      description: "How long after a sale window's ends_at the group scales back, 0-1440.",
      unit: "minutes",
    }),
    image_id: text(IMAGE_ID, IMAGE_ID_ALLOWED)
      .optional()
      .register(tfvarsDocs, {
        section: "compute",
        description:
          "The image new instances boot from: an Alibaba Cloud Linux 3 x86-64 system image, or a custom image built from one. " +
          "Required in production, so the image changes only when this file does. `npm run synth` prints the newest system " +
          "image next to it when it can ask ECS; `npm run preflight` says how old it is.",
        whenUnset: `"${DEFAULT_IMAGE_ID}" (not in production)`,
        example: DEFAULT_IMAGE_ID,
      }),

    tair_instance_class: text(/^tair\.rdb\.[a-z0-9.]+$/, 'a Tair memory-enhanced class such as "tair.rdb.2g"')
      .default("tair.rdb.2g")
      .register(tfvarsDocs, {
        section: "dataStores",
        description:
          'Class of Tair (Redis 7.0 compatible, memory-enhanced, master-replica over two zones), "tair.rdb.<size>". It can change in place.',
      }),
    tair_shard_count: wholeNumber(1, 32).default(1).register(tfvarsDocs, {
      section: "dataStores",
      description:
        "Tair shards, 1-32: 1 is the standard architecture, more a cluster behind Tair's proxy. A standard instance cannot become a cluster later (a new instance); a cluster's shards are added or removed in place.",
    }),
    tair_replica_ack: oneOf(["wait", "semisync", "async"])
      .optional()
      .register(tfvarsDocs, {
        section: "dataStores",
        description:
          'When an order counts as safe from a Tair failover: "wait" (the service answers 202 only once the replica has it, ' +
          'REDIS_REPLICA_ACK=1; one shard only: proxies do not forward WAIT), "semisync" (Tair\'s semi-synchronous replication, ' +
          'which turns asynchronous without telling anyone while the replica lags) or "async". README, "Acknowledged means replicated".',
        whenUnset: '"wait" with one shard, "semisync" with more',
        example: "wait",
      }),
    // The stack creates Cluster Edition (creation_category "Normal"); ".c" classes are Standard Edition's.
    polardb_node_class: text(
      /^polar\.mysql\.[a-z0-9.]+(?<!\.c)$/,
      'a PolarDB for MySQL Cluster Edition node class such as "polar.mysql.x4.medium" (".c" classes are Standard Edition)',
    )
      .default("polar.mysql.x4.medium")
      .register(tfvarsDocs, {
        section: "dataStores",
        description: 'Node class of PolarDB for MySQL 8.0 Cluster Edition (not a Standard Edition ".c" class).',
      }),
    polardb_node_count: wholeNumber(2, 16).default(2).register(tfvarsDocs, {
      section: "dataStores",
      description: "PolarDB nodes, 2-16: a primary and read-only nodes (provider 1.289.0 adds or removes one node per apply).",
    }),
    polardb_hot_standby: bool.default(true).register(tfvarsDocs, {
      section: "dataStores",
      description: "A PolarDB hot standby in the second zone.",
      replaces: "the PolarDB cluster",
    }),
    data_store_billing: oneOf(["PayAsYouGo", "Subscription"])
      .default("PayAsYouGo")
      .register(tfvarsDocs, {
        section: "dataStores",
        description:
          'Tair and PolarDB billing: "PayAsYouGo" or "Subscription" (prepaid, renewed automatically month by month after the ' +
          "first term; Terraform cannot destroy prepaid instances).",
      }),
    subscription_months: z
      .number({ error: `one of ${SUBSCRIPTION_MONTHS.join(", ")}` })
      .refine((value) => SUBSCRIPTION_MONTHS.includes(value), { error: `one of ${SUBSCRIPTION_MONTHS.join(", ")}` })
      .default(1)
      .register(tfvarsDocs, {
        section: "dataStores",
        description: 'Subscription length: 1-9, 12, 24 or 36. Only used with "Subscription".',
        unit: "months",
      }),
    data_store_extra_whitelist: z
      .array(text(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, 'an IPv4 address or CIDR such as "10.8.0.5" or "10.8.0.0/24"'), {
        error: "a list of IPv4 addresses or CIDRs",
      })
      .max(20, { error: "at most 20 entries" })
      .default([])
      .register(tfvarsDocs, {
        section: "dataStores",
        description:
          "Sources besides the app vSwitches allowed into Tair and PolarDB (a bastion, DMS): IPv4 addresses or CIDRs, at most 20. " +
          "Never 0.0.0.0/0 or a range covering the whole VPC (a guard rail fails synth).",
      }),

    rocketmq_series: oneOf(["standard", "professional", "ultimate"]).default("standard").register(tfvarsDocs, {
      section: "messaging",
      description: 'Series: "standard", "professional" or "ultimate".',
      replaces: ROCKETMQ_INSTANCE,
    }),
    rocketmq_sub_series: oneOf(["cluster_ha", "single_node"]).default("cluster_ha").register(tfvarsDocs, {
      section: "messaging",
      description: 'Sub-series: "cluster_ha" or "single_node" (ultimate: cluster_ha only).',
      replaces: ROCKETMQ_INSTANCE,
    }),
    rocketmq_spec: text(/^rmq\.[spu]\d+\.[a-z0-9]+$/, 'a RocketMQ 5 message-processing spec such as "rmq.s2.2xlarge"')
      .default("rmq.s2.2xlarge")
      .register(tfvarsDocs, {
        section: "messaging",
        description:
          'Message-processing spec of that series ("rmq.s…" standard, "rmq.p…" professional, "rmq.u…" ultimate) and sub-series ' +
          '(the digit: "rmq.s1.micro" single_node, "rmq.s2.2xlarge" cluster_ha).',
        replaces: ROCKETMQ_INSTANCE,
      }),
    rocketmq_message_retention_hours: wholeNumber(1, 720).default(72).register(tfvarsDocs, {
      section: "messaging",
      description: "How long messages are kept, 1-720.",
      unit: "hours",
      replaces: ROCKETMQ_INSTANCE,
    }),

    mse_edition: oneOf(["mse_dev", "mse_pro"]).default("mse_pro").register(tfvarsDocs, {
      section: "registry",
      description: '"mse_dev" (Developer Edition: 1 node, 1C2G or 2C4G) or "mse_pro" (Professional: an odd count >= 3).',
      replaces: "the Nacos cluster",
    }),
    mse_specification: oneOf(MSE_SPECIFICATIONS)
      .default("MSE_SC_2_4_60_c")
      .register(tfvarsDocs, {
        section: "registry",
        description:
          "MSE_SC_<cores>_<GiB>_60_c, or the _200_c variants for international accounts: 1_2, 2_4, 4_8, 8_16, 16_32 " +
          "(Developer Edition: 1_2 and 2_4 only).",
      }),
    mse_instance_count: wholeNumber(1, 15)
      .default(3)
      .register(tfvarsDocs, { section: "registry", description: "Nacos nodes: 1 for mse_dev, an odd count from 3 to 15 for mse_pro." }),

    log_level: oneOf(FLEET_LOG_LEVELS)
      .default("info")
      .register(tfvarsDocs, {
        section: "app",
        description: `The app's log level: ${FLEET_LOG_LEVELS.map((level) => JSON.stringify(level)).join(", ")}.`,
      }),
    workers: wholeNumber(1, 64).optional().register(tfvarsDocs, {
      section: "app",
      description: "Worker processes per instance, 1-64.",
      whenUnset: "unset (one per CPU)",
      example: 2,
    }),

    log_retention_days: wholeNumber(1, 3650).default(30).register(tfvarsDocs, {
      section: "observability",
      description: "How long SLS keeps the service, boot and ALB access logs, 1-3650 (3650: for good).",
      unit: "days",
    }),
    alarm_contacts: z
      .array(alarmContactSchema, { error: ALARM_CONTACTS_ALLOWED })
      .max(MAX_ALARM_CONTACTS, { error: ALARM_CONTACTS_ALLOWED })
      .default([])
      .register(tfvarsDocs, {
        section: "observability",
        description:
          `Who CloudMonitor alarms reach, at most ${MAX_ALARM_CONTACTS}: { name (2-40 characters), and at least one of email, ` +
          "phone (digits, optionally +country), dingtalk_webhook (https://oapi.dingtalk.com/robot/send?access_token=…) }. " +
          "An email or phone receives an activation message first and gets alarms only once activated. Required in production.",
        example: [
          { name: "sale-oncall", email: "oncall@example.com", dingtalk_webhook: "https://oapi.dingtalk.com/robot/send?access_token=abc" },
        ],
      }),
    sls_alert_action_policy_id: text(/^[A-Za-z0-9_.-]{1,128}$/, "an SLS alert action policy id")
      .optional()
      .register(tfvarsDocs, {
        section: "observability",
        description:
          "The SLS action policy (Alert Center → Notification management → Action policies) that delivers the log alerts: " +
          "SLS sends them through its own users and channels, not CloudMonitor's contacts.",
        whenUnset: "unset (the log alerts fire in the SLS Alert Center only)",
        example: "seckill-oncall",
      }),
    alarm_usage_percent: alarmThreshold(
      100,
      80,
      "Alarm when an app instance's CPU, Tair CPU, memory or connection usage, or PolarDB CPU or connection usage, stays above it, 1-100.",
      "%",
    ),
    alarm_backend_5xx_per_second: alarmThreshold(
      1_000_000,
      5,
      "Alarm when the fleet answers more 5xx than this through the ALB (the ALB's own 503s from rate limits excluded).",
      "responses per second",
    ),
    alarm_rejected_connections_per_second: alarmThreshold(
      1_000_000,
      1,
      "Alarm when the ALB drops more new connections than this (its connection capacity is reached).",
      "connections per second",
    ),
    alarm_p99_response_ms: alarmThreshold(
      600_000,
      1000,
      "Alert when the 99th percentile of the fleet's response time, from the ALB access log, exceeds it over 5 minutes.",
      "ms",
    ),
    alarm_throttled_per_minute: alarmThreshold(
      100_000_000,
      60_000,
      "Alert when the ALB rate limits turn away more requests than this in a minute (from the access log).",
      "requests per minute",
    ),
    alarm_polardb_replica_lag_seconds: alarmThreshold(
      86_400,
      5,
      "Alarm when a PolarDB read-only node lags the primary by more than this.",
      "seconds",
    ),
    alarm_writer_lag_seconds: alarmThreshold(
      86_400,
      10,
      "Alert when the oldest order event not yet delivered from Redis is older than this (the order writer's lag).",
      "seconds",
    ),
    alarm_order_backlog: alarmThreshold(
      100_000_000,
      10_000,
      "Alert when more order events than this wait unconfirmed, in Redis (the writer's backlog) or in RocketMQ (the consumer's lag).",
      "events",
    ),

    state_backend: stateBackendSchema.optional().register(tfvarsDocs, {
      section: "stateBackend",
      description:
        'Remote state in OSS with a Tablestore lock table (primary key LockID, String). prefix defaults to "seckill/<env>", ' +
        "region to `region`.",
      whenUnset: "unset (local state file terraform.seckill-<env>.tfstate in the repository root)",
      example: {
        bucket: "my-company-tfstate",
        prefix: "seckill/prod",
        region: "cn-hangzhou",
        tablestore_endpoint: "https://tf-lock.cn-hangzhou.ots.aliyuncs.com",
        tablestore_table: "terraform_state_lock",
      },
    }),
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
