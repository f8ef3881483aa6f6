import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { EnvConfig, TFVARS_KEYS, TfvarsError, loadAllEnvConfigs, loadEnvConfig, validateEnvConfig } from "../../stacks/config";

const FILE = "envs/test.tfvars";
const NOW = new Date("2026-11-25T00:00:00Z");
const MINIMAL = `region = "cn-hangzhou"\nzones = ["cn-hangzhou-j", "cn-hangzhou-k"]\n`;

async function configFrom(tfvars: string, envName = "test"): Promise<EnvConfig> {
  return validateEnvConfig(await parse(FILE, tfvars), { envName, sourceFile: FILE, now: NOW });
}

/** The TfvarsError the tfvars raise (fails the test when they are accepted). */
async function problemsOf(tfvars: string, envName = "test"): Promise<TfvarsError> {
  try {
    await configFrom(tfvars, envName);
  } catch (error) {
    if (error instanceof TfvarsError) return error;
    throw error;
  }
  throw new Error(`accepted:\n${tfvars}`);
}

describe("tfvars config", () => {
  test("a file with only region and zones gets every default", async () => {
    const config = await configFrom(MINIMAL);
    expect(config).toMatchObject({
      envName: "test",
      region: "cn-hangzhou",
      zones: ["cn-hangzhou-j", "cn-hangzhou-k"],
      production: false,
      deletionProtection: false,
      network: {
        vpcCidr: "10.0.0.0/16",
        appVswitchCidrs: ["10.0.0.0/20", "10.0.16.0/20"],
        dataVswitchCidrs: ["10.0.224.0/24", "10.0.225.0/24"],
        albVswitchCidrs: ["10.0.240.0/24", "10.0.241.0/24"],
        natBandwidthMbps: 50,
      },
      ingress: { albEdition: "Standard", orderRateLimit: { qps: 2000, perIpQps: 10 }, readRateLimit: { qps: 10000, perIpQps: 50 } },
      compute: {
        appPort: 8080,
        minInstances: 2,
        desiredInstances: 2,
        maxInstances: 10,
        scalingMetric: "alb_qps",
        scalingTargetValue: 1000,
        saleWindows: [],
      },
      cache: { instanceClass: "tair.rdb.2g", shardCount: 1, replicaAck: "wait" },
      database: { nodeClass: "polar.mysql.x4.medium", nodeCount: 2, hotStandby: true },
      dataStores: { billing: "PayAsYouGo", extraWhitelist: [] },
      messaging: { series: "standard", subSeries: "cluster_ha", msgProcessSpec: "rmq.s2.2xlarge", messageRetentionHours: 72 },
      registry: { edition: "mse_pro", specification: "MSE_SC_2_4_60_c", instanceCount: 3 },
      app: { logLevel: "info" },
    });
    expect(config.ingress.certificateId).toBeUndefined();
    expect(config.ingress.dns).toBeUndefined();
    expect(config.salePage.domain).toBeUndefined();
    expect(config.stateBackend).toBeUndefined();
  });

  test("a sale page record publishes the page in the DNS zone, served domestically unless the file says otherwise", async () => {
    const dns = `${MINIMAL}dns_domain_name = "example.com"\ndns_record_name = "api"\nsale_page_record_name = "shop"\n`;
    expect((await configFrom(dns)).salePage.domain).toEqual({ domainName: "example.com", recordName: "shop", cdnScope: "domestic" });
    const https = `${dns}certificate_id = "8806512-cn-hangzhou"\nsale_page_cdn_scope = "global"\nsale_page_certificate_id = "8806513-cn-hangzhou"\n`;
    expect((await configFrom(https)).salePage.domain).toEqual({
      domainName: "example.com",
      recordName: "shop",
      cdnScope: "global",
      certificateId: "8806513-cn-hangzhou",
    });
  });

  test("production turns deletion protection on unless the file says otherwise", async () => {
    const production =
      `${MINIMAL}production = true\nimage_id = "aliyun_3_x64_20G_alibase_20251030.vhd"\nadmin_cidrs = ["203.0.113.0/24"]\n` +
      `alarm_contacts = [{ name = "oncall", email = "oncall@example.com" }]\n`;
    expect((await configFrom(production)).deletionProtection).toBe(true);
    expect((await configFrom(`${production}deletion_protection = false\n`)).deletionProtection).toBe(false);
  });

  test("the image comes from image_id; outside production it defaults to the system image the stacks were tested with", async () => {
    expect((await configFrom(`${MINIMAL}image_id = "m-bp1abcdefgh123456"\n`)).compute.imageId).toBe("m-bp1abcdefgh123456");
    expect((await configFrom(MINIMAL)).compute.imageId).toBe("aliyun_3_x64_20G_alibase_20251030.vhd");
    const contact = `alarm_contacts = [{ name = "oncall", email = "oncall@example.com" }]\n`;
    expect((await problemsOf(`${MINIMAL}production = true\nadmin_cidrs = ["203.0.113.0/24"]\n${contact}`)).problems).toEqual([
      "image_id = (missing): expected an image id set in the file of a production environment (so the image changes only when the file does)",
    ]);
    expect((await problemsOf(`${MINIMAL}image_id = "ubuntu_22_04_x64_20G_alibase_20250101.vhd"\n`)).problems).toEqual([
      'image_id = "ubuntu_22_04_x64_20G_alibase_20250101.vhd": expected a system image id "aliyun_3_x64_20G_alibase_<YYYYMMDD>.vhd" or a custom image id "m-…"',
    ]);
  });

  test("the settings whose change replaces resources are kept with their values in effect, carved CIDRs included", async () => {
    expect((await configFrom(MINIMAL)).replacingSettings).toEqual({
      zones: ["cn-hangzhou-j", "cn-hangzhou-k"],
      app_vswitch_cidrs: ["10.0.0.0/20", "10.0.16.0/20"],
      alb_vswitch_cidrs: ["10.0.240.0/24", "10.0.241.0/24"],
      data_vswitch_cidrs: ["10.0.224.0/24", "10.0.225.0/24"],
      polardb_hot_standby: true,
      rocketmq_series: "standard",
      rocketmq_sub_series: "cluster_ha",
      rocketmq_spec: "rmq.s2.2xlarge",
      rocketmq_message_retention_hours: 72,
      mse_edition: "mse_pro",
    });
  });

  test("the edge: TLS 1.2 unless told otherwise, the admin plane closed without admin_cidrs, a default limit on every other path", async () => {
    expect((await configFrom(MINIMAL)).ingress).toMatchObject({
      tlsSecurityPolicy: "tls_cipher_policy_1_2",
      adminCidrs: [],
      defaultRateLimit: { qps: 1000, perIpQps: 20 },
    });
    const edge = `${MINIMAL}tls_security_policy = "tls_cipher_policy_1_2_strict_with_1_3"\nadmin_cidrs = ["203.0.113.0/24", "198.51.100.7/32"]\n`;
    expect((await configFrom(edge)).ingress).toMatchObject({
      tlsSecurityPolicy: "tls_cipher_policy_1_2_strict_with_1_3",
      adminCidrs: ["203.0.113.0/24", "198.51.100.7/32"],
    });
  });

  test("the CPU metric defaults its target to 60 %", async () => {
    expect((await configFrom(`${MINIMAL}scaling_metric = "cpu"\n`)).compute.scalingTargetValue).toBe(60);
  });

  test("a third zone gets a third vSwitch in every tier", async () => {
    const config = await configFrom(`region = "cn-hangzhou"\nzones = ["cn-hangzhou-h", "cn-hangzhou-j", "cn-hangzhou-k"]\n`);
    expect(config.network.appVswitchCidrs).toEqual(["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]);
    expect(config.network.albVswitchCidrs).toHaveLength(3);
    expect(config.network.dataVswitchCidrs).toHaveLength(3);
  });

  test("sale windows become dates, and the state backend defaults its prefix and region", async () => {
    const config = await configFrom(`${MINIMAL}
sale_windows = [{ name = "d12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00:00Z", instances = 5 }]
state_backend = { bucket = "acme-tfstate", tablestore_endpoint = "https://lock.cn-hangzhou.ots.aliyuncs.com", tablestore_table = "tf_lock" }
`);
    expect(config.compute.saleWindows).toEqual([
      { name: "d12", startsAt: new Date("2026-12-12T12:00:00Z"), endsAt: new Date("2026-12-12T14:00:00Z"), instances: 5 },
    ]);
    expect(config.stateBackend).toEqual({
      bucket: "acme-tfstate",
      prefix: "seckill/test",
      region: "cn-hangzhou",
      tablestoreEndpoint: "https://lock.cn-hangzhou.ots.aliyuncs.com",
      tablestoreTable: "tf_lock",
    });
  });

  test("the shipped environments load: dev small, prod production-grade", async () => {
    const configs = await loadAllEnvConfigs(path.resolve("envs"), NOW);
    const byName = Object.fromEntries(configs.map((config) => [config.envName, config]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(["dev", "prod"]));
    expect(byName.dev).toMatchObject({ production: false, deletionProtection: false, sourceFile: path.join("envs", "dev.tfvars") });
    expect(byName.prod).toMatchObject({ production: true, deletionProtection: true });
    expect(byName.prod.compute.maxInstances).toBeGreaterThan(byName.dev.compute.maxInstances);
    expect(byName.prod.compute.minInstances).toBeGreaterThanOrEqual(byName.prod.zones.length);
    expect(byName.prod.cache.replicaAck).toBe("wait");
  });

  test("terraform.tfvars.example documents every key and is itself a valid environment", async () => {
    const example = await readFile("terraform.tfvars.example", "utf8");
    const undocumented = TFVARS_KEYS.filter((key) => !new RegExp(`^(#\\s*)?${key}\\s*=`, "m").test(example));
    expect(undocumented).toEqual([]);
    await expect(configFrom(example, "example")).resolves.toMatchObject({ region: "cn-hangzhou" });
  });

  test("a file read from disk is named as given and the environment comes from its name", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "seckill-config-"));
    try {
      const file = path.join(dir, "staging.tfvars");
      await writeFile(file, `${MINIMAL}app_port = 80\n`);
      await expect(loadEnvConfig(file, NOW)).rejects.toThrow(
        `${path.relative(process.cwd(), file)}: invalid configuration\n  - app_port = 80: expected a whole number from 1024 to 65535`,
      );
      await writeFile(file, MINIMAL);
      expect((await loadEnvConfig(file, NOW)).envName).toBe("staging");
      await writeFile(file, `${MINIMAL}region = \n`);
      await expect(loadEnvConfig(file, NOW)).rejects.toThrow(
        /staging\.tfvars: invalid configuration\n {2}- not valid HCL: .*Invalid expression/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("every problem of a file is reported at once", async () => {
    const error = await problemsOf(`${MINIMAL}app_port = 1\nlog_level = "loud"\n`);
    expect(error.problems).toEqual([
      "app_port = 1: expected a whole number from 1024 to 65535",
      'log_level = "loud": expected one of "fatal", "error", "warn", "info", "debug", "trace"',
    ]);
  });

  // Each bad value → the message names the key, the value and what is allowed (the file is in every message).
  test.each<[string, string, string]>([
    [
      "a missing required key",
      `zones = ["cn-hangzhou-j", "cn-hangzhou-k"]`,
      `region = (missing): expected a region id such as "cn-hangzhou"`,
    ],
    ["a value of the wrong type", `${MINIMAL}min_instances = "2"`, 'min_instances = "2": expected a whole number from 1 to 2000'],
    [
      "a misspelt key",
      `${MINIMAL}order_rate_limit_qsp = 10`,
      'order_rate_limit_qsp = 10: expected no such key (did you mean "order_rate_limit_qps"?)',
    ],
    ["an unknown key", `${MINIMAL}colour = "blue"`, 'colour = "blue": expected no such key (terraform.tfvars.example lists every key)'],
    [
      "an expression",
      `${MINIMAL}log_level = var.level`,
      'log_level = "${var.level}": expected a literal value (tfvars are read at synth time',
    ],
    ["one zone", `region = "cn-hangzhou"\nzones = ["cn-hangzhou-j"]`, 'zones = ["cn-hangzhou-j"]: expected a list of 2 or 3 zone ids'],
    [
      "WAIT on a Tair cluster",
      `${MINIMAL}tair_shard_count = 2\ntair_replica_ack = "wait"`,
      'tair_replica_ack = "wait": expected "semisync" or "async" with tair_shard_count 2 (a cluster is reached through proxies',
    ],
    [
      "a zone of another region",
      `region = "cn-hangzhou"\nzones = ["cn-hangzhou-j", "cn-shanghai-l"]`,
      'zones = ["cn-hangzhou-j","cn-shanghai-l"]: expected distinct zones of region "cn-hangzhou"',
    ],
    ["the same zone twice", `region = "cn-hangzhou"\nzones = ["cn-hangzhou-j", "cn-hangzhou-j"]`, "expected distinct zones of region"],
    [
      "a zone of a region with a longer name",
      `region = "cn-hangzhou"\nzones = ["cn-hangzhou-j", "cn-hangzhou-finance-1a"]`,
      "expected distinct zones of region",
    ],
    [
      "a public VPC range",
      `${MINIMAL}vpc_cidr = "8.8.0.0/16"`,
      'vpc_cidr = "8.8.0.0/16": expected a private CIDR (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)',
    ],
    [
      "a CIDR with host bits",
      `${MINIMAL}vpc_cidr = "10.0.0.1/16"`,
      'vpc_cidr = "10.0.0.1/16": expected an IPv4 CIDR such as "10.0.0.0/16" (no host bits set)',
    ],
    [
      "a vSwitch outside the VPC",
      `${MINIMAL}app_vswitch_cidrs = ["10.1.0.0/20", "10.0.16.0/20"]`,
      'app_vswitch_cidrs[0] = "10.1.0.0/20": expected a CIDR of prefix /16 to /29 inside vpc_cidr 10.0.0.0/16',
    ],
    [
      "overlapping vSwitches",
      `${MINIMAL}data_vswitch_cidrs = ["10.0.1.0/24", "10.0.225.0/24"]`,
      'data_vswitch_cidrs[0] = "10.0.1.0/24": expected a CIDR that does not overlap app_vswitch_cidrs[0] (10.0.0.0/20)',
    ],
    [
      "too few vSwitch CIDRs",
      `${MINIMAL}alb_vswitch_cidrs = ["10.0.240.0/24"]`,
      'alb_vswitch_cidrs = ["10.0.240.0/24"]: expected one CIDR per zone (2)',
    ],
    [
      "a VPC too small to carve defaults from",
      `${MINIMAL}vpc_cidr = "10.0.0.0/24"`,
      'vpc_cidr = "10.0.0.0/24": expected a VPC of prefix /12 to /21 to carve the default vSwitch CIDRs from, or explicit data_vswitch_cidrs, alb_vswitch_cidrs',
    ],
    ["max below min", `${MINIMAL}min_instances = 4\nmax_instances = 2`, "max_instances = 2: expected at least min_instances (4)"],
    [
      "desired outside min..max",
      `${MINIMAL}desired_instances = 20`,
      "desired_instances = 20: expected from min_instances (2) to max_instances (10)",
    ],
    [
      "a CPU target above 100 %",
      `${MINIMAL}scaling_metric = "cpu"\nscaling_target_value = 150`,
      'scaling_target_value = 150: expected a CPU utilization from 1 to 100 (%) with scaling_metric "cpu"',
    ],
    ["a rate limit of 0", `${MINIMAL}order_rate_limit_qps = 0`, "order_rate_limit_qps = 0: expected a whole number from 1 to 100000"],
    [
      "a rate limit above ALB's maximum",
      `${MINIMAL}read_rate_limit_qps = 100001`,
      "read_rate_limit_qps = 100001: expected a whole number from 1 to 100000",
    ],
    [
      "a per-IP limit not below the total",
      `${MINIMAL}order_rate_limit_per_ip_qps = 2000`,
      "order_rate_limit_per_ip_qps = 2000: expected below order_rate_limit_qps (2000); ALB rejects per_ip_qps >= qps",
    ],
    [
      "a default per-IP limit not below the default total",
      `${MINIMAL}default_rate_limit_per_ip_qps = 1000`,
      "default_rate_limit_per_ip_qps = 1000: expected below default_rate_limit_qps (1000); ALB rejects per_ip_qps >= qps",
    ],
    [
      "a TLS policy that admits TLS 1.0",
      `${MINIMAL}tls_security_policy = "tls_cipher_policy_1_0"`,
      'tls_security_policy = "tls_cipher_policy_1_0": expected one of "tls_cipher_policy_1_2", "tls_cipher_policy_1_2_strict", "tls_cipher_policy_1_2_strict_with_1_3"',
    ],
    [
      "production without the operators' networks",
      `${MINIMAL}production = true`,
      "admin_cidrs = (missing): expected the operators' networks, required with production = true: the ALB forwards the admin plane from nowhere else",
    ],
    [
      "the whole internet as an operator network",
      `${MINIMAL}admin_cidrs = ["0.0.0.0/0"]`,
      'admin_cidrs[0] = "0.0.0.0/0": expected a list of 1 to 5 IPv4 CIDRs of operator networks, none wider than /8',
    ],
    [
      "more operator networks than an ALB SourceIp condition holds",
      `${MINIMAL}admin_cidrs = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"]`,
      'admin_cidrs = ["10.0.1.0/24","10.0.2.0/24","10.0.3.0/24","10.0.4.0/24","10.0.5.0/24","10.0.6.0/24"]: expected a list of 1 to 5 IPv4 CIDRs of operator networks, none wider than /8',
    ],
    [
      "production without an alarm contact",
      `${MINIMAL}production = true\nadmin_cidrs = ["203.0.113.0/24"]\nimage_id = "m-bp1examplecustom"`,
      "alarm_contacts = []: expected at least one contact, required with production = true: an alarm that reaches nobody wakes nobody",
    ],
    [
      "an alarm contact reached by nothing",
      `${MINIMAL}alarm_contacts = [{ name = "oncall" }]`,
      'alarm_contacts[0] = {"name":"oncall"}: expected at least one of email, phone and dingtalk_webhook, or the contact is reached by nothing',
    ],
    [
      "an alarm contact's DingTalk webhook elsewhere",
      `${MINIMAL}alarm_contacts = [{ name = "oncall", dingtalk_webhook = "https://example.com/hook" }]`,
      'alarm_contacts[0].dingtalk_webhook = "https://example.com/hook": expected a DingTalk robot webhook "https://oapi.dingtalk.com/robot/send?access_token=…"',
    ],
    [
      "reads limited below orders",
      `${MINIMAL}read_rate_limit_qps = 1500`,
      "read_rate_limit_qps = 1500: expected above order_rate_limit_qps (2000): reads get the higher limit",
    ],
    ["the Basic ALB edition", `${MINIMAL}alb_edition = "Basic"`, 'alb_edition = "Basic": expected one of "Standard", "StandardWithWaf"'],
    [
      "a domain without a record name",
      `${MINIMAL}dns_domain_name = "example.com"`,
      "dns_record_name = (missing): expected set together with the other dns_* key (or neither)",
    ],
    [
      "a sale page record without a DNS zone",
      `${MINIMAL}sale_page_record_name = "shop"`,
      'sale_page_record_name = "shop": expected set only with dns_domain_name (the page\'s host is <sale_page_record_name>.<dns_domain_name>)',
    ],
    [
      "a sale page on the ALB's host record",
      `${MINIMAL}dns_domain_name = "example.com"\ndns_record_name = "sale"\nsale_page_record_name = "sale"`,
      'sale_page_record_name = "sale": expected a host record other than dns_record_name ("sale"), which points at the ALB',
    ],
    [
      "a wildcard sale page record",
      `${MINIMAL}dns_domain_name = "example.com"\ndns_record_name = "api"\nsale_page_record_name = "*"`,
      'sale_page_record_name = "*": expected a host record such as "shop" or "@" (no wildcard)',
    ],
    [
      "an unknown CDN scope",
      `${MINIMAL}sale_page_cdn_scope = "china"`,
      'sale_page_cdn_scope = "china": expected one of "domestic", "overseas", "global"',
    ],
    [
      "a CDN scope without a sale page record",
      `${MINIMAL}sale_page_cdn_scope = "global"`,
      'sale_page_cdn_scope = "global": expected set only with sale_page_record_name (without a page domain there is no CDN)',
    ],
    [
      "a page certificate without a sale page record",
      `${MINIMAL}certificate_id = "1-cn-hangzhou"\nsale_page_certificate_id = "2-cn-hangzhou"`,
      'sale_page_certificate_id = "2-cn-hangzhou": expected set only with sale_page_record_name',
    ],
    [
      "an HTTPS page in front of an HTTP API",
      `${MINIMAL}dns_domain_name = "example.com"\ndns_record_name = "api"\nsale_page_record_name = "shop"\nsale_page_certificate_id = "2-cn-hangzhou"`,
      'sale_page_certificate_id = "2-cn-hangzhou": expected set only with certificate_id: a page served over HTTPS may call only an HTTPS API (browsers block mixed content)',
    ],
    [
      "a sale window in local time",
      `${MINIMAL}sale_windows = [{ name = "d12", starts_at = "2026-12-12 12:00", ends_at = "2026-12-12T14:00Z", instances = 2 }]`,
      'sale_windows[0].starts_at = "2026-12-12 12:00": expected a UTC time to the minute, "YYYY-MM-DDThh:mmZ"',
    ],
    [
      "a sale window ending before it starts",
      `${MINIMAL}sale_windows = [{ name = "d12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T11:00Z", instances = 2 }]`,
      'sale_windows[0].ends_at = "2026-12-12T11:00Z": expected after starts_at (2026-12-12T12:00Z)',
    ],
    [
      "a sale window more than 90 days ahead",
      `${MINIMAL}sale_windows = [{ name = "summer", starts_at = "2027-06-18T12:00Z", ends_at = "2027-06-18T14:00Z", instances = 2 }]`,
      'sale_windows[0].ends_at = "2027-06-18T14:00Z": expected a sale whose scale-in (ends_at + scale_in_delay_minutes) is at most 90 days after synth time 2026-11-25T00:00:00.000Z',
    ],
    [
      "a sale window bigger than the group",
      `${MINIMAL}sale_windows = [{ name = "d12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 11 }]`,
      "sale_windows[0].instances = 11: expected from min_instances (2) to max_instances (10)",
    ],
    [
      "a sale window with an unknown field",
      `${MINIMAL}sale_windows = [{ name = "d12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 2, size = 3 }]`,
      "sale_windows[0].size = 3: expected no such key",
    ],
    [
      "two sale windows with one name",
      `${MINIMAL}sale_windows = [
  { name = "d12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 2 },
  { name = "d12", starts_at = "2026-12-13T12:00Z", ends_at = "2026-12-13T14:00Z", instances = 2 },
]`,
      'sale_windows[1].name = "d12": expected a name no other sale window uses',
    ],
    [
      "overlapping sale windows",
      `${MINIMAL}sale_windows = [
  { name = "a", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 2 },
  { name = "b", starts_at = "2026-12-12T14:15Z", ends_at = "2026-12-12T15:00Z", instances = 2 },
]`,
      'sale_windows[1].starts_at = "2026-12-12T14:15Z": expected a window whose pre-warm-to-scale-in span does not overlap sale window "a"',
    ],
    [
      "a RocketMQ spec of another series",
      `${MINIMAL}rocketmq_series = "professional"`,
      'rocketmq_spec = "rmq.s2.2xlarge": expected a spec of the professional series ("rmq.p…")',
    ],
    [
      "a cluster spec for a single-node RocketMQ",
      `${MINIMAL}rocketmq_sub_series = "single_node"`,
      'rocketmq_spec = "rmq.s2.2xlarge": expected a single_node spec ("rmq.s1.…")',
    ],
    [
      "a single-node ultimate RocketMQ",
      `${MINIMAL}rocketmq_series = "ultimate"\nrocketmq_spec = "rmq.u2.10xlarge"\nrocketmq_sub_series = "single_node"`,
      'rocketmq_sub_series = "single_node": expected "cluster_ha" (the only sub-series of the ultimate series)',
    ],
    [
      "serverless RocketMQ",
      `${MINIMAL}rocketmq_sub_series = "serverless"`,
      'rocketmq_sub_series = "serverless": expected one of "cluster_ha", "single_node"',
    ],
    [
      "a Developer Edition Nacos with 3 nodes",
      `${MINIMAL}mse_edition = "mse_dev"\nmse_specification = "MSE_SC_1_2_60_c"`,
      'mse_instance_count = 3: expected 1 with mse_edition "mse_dev"',
    ],
    [
      "a Professional Nacos with an even node count",
      `${MINIMAL}mse_instance_count = 2`,
      'mse_instance_count = 2: expected an odd count of at least 3 with mse_edition "mse_pro"',
    ],
    [
      "an unknown MSE spec",
      `${MINIMAL}mse_specification = "MSE_SC_3_6_60_c"`,
      'mse_specification = "MSE_SC_3_6_60_c": expected one of "MSE_SC_1_2_60_c"',
    ],
    [
      "a Tair class of another series",
      `${MINIMAL}tair_instance_class = "redis.master.small.default"`,
      'tair_instance_class = "redis.master.small.default": expected a Tair memory-enhanced class such as "tair.rdb.2g"',
    ],
    ["one PolarDB node", `${MINIMAL}polardb_node_count = 1`, "polardb_node_count = 1: expected a whole number from 2 to 16"],
    [
      "a PolarDB Standard Edition class",
      `${MINIMAL}polardb_node_class = "polar.mysql.x2.large.c"`,
      'polardb_node_class = "polar.mysql.x2.large.c": expected a PolarDB for MySQL Cluster Edition node class such as "polar.mysql.x4.medium" (".c" classes are Standard Edition)',
    ],
    [
      "an unsupported subscription length",
      `${MINIMAL}data_store_billing = "Subscription"\nsubscription_months = 10`,
      "subscription_months = 10: expected one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36",
    ],
    [
      "a whitelist entry that is no address",
      `${MINIMAL}data_store_extra_whitelist = ["bastion"]`,
      'data_store_extra_whitelist[0] = "bastion": expected an IPv4 address or CIDR',
    ],
    [
      "a state prefix starting with a slash",
      `${MINIMAL}state_backend = { bucket = "acme-tfstate", prefix = "/seckill" }`,
      'state_backend.prefix = "/seckill": expected a key prefix not starting with "/" or "."',
    ],
    [
      "a tag key reserved by Alibaba Cloud",
      `${MINIMAL}tags = { "aliyun:team" = "x" }`,
      'tags.aliyun:team = "x": expected a map of tag keys (1-64 characters) to values (at most 128), neither starting with "aliyun"',
    ],
  ])("%s is refused with its key, value and what is allowed", async (_case, tfvars, message) => {
    const error = await problemsOf(tfvars);
    expect(error.message).toContain(`${FILE}: invalid configuration`);
    expect(error.problems.join("\n")).toContain(message);
  });

  test("an environment name that cannot name resources is refused", async () => {
    const error = await problemsOf(MINIMAL, "Prod-EU");
    expect(error.problems).toEqual([
      'environment name "Prod-EU" (from the file name): expected 2-12 characters of a-z and 0-9, starting with a letter',
    ]);
  });
});
