/**
 * Policy checks that fail synth (node.addValidation, so `cdktf synth` and `Testing.synth(stack, true)` both stop).
 * They read the stack's Terraform JSON — what would be deployed — rather than construct props, so they also catch
 * resources added later by other constructs.
 */
import { IValidation } from "constructs";
import { TerraformStack } from "cdktf";
import { ADMIN_PLANE_PATHS, albPathMatches } from "../contract/routes";
import { constructPath, singleBlock, type TerraformBlock, type TerraformJson } from "../contract/terraform-json";
import { TLS_1_2_SECURITY_POLICIES, type DataStoreBilling } from "./config";
import { cidrContains, parseCidr } from "./cidr";

export interface GuardRailContext {
  readonly vpcCidr: string;
  /** The ALB listener ports: the only ports that may be open to 0.0.0.0/0. */
  readonly listenerPorts: readonly number[];
  readonly production: boolean;
  /** What tfvars asked for; Subscription permits prepaid Tair and PolarDB. */
  readonly dataStoreBilling: DataStoreBilling;
  /** Whether the state (which holds every generated secret) lives in a remote backend (tfvars state_backend). */
  readonly remoteState: boolean;
}

export interface GuardRailResource {
  readonly type: string;
  /** `<type>.<name>`, what other resources' `${…}` references name it by. */
  readonly address: string;
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

interface ListenerWithRules {
  readonly listener: GuardRailResource;
  /** In the order ALB evaluates them: ascending priority. */
  readonly rules: readonly GuardRailResource[];
}

function listenersWithRules(resources: readonly GuardRailResource[]): ListenerWithRules[] {
  const rules = ofType(resources, "alicloud_alb_rule");
  return ofType(resources, "alicloud_alb_listener").map((listener) => ({
    listener,
    rules: rules
      .filter(({ config }) => config.listener_id === `\${${listener.address}.id}`)
      .sort((a, b) => Number(a.config.priority) - Number(b.config.priority)),
  }));
}

const conditionsOf = (rule: GuardRailResource): TerraformBlock[] => rule.config.rule_conditions ?? [];
const actionsOf = (rule: GuardRailResource): TerraformBlock[] => rule.config.rule_actions ?? [];
/** The action ALB ends a rule with (forward, redirect or fixed response): the one with the highest order. */
const finalActionOf = (rule: GuardRailResource): TerraformBlock | undefined =>
  [...actionsOf(rule)].sort((a, b) => Number(a.order) - Number(b.order)).pop();
const pathValuesOf = (condition: TerraformBlock): string[] => singleBlock(condition.path_config)?.values ?? [];

/** Whether a rule's path conditions let `path` through (a rule without one matches every path). */
function pathMatches(rule: GuardRailResource, path: string): boolean {
  return conditionsOf(rule)
    .filter((condition) => condition.type === "Path")
    .every((condition) => pathValuesOf(condition).some((pattern) => albPathMatches(pattern, path)));
}

/** A rule nothing escapes: one Path condition matching every path, no other condition. */
function matchesEverything(rule: GuardRailResource): boolean {
  const conditions = conditionsOf(rule);
  return conditions.length === 1 && conditions[0].type === "Path" && pathValuesOf(conditions[0]).includes("/*");
}

export const productionServesHttpsOnly: Rule = (resources, { production }) =>
  !production
    ? []
    : [
        ...listenersWithRules(resources)
          .filter(({ listener }) => listener.config.listener_protocol === "HTTP")
          .filter(
            ({ rules }) =>
              !rules.some(
                (rule) =>
                  matchesEverything(rule) &&
                  finalActionOf(rule)?.type === "Redirect" &&
                  singleBlock(finalActionOf(rule)!.redirect_config)?.protocol === "HTTPS",
              ),
          )
          .map(
            ({ listener }) =>
              `${listener.path}: a production listener serves plain HTTP; set certificate_id in tfvars (an SSL Certificates Service certificate id) so that :443 serves HTTPS and :80 only redirects to it`,
          ),
        ...ofType(resources, "alicloud_cdn_domain_new")
          .filter(({ config }) => singleBlock(config.certificate_config)?.server_certificate_status !== "on")
          .map(
            ({ path }) =>
              `${path}: a production sale page is served over HTTPS only; set sale_page_certificate_id in tfvars (an SSL Certificates Service certificate id for the page's host)`,
          ),
      ];

const TLS_1_2_POLICIES: readonly string[] = TLS_1_2_SECURITY_POLICIES;

export const httpsListenersUseTls12: Rule = (resources) =>
  ofType(resources, "alicloud_alb_listener")
    .filter(({ config }) => config.listener_protocol === "HTTPS" && !TLS_1_2_POLICIES.includes(config.security_policy_id))
    .map(
      ({ path, config }) =>
        `${path}: security_policy_id ${config.security_policy_id ?? "unset (ALB's default, tls_cipher_policy_1_0)"} admits TLS older than 1.2; tls_security_policy takes ${TLS_1_2_POLICIES.join(", ")}`,
    );

/** One request path per admin-plane pattern, to walk the listener rules with. */
const ADMIN_PLANE_PROBES = ADMIN_PLANE_PATHS.map((pattern) => pattern.replace(/\*/g, "probe"));

/**
 * The admin plane never reaches the fleet from the internet: walking a listener's rules in priority order, a request
 * for an admin-plane path from outside the SourceIp-conditioned rules must meet a fixed response or a redirect before
 * any rule that forwards it, and before the listener's default action (which forwards).
 */
export const adminPlaneOffTheInternet: Rule = (resources) =>
  listenersWithRules(resources).flatMap(({ listener, rules }) =>
    ADMIN_PLANE_PROBES.flatMap((probe) => {
      for (const rule of rules) {
        const conditions = conditionsOf(rule);
        if (!pathMatches(rule, probe) || conditions.some((condition) => condition.type === "SourceIp")) continue;
        const final = finalActionOf(rule)?.type;
        if (final === "ForwardGroup") {
          return [
            `${rule.path}: ${probe} from the internet reaches this rule, which forwards it; the admin plane is forwarded only from admin_cidrs (a SourceIp condition) and answered by ALB for everyone else`,
          ];
        }
        // A fixed response or redirect answers the path for good, unless other conditions let some requests past it.
        if (conditions.every((condition) => condition.type === "Path")) return [];
      }
      return [
        `${listener.path}: ${probe} from the internet reaches the listener's default action, which forwards it; answer the admin plane with a fixed response ahead of every rule that forwards without a SourceIp condition`,
      ];
    }),
  );

/**
 * Nothing reaches the fleet without a rate limit: every forwarding rule limits (TrafficLimit), and every listener has a
 * rule matching everything, so its default action (which can only forward, and cannot limit) serves nothing.
 */
export const everyForwardLimited: Rule = (resources) => [
  ...ofType(resources, "alicloud_alb_rule")
    .filter((rule) => finalActionOf(rule)?.type === "ForwardGroup" && !actionsOf(rule).some((action) => action.type === "TrafficLimit"))
    .map(({ path }) => `${path}: forwards without a TrafficLimit action; every path the fleet serves needs a limit`),
  ...listenersWithRules(resources)
    .filter(({ rules }) => !rules.some(matchesEverything))
    .map(
      ({ listener }) =>
        `${listener.path}: no catch-all rule (Path /* and no other condition), so requests no other rule matches reach the default action, which forwards them without a limit`,
    ),
];

/** Actions that read a secret's value, wildcards that include them among them. */
const SECRET_READS = /^(\*|oos:\*|kms:\*|oos:GetSecretParameters?|oos:GetSecretParametersByPath|kms:GetSecretValue|kms:Decrypt)$/;

export const secretReadsScoped: Rule = (resources) =>
  ofType(resources, "alicloud_ram_policy").flatMap(({ path, config }) => {
    const document = config.policy_document ?? config.document;
    let statements: TerraformBlock[];
    if (document === undefined) {
      // The provider's statement blocks: effect, action, resource.
      statements = ((config.statement ?? []) as TerraformBlock[]).map(({ effect, action, resource }) => ({
        Effect: effect,
        Action: action,
        Resource: resource,
      }));
    } else {
      try {
        statements = (JSON.parse(String(document)) as { Statement?: TerraformBlock[] }).Statement ?? [];
      } catch {
        return [`${path}: policy_document is not literal JSON; write it as JSON so the secret-read check can verify it`];
      }
    }
    const list = (value: unknown) => (Array.isArray(value) ? value : [value]).map(String);
    return statements
      .filter((statement) => statement.Effect === "Allow" && list(statement.Action).some((action) => SECRET_READS.test(action)))
      .filter((statement) => list(statement.Resource).includes("*"))
      .map(
        (statement) =>
          `${path}: grants ${list(statement.Action).join(", ")} on "*"; a policy may read only the secrets it names (their ARNs)`,
      );
  });

export const productionStateIsRemote: Rule = (_resources, { production, remoteState }) =>
  production && !remoteState
    ? [
        "Terraform state holds every generated secret: a production environment keeps it in the encrypted, access-controlled OSS backend; set state_backend in tfvars",
      ]
    : [];

export const GUARD_RAILS: readonly Rule[] = [
  noPublicIngressExceptListenerPorts,
  dataStoresWhitelistNarrowly,
  dataStoresPayAsYouGo,
  productionDeletionProtection,
  ossBucketsPrivateAndEncrypted,
  productionServesHttpsOnly,
  httpsListenersUseTls12,
  adminPlaneOffTheInternet,
  everyForwardLimited,
  secretReadsScoped,
  productionStateIsRemote,
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
      Object.entries(byName).map(([name, config]) => ({
        type,
        address: `${type}.${name}`,
        path: constructPath(config) ?? `${type}.${name}`,
        config,
      })),
    );
    return GUARD_RAILS.flatMap((rule) => rule(resources, this.context));
  }
}
