/**
 * Policy checks that fail synth (node.addValidation, so `cdktf synth` and `Testing.synth(stack, true)` both stop).
 * They read the stack's Terraform JSON — what would be deployed — rather than construct props, so they also catch
 * resources added later by other constructs.
 */
import { IValidation } from "constructs";
import { TerraformStack } from "cdktf";
import { constructPath, singleBlock, type TerraformBlock, type TerraformJson } from "../contract/terraform-json";
import type { DataStoreBilling } from "./config";
import { cidrContains, parseCidr } from "./cidr";

export interface GuardRailContext {
  readonly vpcCidr: string;
  /** The ALB listener ports: the only ports that may be open to 0.0.0.0/0. */
  readonly listenerPorts: readonly number[];
  readonly production: boolean;
  /** What tfvars asked for; Subscription permits prepaid Tair and PolarDB. */
  readonly dataStoreBilling: DataStoreBilling;
}

export interface GuardRailResource {
  readonly type: string;
  /** The construct path, for messages. */
  readonly path: string;
  readonly config: TerraformBlock;
}
type Rule = (resources: readonly GuardRailResource[], context: GuardRailContext) => string[];

const ANYWHERE = ["0.0.0.0/0", "0.0.0.0"];

function isExpression(value: unknown): boolean {
  return typeof value === "string" && value.includes("${");
}

function ofType(resources: readonly GuardRailResource[], type: string): GuardRailResource[] {
  return resources.filter((resource) => resource.type === type);
}

export const noPublicIngressExceptListenerPorts: Rule = (resources, { listenerPorts }) =>
  ofType(resources, "alicloud_security_group_rule").flatMap(({ path, config }) => {
    if (config.type !== "ingress") return [];
    if (isExpression(config.cidr_ip))
      return [`${path}: ingress cidr_ip ${config.cidr_ip} is computed; use a literal CIDR so the open-to-the-internet check can verify it`];
    if (!ANYWHERE.includes(config.cidr_ip) && config.ipv6_cidr_ip !== "::/0") return [];
    const listenerPort = listenerPorts.some((port) => config.ip_protocol === "tcp" && config.port_range === `${port}/${port}`);
    return listenerPort
      ? []
      : [
          `${path}: ingress ${config.ip_protocol} ${config.port_range ?? "-1/-1"} is open to ${config.cidr_ip ?? config.ipv6_cidr_ip}; only the ALB listener ports (${listenerPorts.join(", ")}) may be open to the internet`,
        ];
  });

function whitelistProblems(path: string, attribute: string, entries: readonly unknown[], vpcCidr: string): string[] {
  const vpc = parseCidr(vpcCidr)!;
  return entries.flatMap((entry) => {
    if (typeof entry !== "string" || isExpression(entry))
      return [`${path}: ${attribute} entry ${String(entry)} is computed; whitelist literal app vSwitch CIDRs`];
    if (ANYWHERE.includes(entry))
      return [`${path}: ${attribute} whitelists ${entry}, the whole internet; allow the app vSwitch CIDRs only`];
    const cidr = parseCidr(entry.includes("/") ? entry : `${entry}/32`);
    if (!cidr) return [`${path}: ${attribute} entry "${entry}" is not an IPv4 address or CIDR`];
    return cidrContains(cidr, vpc)
      ? [`${path}: ${attribute} whitelists ${entry}, which covers the whole VPC ${vpcCidr}; allow the app vSwitch CIDRs only`]
      : [];
  });
}

