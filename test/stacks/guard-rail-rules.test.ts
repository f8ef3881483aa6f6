/**
 * Each guard rail on hand-written resource lists: the cases a rule must catch and the ones it must let through,
 * without synthesizing a stack (guard-rails.test.ts proves they run on every synth).
 */
import {
  adminPlaneOffTheInternet,
  dataStoresPayAsYouGo,
  dataStoresWhitelistNarrowly,
  everyForwardLimited,
  httpsListenersUseTls12,
  noPublicIngressExceptListenerPorts,
  ossBucketsPrivateAndEncrypted,
  productionDeletionProtection,
  productionServesHttpsOnly,
  productionStateIsRemote,
  secretReadsScoped,
  type GuardRailContext,
  type GuardRailResource,
} from "../../stacks/guard-rails";

const context: GuardRailContext = {
  vpcCidr: "10.0.0.0/16",
  listenerPorts: [80, 443],
  production: false,
  dataStoreBilling: "PayAsYouGo",
  remoteState: false,
};

function resource(type: string, config: Record<string, unknown>, name = type): GuardRailResource {
  return { type, address: `${type}.${name}`, path: `stack/${name}`, config };
}

const ingress = (portRange: string, cidrIp: string) =>
  resource("alicloud_security_group_rule", { type: "ingress", ip_protocol: "tcp", port_range: portRange, cidr_ip: cidrIp });

describe("noPublicIngressExceptListenerPorts", () => {
  it("lets the listener ports be open to the internet, and anything be open to a private range", () => {
    expect(noPublicIngressExceptListenerPorts([ingress("80/80", "0.0.0.0/0"), ingress("443/443", "0.0.0.0/0")], context)).toEqual([]);
    expect(noPublicIngressExceptListenerPorts([ingress("22/22", "10.0.0.0/16")], context)).toEqual([]);
  });

  it("refuses any other port open to 0.0.0.0/0 or ::/0, and a source it cannot read", () => {
    const open = ingress("22/22", "0.0.0.0/0");
    const openV6 = resource("alicloud_security_group_rule", {
      type: "ingress",
      ip_protocol: "tcp",
      port_range: "8080/8080",
      ipv6_cidr_ip: "::/0",
    });
    const computed = ingress("8080/8080", "${alicloud_vpc.x.cidr_block}");
    expect(noPublicIngressExceptListenerPorts([open, openV6, computed], context)).toEqual([
      "stack/alicloud_security_group_rule: ingress tcp 22/22 is open to 0.0.0.0/0; only the ALB listener ports (80, 443) may be open to the internet",
      "stack/alicloud_security_group_rule: ingress tcp 8080/8080 is open to ::/0; only the ALB listener ports (80, 443) may be open to the internet",
      "stack/alicloud_security_group_rule: ingress cidr_ip ${alicloud_vpc.x.cidr_block} is computed; use a literal CIDR so the open-to-the-internet check can verify it",
    ]);
  });

  it("leaves egress rules alone", () => {
    expect(
      noPublicIngressExceptListenerPorts(
        [{ ...ingress("1/65535", "0.0.0.0/0"), config: { type: "egress", cidr_ip: "0.0.0.0/0" } }],
        context,
      ),
    ).toEqual([]);
  });
});

describe("dataStoresWhitelistNarrowly", () => {
  const tair = (ips: string) => resource("alicloud_redis_tair_instance", { security_ips: ips });
  const polardb = (ips: string[]) =>
    resource("alicloud_polardb_cluster", { db_cluster_ip_array: [{ db_cluster_ip_array_name: "app", security_ips: ips }] });

  it("lets app vSwitch CIDRs and single hosts through", () => {
    expect(dataStoresWhitelistNarrowly([tair("10.0.0.0/20,10.0.16.0/20"), polardb(["10.0.0.0/20", "10.8.0.5"])], context)).toEqual([]);
  });

  it("refuses the internet, the whole VPC or more, and computed entries", () => {
    const problems = dataStoresWhitelistNarrowly(
      [tair("0.0.0.0/0"), polardb(["10.0.0.0/8"]), resource("alicloud_rocketmq_instance", { ip_whitelists: ["${var.x}"] })],
      context,
    );
    expect(problems).toEqual([
      "stack/alicloud_redis_tair_instance: security_ips whitelists 0.0.0.0/0, the whole internet; allow the app vSwitch CIDRs only",
      'stack/alicloud_polardb_cluster: db_cluster_ip_array "app" whitelists 10.0.0.0/8, which covers the whole VPC 10.0.0.0/16; allow the app vSwitch CIDRs only',
      "stack/alicloud_rocketmq_instance: ip_whitelists entry ${var.x} is computed; whitelist literal app vSwitch CIDRs",
    ]);
  });
});

