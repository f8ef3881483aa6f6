/**
 * Each guard rail on hand-written resource lists: the cases a rule must catch and the ones it must let through,
 * without synthesizing a stack (guard-rails.test.ts proves they run on every synth).
 */
import {
  dataStoresPayAsYouGo,
  dataStoresWhitelistNarrowly,
  noPublicIngressExceptListenerPorts,
  ossBucketsPrivateAndEncrypted,
  productionDeletionProtection,
  type GuardRailContext,
  type GuardRailResource,
} from "../../stacks/guard-rails";

const context: GuardRailContext = { vpcCidr: "10.0.0.0/16", listenerPorts: [80, 443], production: false, dataStoreBilling: "PayAsYouGo" };

function resource(type: string, config: Record<string, unknown>): GuardRailResource {
  return { type, path: `stack/${type}`, config };
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