export const dataStoresWhitelistNarrowly: Rule = (resources, { vpcCidr }) => [
  ...ofType(resources, "alicloud_redis_tair_instance").flatMap(({ path, config }) =>
    typeof config.security_ips === "string" ? whitelistProblems(path, "security_ips", config.security_ips.split(","), vpcCidr) : [],
  ),
  ...ofType(resources, "alicloud_polardb_cluster").flatMap(({ path, config }) => [
    ...(config.security_ips !== undefined ? [`${path}: top-level security_ips is deprecated; whitelist through db_cluster_ip_array`] : []),
    ...((config.db_cluster_ip_array ?? []) as TerraformBlock[]).flatMap((group) =>
      whitelistProblems(path, `db_cluster_ip_array "${group.db_cluster_ip_array_name}"`, group.security_ips ?? [], vpcCidr),
    ),
  ]),
  ...ofType(resources, "alicloud_rocketmq_instance").flatMap(({ path, config }) =>
    whitelistProblems(path, "ip_whitelists", config.ip_whitelists ?? [], vpcCidr),
  ),
];

export const dataStoresPayAsYouGo: Rule = (resources, { dataStoreBilling }) =>
  dataStoreBilling === "Subscription"
    ? []
    : [
        ...ofType(resources, "alicloud_redis_tair_instance")
          .filter(({ config }) => config.payment_type !== "PayAsYouGo")
          .map(
            ({ path, config }) =>
              `${path}: payment_type is ${config.payment_type ?? "unset (the provider default is Subscription)"}; Tair must be PayAsYouGo unless tfvars set data_store_billing = "Subscription"`,
          ),
        ...ofType(resources, "alicloud_polardb_cluster")
          .filter(({ config }) => config.pay_type !== undefined && config.pay_type !== "PostPaid")
          .map(
            ({ path, config }) =>
              `${path}: pay_type is ${config.pay_type}; PolarDB must be PostPaid unless tfvars set data_store_billing = "Subscription"`,
          ),
      ];

export const productionDeletionProtection: Rule = (resources, { production }) =>
  !production
    ? []
    : [
        ...ofType(resources, "alicloud_alb_load_balancer")
          .filter(
            ({ config }) => config.deletion_protection_enabled !== true && singleBlock(config.deletion_protection_config)?.enabled !== true,
          )
          .map(({ path }) => `${path}: a production ALB needs deletion protection (deletion_protection_enabled = true)`),
        ...ofType(resources, "alicloud_polardb_cluster")
          // Terraform cannot delete a prepaid cluster: its billing protects it.
          .filter(({ config }) => config.pay_type !== "PrePaid" && config.deletion_lock !== 1)
          .map(({ path }) => `${path}: a production PolarDB cluster needs deletion_lock = 1`),
      ];

const PUBLIC_ACLS = ["public-read", "public-read-write"];

export const ossBucketsPrivateAndEncrypted: Rule = (resources) => [
  ...ofType(resources, "alicloud_oss_bucket").flatMap(({ path, config }) => [
    ...(PUBLIC_ACLS.includes(config.acl) ? [`${path}: acl ${config.acl} makes the bucket public; keep it private`] : []),
    ...(singleBlock(config.server_side_encryption_rule)?.sse_algorithm === undefined
      ? [`${path}: no server_side_encryption_rule; encrypt the bucket at rest`]
      : []),
  ]),
  ...ofType(resources, "alicloud_oss_bucket_acl")
    .filter(({ config }) => PUBLIC_ACLS.includes(config.acl))
    .map(({ path, config }) => `${path}: acl ${config.acl} makes the bucket public; keep it private`),
];

export const GUARD_RAILS: readonly Rule[] = [
  noPublicIngressExceptListenerPorts,
  dataStoresWhitelistNarrowly,
  dataStoresPayAsYouGo,
  productionDeletionProtection,
  ossBucketsPrivateAndEncrypted,
];

/** Runs every guard rail over the stack's synthesized resources. */
export class GuardRails implements IValidation {
  constructor(
    private readonly stack: TerraformStack,
    private readonly context: GuardRailContext,
  ) {}

  public validate(): string[] {
    const synthesized = this.stack.toTerraform() as TerraformJson;
    const resources = Object.entries(synthesized.resource ?? {}).flatMap(([type, byName]) =>
      Object.entries(byName).map(([name, config]) => ({ type, path: constructPath(config) ?? `${type}.${name}`, config })),
    );
    return GUARD_RAILS.flatMap((rule) => rule(resources, this.context));
  }
}