describe("dataStoresPayAsYouGo", () => {
  const prepaid = [
    resource("alicloud_redis_tair_instance", { payment_type: "Subscription" }),
    resource("alicloud_polardb_cluster", { pay_type: "PrePaid" }),
  ];

  it("refuses prepaid data stores unless tfvars asked for Subscription", () => {
    expect(dataStoresPayAsYouGo(prepaid, context)).toHaveLength(2);
    expect(dataStoresPayAsYouGo(prepaid, { ...context, dataStoreBilling: "Subscription" })).toEqual([]);
  });

  it("reads an unset Tair payment_type as the provider's default, Subscription", () => {
    expect(dataStoresPayAsYouGo([resource("alicloud_redis_tair_instance", {})], context)).toEqual([
      'stack/alicloud_redis_tair_instance: payment_type is unset (the provider default is Subscription); Tair must be PayAsYouGo unless tfvars set data_store_billing = "Subscription"',
    ]);
  });
});

describe("productionDeletionProtection", () => {
  const unprotected = [resource("alicloud_alb_load_balancer", {}), resource("alicloud_polardb_cluster", { pay_type: "PostPaid" })];

  it("asks production for ALB deletion protection and a PolarDB deletion lock, and nothing of other environments", () => {
    expect(productionDeletionProtection(unprotected, { ...context, production: true })).toEqual([
      "stack/alicloud_alb_load_balancer: a production ALB needs deletion protection (deletion_protection_enabled = true)",
      "stack/alicloud_polardb_cluster: a production PolarDB cluster needs deletion_lock = 1",
    ]);
    expect(productionDeletionProtection(unprotected, context)).toEqual([]);
  });

  it("accepts either form of ALB protection, and a prepaid cluster without a lock", () => {
    const protectedStores = [
      resource("alicloud_alb_load_balancer", { deletion_protection_config: [{ enabled: true }] }),
      resource("alicloud_polardb_cluster", { pay_type: "PrePaid" }),
    ];
    expect(productionDeletionProtection(protectedStores, { ...context, production: true })).toEqual([]);
  });
});

describe("ossBucketsPrivateAndEncrypted", () => {
  it("refuses a public ACL on a bucket or an ACL resource, and a bucket without encryption", () => {
    const problems = ossBucketsPrivateAndEncrypted(
      [resource("alicloud_oss_bucket", { acl: "public-read" }), resource("alicloud_oss_bucket_acl", { acl: "public-read-write" })],
      context,
    );
    expect(problems).toEqual([
      "stack/alicloud_oss_bucket: acl public-read makes the bucket public; keep it private",
      "stack/alicloud_oss_bucket: no server_side_encryption_rule; encrypt the bucket at rest",
      "stack/alicloud_oss_bucket_acl: acl public-read-write makes the bucket public; keep it private",
    ]);
  });

  it("lets a private, encrypted bucket through", () => {
    const bucket = resource("alicloud_oss_bucket", { server_side_encryption_rule: { sse_algorithm: "AES256" } });
    expect(ossBucketsPrivateAndEncrypted([bucket, resource("alicloud_oss_bucket_acl", { acl: "private" })], context)).toEqual([]);
  });
});

describe("the ALB listener rails", () => {
  const listener = (name: string, config: Record<string, unknown>) => resource("alicloud_alb_listener", config, name);
  const rule = (name: string, listenerName: string, priority: number, conditions: unknown[], actions: Record<string, unknown>[]) =>
    resource(
      "alicloud_alb_rule",
      {
        listener_id: `\${alicloud_alb_listener.${listenerName}.id}`,
        priority,
        rule_conditions: conditions,
        rule_actions: actions.map((action, index) => ({ order: index + 1, ...action })),
      },
      name,
    );
  const paths = (...values: string[]) => ({ type: "Path", path_config: { values } });
  const ADMIN_PLANE = paths("/admin/*", "/metrics", "/readyz", "/healthz");
  const fromOperators = { type: "SourceIp", source_ip_config: { values: ["203.0.113.0/24"] } };
  const limit = { type: "TrafficLimit", traffic_limit_config: { qps: 100, per_ip_qps: 10 } };
  const forward = { type: "ForwardGroup", forward_group_config: { server_group_tuples: [{ server_group_id: "sgp-1" }] } };
  const notFound = { type: "FixedResponse", fixed_response_config: { http_code: "404", content: "{}" } };
  const toHttps = { type: "Redirect", redirect_config: { protocol: "HTTPS", port: "443", http_code: "308" } };

  const serving = listener("serving", { listener_protocol: "HTTPS", security_policy_id: "tls_cipher_policy_1_2" });
  const adminPlane = rule("admin-plane", "serving", 1, [ADMIN_PLANE, fromOperators], [limit, forward]);
  const adminPlaneHidden = rule("admin-plane-hidden", "serving", 2, [ADMIN_PLANE], [notFound]);
  const reads = rule("reads", "serving", 20, [paths("/api/sales/*", "/api/orders/*")], [limit, forward]);
  const catchAll = rule("catch-all", "serving", 10_000, [paths("/*")], [limit, forward]);
  const plain = listener("plain", { listener_protocol: "HTTP" });
  const redirect = rule("to-https", "plain", 1, [paths("/*")], [toHttps]);
  const edge = [serving, adminPlane, adminPlaneHidden, reads, catchAll, plain, redirect];

  describe("adminPlaneOffTheInternet", () => {
    it("lets the admin plane be forwarded from the operators' networks and answered by ALB for everyone else", () => {
      expect(adminPlaneOffTheInternet(edge, context)).toEqual([]);
    });

    it("refuses a rule that forwards an admin-plane path to everyone before ALB answers it", () => {
      const early = rule("catch-all", "serving", 1, [paths("/*")], [limit, forward]);
      expect(adminPlaneOffTheInternet([serving, early, adminPlaneHidden], context)).toEqual(
        ["/admin/probe", "/metrics", "/readyz", "/healthz"].map(
          (probe) =>
            `stack/catch-all: ${probe} from the internet reaches this rule, which forwards it; the admin plane is forwarded only from admin_cidrs (a SourceIp condition) and answered by ALB for everyone else`,
        ),
      );
    });

    it("does not count a fixed response that only some requests meet (another condition narrows it)", () => {
      const getOnly = rule(
        "admin-plane-hidden",
        "serving",
        2,
        [ADMIN_PLANE, { type: "Method", method_config: { values: ["GET"] } }],
        [notFound],
      );
      expect(adminPlaneOffTheInternet([serving, getOnly, catchAll], context)).toHaveLength(4);
    });

    it("refuses a listener whose default action is left to answer the admin plane", () => {
      expect(adminPlaneOffTheInternet([listener("bare", { listener_protocol: "HTTP" })], context)).toContain(
        "stack/bare: /metrics from the internet reaches the listener's default action, which forwards it; answer the admin plane with a fixed response ahead of every rule that forwards without a SourceIp condition",
      );
    });
  });

  describe("everyForwardLimited", () => {
    it("lets forwarding rules through when they limit, and listeners with a catch-all rule", () => {
      expect(everyForwardLimited(edge, context)).toEqual([]);
    });

    it("refuses a rule that forwards without a limit, and a listener without a catch-all", () => {
      const unlimited = rule("reads", "serving", 20, [paths("/api/*")], [forward]);
      expect(everyForwardLimited([serving, unlimited], context)).toEqual([
        "stack/reads: forwards without a TrafficLimit action; every path the fleet serves needs a limit",
        "stack/serving: no catch-all rule (Path /* and no other condition), so requests no other rule matches reach the default action, which forwards them without a limit",
      ]);
    });
  });

  describe("productionServesHttpsOnly", () => {
    const production = { ...context, production: true };
    const servingHttp = listener("serving", { listener_protocol: "HTTP" });
    const page = (certificate: boolean) =>
      resource(
        "alicloud_cdn_domain_new",
        certificate ? { certificate_config: { cert_type: "cas", server_certificate_status: "on" } } : {},
        "cdn",
      );

    it("lets production through with :80 only redirecting, and a page with a certificate", () => {
      expect(productionServesHttpsOnly([...edge, page(true)], production)).toEqual([]);
    });

    it("refuses a production listener serving plain HTTP, naming certificate_id, and a page without one", () => {
      expect(productionServesHttpsOnly([servingHttp, catchAll, page(false)], production)).toEqual([
        "stack/serving: a production listener serves plain HTTP; set certificate_id in tfvars (an SSL Certificates Service certificate id) so that :443 serves HTTPS and :80 only redirects to it",
        "stack/cdn: a production sale page is served over HTTPS only; set sale_page_certificate_id in tfvars (an SSL Certificates Service certificate id for the page's host)",
      ]);
    });

    it("asks nothing of other environments", () => {
      expect(productionServesHttpsOnly([servingHttp, catchAll, page(false)], context)).toEqual([]);
    });
  });

  describe("httpsListenersUseTls12", () => {
    it("lets the TLS 1.2 system policies through, and leaves HTTP listeners alone", () => {
      const strict = listener("strict", { listener_protocol: "HTTPS", security_policy_id: "tls_cipher_policy_1_2_strict_with_1_3" });
      expect(httpsListenersUseTls12([serving, strict, plain], context)).toEqual([]);
    });

    it("refuses a policy admitting TLS 1.0 or 1.1, and none at all (ALB's default admits them)", () => {
      const old = listener("old", { listener_protocol: "HTTPS", security_policy_id: "tls_cipher_policy_1_1" });
      const unset = listener("unset", { listener_protocol: "HTTPS" });
      expect(httpsListenersUseTls12([old, unset], context)).toEqual([
        "stack/old: security_policy_id tls_cipher_policy_1_1 admits TLS older than 1.2; tls_security_policy takes tls_cipher_policy_1_2, tls_cipher_policy_1_2_strict, tls_cipher_policy_1_2_strict_with_1_3",
        "stack/unset: security_policy_id unset (ALB's default, tls_cipher_policy_1_0) admits TLS older than 1.2; tls_security_policy takes tls_cipher_policy_1_2, tls_cipher_policy_1_2_strict, tls_cipher_policy_1_2_strict_with_1_3",
      ]);
    });
  });
});

describe("secretReadsScoped", () => {
  const policy = (statement: object, name = "policy") =>
    resource("alicloud_ram_policy", { policy_document: JSON.stringify({ Version: "1", Statement: [statement] }) }, name);

  it("lets a policy read secrets it names, and grant other actions on *", () => {
    const named = policy({
      Effect: "Allow",
      Action: ["oos:GetSecretParameter"],
      Resource: ["acs:oos:cn-hangzhou:1:secretparameter/seckill/dev/a"],
    });
    const kms = policy({ Effect: "Allow", Action: "kms:GetSecretValue", Resource: "acs:kms:cn-hangzhou:1:secret/*" });
    const logs = policy({ Effect: "Allow", Action: ["log:PostLogStoreLogs"], Resource: "*" });
    const deny = policy({ Effect: "Deny", Action: ["oos:*"], Resource: "*" });
    expect(secretReadsScoped([named, kms, logs, deny], context)).toEqual([]);
  });

  it.each(["oos:GetSecretParameters", "oos:GetSecretParametersByPath", "kms:GetSecretValue", "kms:Decrypt", "oos:*", "kms:*", "*"])(
    "refuses %s on *",
    (action) => {
      expect(secretReadsScoped([policy({ Effect: "Allow", Action: [action], Resource: ["*"] })], context)).toEqual([
        `stack/policy: grants ${action} on "*"; a policy may read only the secrets it names (their ARNs)`,
      ]);
    },
  );

  it("reads the provider's statement blocks too", () => {
    const blocks = resource("alicloud_ram_policy", { statement: [{ effect: "Allow", action: ["kms:GetSecretValue"], resource: ["*"] }] });
    expect(secretReadsScoped([blocks], context)).toEqual([
      'stack/alicloud_ram_policy: grants kms:GetSecretValue on "*"; a policy may read only the secrets it names (their ARNs)',
    ]);
  });

  it("refuses a document it cannot read", () => {
    expect(secretReadsScoped([resource("alicloud_ram_policy", { policy_document: '${file("policy.json")}' })], context)).toEqual([
      "stack/alicloud_ram_policy: policy_document is not literal JSON; write it as JSON so the secret-read check can verify it",
    ]);
  });
});

describe("productionStateIsRemote", () => {
  it("refuses production with local state, and lets the rest through", () => {
    expect(productionStateIsRemote([], { ...context, production: true })).toHaveLength(1);
    expect(productionStateIsRemote([], { ...context, production: true, remoteState: true })).toEqual([]);
    expect(productionStateIsRemote([], context)).toEqual([]);
  });
});
