import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, TerraformResource, Testing } from "cdktf";
import { AlbListener } from "../../.gen/providers/alicloud/alb-listener";
import { AlbRule } from "../../.gen/providers/alicloud/alb-rule";
import { OssBucket } from "../../.gen/providers/alicloud/oss-bucket";
import { RamPolicy } from "../../.gen/providers/alicloud/ram-policy";
import { SecurityGroupRule } from "../../.gen/providers/alicloud/security-group-rule";
import { Messaging } from "../../stacks/messaging";
import { SeckillStack } from "../../stacks/seckill-stack";
import { MINIMAL_TFVARS, configFromTfvars, synthesize } from "./support/synth";
import { FIXTURE_BUILD } from "./support/artifact";

const REMOTE_STATE = `state_backend = {\n  bucket = "acme-tfstate"\n  tablestore_endpoint = "https://tf-lock.cn-hangzhou.ots.aliyuncs.com"\n  tablestore_table = "terraform_state_lock"\n}\n`;
/** What production needs besides `production = true`: a pinned image, HTTPS, the operators' networks, remote state and an alarm contact. */
const PRODUCTION_TFVARS =
  `${MINIMAL_TFVARS}production = true\nimage_id = "m-bp1examplecustom"\ncertificate_id = "8806512-cn-hangzhou"\n` +
  `admin_cidrs = ["203.0.113.0/24"]\nalarm_contacts = [{ name = "oncall", email = "oncall@example.com" }]\n${REMOTE_STATE}`;

async function stackOf(tfvars: string): Promise<SeckillStack> {
  return new SeckillStack(Testing.app(), await configFromTfvars(tfvars), FIXTURE_BUILD);
}

/** The guard-rail failure synth raises (the error lists every violation). */
function synthError(stack: SeckillStack): string {
  try {
    Testing.synth(stack, true);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("synth passed every guard rail");
}

function listenerOf(stack: SeckillStack, protocol: "HTTP" | "HTTPS"): AlbListener {
  return stack.node.findAll().find((node): node is AlbListener => node instanceof AlbListener && node.listenerProtocolInput === protocol)!;
}
const httpListenerOf = (stack: SeckillStack) => listenerOf(stack, "HTTP");
const httpsListenerOf = (stack: SeckillStack) => listenerOf(stack, "HTTPS");

function resourceOf(stack: SeckillStack, type: string): TerraformResource {
  return stack.node
    .findAll()
    .find((node): node is TerraformResource => node instanceof TerraformResource && node.terraformResourceType === type)!;
}

function openRule(stack: SeckillStack, id: string, portRange: string, cidrIp = "0.0.0.0/0"): void {
  new SecurityGroupRule(stack, id, {
    securityGroupId: stack.network.appSecurityGroupId,
    type: "ingress",
    ipProtocol: "tcp",
    nicType: "intranet",
    portRange,
    cidrIp,
  });
}

describe("guard rails", () => {
  describe("nothing is open to the internet but the ALB listener ports", () => {
    test("a rule opening SSH to 0.0.0.0/0 fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      openRule(stack, "ssh-from-anywhere", "22/22");
      expect(synthError(stack)).toMatch(
        /\[seckill-test\] .*seckill-test\/ssh-from-anywhere: ingress tcp 22\/22 is open to 0\.0\.0\.0\/0; only the ALB listener ports \(80\) may be open to the internet/,
      );
    });

    test("a rule opening the app port to 0.0.0.0/0 fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      openRule(stack, "app-from-anywhere", "8080/8080");
      expect(synthError(stack)).toContain("ingress tcp 8080/8080 is open to 0.0.0.0/0");
    });

    test("a rule with a computed source cannot be verified and fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      openRule(stack, "from-vpc", "8080/8080", stack.network.vpcId);
      expect(synthError(stack)).toMatch(/from-vpc: ingress cidr_ip \$\{alicloud_vpc\.[^}]+\} is computed; use a literal CIDR/);
    });

    test("the listener ports may be open to the internet (443 only with a certificate)", async () => {
      const http = await stackOf(MINIMAL_TFVARS);
      openRule(http, "http-from-anywhere", "80/80");
      expect(() => Testing.synth(http, true)).not.toThrow();

      const https = await stackOf(`${MINIMAL_TFVARS}certificate_id = "1234-cn-hangzhou"\n`);
      openRule(https, "https-from-anywhere", "443/443");
      expect(() => Testing.synth(https, true)).not.toThrow();

      const httpOnly = await stackOf(MINIMAL_TFVARS);
      openRule(httpOnly, "https-from-anywhere", "443/443");
      expect(synthError(httpOnly)).toContain("ingress tcp 443/443 is open to 0.0.0.0/0");
    });
  });

  describe("data stores whitelist the app vSwitches, never the internet or the whole VPC", () => {
    test("0.0.0.0/0 in data_store_extra_whitelist fails synth for Tair and PolarDB", async () => {
      const message = synthError(await stackOf(`${MINIMAL_TFVARS}data_store_extra_whitelist = ["0.0.0.0/0"]\n`));
      expect(message).toContain(
        "seckill-test/cache/tair: security_ips whitelists 0.0.0.0/0, the whole internet; allow the app vSwitch CIDRs only",
      );
      expect(message).toContain('seckill-test/database/cluster: db_cluster_ip_array "seckillapp" whitelists 0.0.0.0/0, the whole internet');
    });

    test("the VPC CIDR, or a range covering it, fails synth", async () => {
      const vpc = synthError(await stackOf(`${MINIMAL_TFVARS}data_store_extra_whitelist = ["10.0.0.0/16"]\n`));
      expect(vpc).toContain("seckill-test/cache/tair: security_ips whitelists 10.0.0.0/16, which covers the whole VPC 10.0.0.0/16");
      const wider = synthError(await stackOf(`${MINIMAL_TFVARS}data_store_extra_whitelist = ["10.0.0.0/8"]\n`));
      expect(wider).toContain('db_cluster_ip_array "seckillapp" whitelists 10.0.0.0/8, which covers the whole VPC 10.0.0.0/16');
    });

    test("a bastion address is allowed next to the app vSwitches", async () => {
      const s = synthesize(await configFromTfvars(`${MINIMAL_TFVARS}data_store_extra_whitelist = ["10.8.0.5", "192.168.10.0/24"]\n`));
      expect(s.one("alicloud_redis_tair_instance").security_ips).toBe("10.0.0.0/20,10.0.16.0/20,10.8.0.5,192.168.10.0/24");
      expect(s.one("alicloud_polardb_cluster").db_cluster_ip_array[0].security_ips).toEqual([
        "10.0.0.0/20",
        "10.0.16.0/20",
        "10.8.0.5",
        "192.168.10.0/24",
      ]);
    });

    test("a RocketMQ instance whitelisting the whole VPC fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      new Messaging(stack, "rogue-messaging", {
        envName: "rogue",
        vpcId: stack.network.vpcId,
        dataSubnets: stack.network.dataSubnets,
        appCidrs: ["10.0.0.0/16"],
        series: "standard",
        subSeries: "single_node",
        msgProcessSpec: "rmq.s1.micro",
        messageRetentionHours: 24,
      });
      expect(synthError(stack)).toContain(
        "seckill-test/rogue-messaging/instance: ip_whitelists whitelists 10.0.0.0/16, which covers the whole VPC",
      );
    });

    test("PolarDB's deprecated top-level security_ips fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      resourceOf(stack, "alicloud_polardb_cluster").addOverride("security_ips", ["10.0.0.0/20"]);
      expect(synthError(stack)).toContain(
        "seckill-test/database/cluster: top-level security_ips is deprecated; whitelist through db_cluster_ip_array",
      );
    });
  });

  describe("Tair and PolarDB are pay-as-you-go unless tfvars ask otherwise", () => {
    test("a Tair instance left on the provider's default (Subscription) fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      resourceOf(stack, "alicloud_redis_tair_instance").addOverride("payment_type", undefined);
      expect(synthError(stack)).toContain(
        'seckill-test/cache/tair: payment_type is unset (the provider default is Subscription); Tair must be PayAsYouGo unless tfvars set data_store_billing = "Subscription"',
      );
    });

    test("a prepaid PolarDB cluster fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      resourceOf(stack, "alicloud_polardb_cluster").addOverride("pay_type", "PrePaid");
      expect(synthError(stack)).toContain(
        'seckill-test/database/cluster: pay_type is PrePaid; PolarDB must be PostPaid unless tfvars set data_store_billing = "Subscription"',
      );
    });

    test('data_store_billing = "Subscription" permits prepaid data stores', async () => {
      const s = synthesize(await configFromTfvars(`${MINIMAL_TFVARS}data_store_billing = "Subscription"\nsubscription_months = 12\n`));
      expect(s.one("alicloud_redis_tair_instance")).toMatchObject({
        payment_type: "Subscription",
        period: 12,
        auto_renew: "true",
        auto_renew_period: "1",
      });
      expect(s.one("alicloud_polardb_cluster")).toMatchObject({
        pay_type: "PrePaid",
        period: 12,
        renewal_status: "AutoRenewal",
        auto_renew_period: 1,
      });
    });
  });

  describe("production has deletion protection on the ALB and PolarDB", () => {
    const unprotectedProduction = `${PRODUCTION_TFVARS}deletion_protection = false\n`;

    test("production without deletion protection fails synth, naming both resources", async () => {
      const message = synthError(await stackOf(unprotectedProduction));
      expect(message).toContain(
        "seckill-test/ingress/alb: a production ALB needs deletion protection (deletion_protection_enabled = true)",
      );
      expect(message).toContain("seckill-test/database/cluster: a production PolarDB cluster needs deletion_lock = 1");
    });

    test("cdktf synth (App.synth) stops on it too", async () => {
      const outdir = mkdtempSync(path.join(tmpdir(), "seckill-guard-"));
      try {
        const app = new App({ outdir });
        new SeckillStack(app, await configFromTfvars(unprotectedProduction), FIXTURE_BUILD);
        expect(() => app.synth()).toThrow(/a production ALB needs deletion protection/);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    });

    test("a prepaid production cluster goes without a lock: Terraform cannot delete it, and the provider mishandles one", async () => {
      const s = synthesize(await configFromTfvars(`${PRODUCTION_TFVARS}data_store_billing = "Subscription"\n`));
      expect(s.one("alicloud_polardb_cluster").pay_type).toBe("PrePaid");
      expect(s.one("alicloud_polardb_cluster").deletion_lock).toBeUndefined();
      expect(s.one("alicloud_alb_load_balancer").deletion_protection_enabled).toBe(true);
    });

    test("a non-production environment may go without", async () => {
      const s = synthesize(await configFromTfvars(MINIMAL_TFVARS));
      expect(s.one("alicloud_alb_load_balancer").deletion_protection_enabled).toBe(false);
      expect(s.one("alicloud_polardb_cluster").deletion_lock).toBe(0);
    });
  });

  describe("production serves HTTPS only", () => {
    test("production without a certificate fails synth, naming certificate_id", async () => {
      const message = synthError(await stackOf(PRODUCTION_TFVARS.replace(/^certificate_id = .*\n/m, "")));
      expect(message).toContain(
        "seckill-test/ingress/http-listener: a production listener serves plain HTTP; set certificate_id in tfvars (an SSL Certificates Service certificate id) so that :443 serves HTTPS and :80 only redirects to it",
      );
    });

    test("a production sale page without a certificate fails synth, naming sale_page_certificate_id", async () => {
      const page = `dns_domain_name = "example.com"\ndns_record_name = "api"\nsale_page_record_name = "shop"\n`;
      expect(synthError(await stackOf(`${PRODUCTION_TFVARS}${page}`))).toContain(
        "seckill-test/sale-page/cdn: a production sale page is served over HTTPS only; set sale_page_certificate_id in tfvars",
      );
    });

    test("production with both certificates synthesizes", async () => {
      const page = `dns_domain_name = "example.com"\ndns_record_name = "api"\nsale_page_record_name = "shop"\nsale_page_certificate_id = "8806513-cn-hangzhou"\n`;
      const s = synthesize(await configFromTfvars(`${PRODUCTION_TFVARS}${page}`));
      expect(
        s
          .resources("alicloud_alb_listener")
          .map((listener) => listener.listener_protocol)
          .sort(),
      ).toEqual(["HTTP", "HTTPS"]);
    });

    test("an HTTPS listener whose TLS policy admits TLS 1.0 fails synth", async () => {
      const stack = await stackOf(`${MINIMAL_TFVARS}certificate_id = "8806512-cn-hangzhou"\n`);
      httpsListenerOf(stack).addOverride("security_policy_id", "tls_cipher_policy_1_0");
      expect(synthError(stack)).toContain(
        "seckill-test/ingress/https-listener: security_policy_id tls_cipher_policy_1_0 admits TLS older than 1.2",
      );
    });
  });

  describe("the admin plane stays off the internet, and every path has a limit", () => {
    test("a rule forwarding /metrics to everyone ahead of ALB's 404 fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      new AlbRule(stack, "open-metrics", {
        listenerId: httpListenerOf(stack).id,
        ruleName: "open-metrics",
        priority: 1,
        ruleConditions: [{ type: "Path", pathConfig: { values: ["/metrics"] } }],
        ruleActions: [
          { order: 1, type: "TrafficLimit", trafficLimitConfig: { qps: 100, perIpQps: 10 } },
          { order: 2, type: "ForwardGroup", forwardGroupConfig: { serverGroupTuples: [{ serverGroupId: stack.ingress.serverGroupId }] } },
        ],
      });
      expect(synthError(stack)).toContain(
        "seckill-test/open-metrics: /metrics from the internet reaches this rule, which forwards it; the admin plane is forwarded only from admin_cidrs",
      );
    });

    test("a forwarding rule without a limit, or a listener without the catch-all, fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      const catchAll = stack.node.findAll().find((node): node is AlbRule => node instanceof AlbRule && node.node.id === "catch-all")!;
      catchAll.putRuleActions([
        { order: 1, type: "ForwardGroup", forwardGroupConfig: { serverGroupTuples: [{ serverGroupId: stack.ingress.serverGroupId }] } },
      ]);
      catchAll.putRuleConditions([{ type: "Path", pathConfig: { values: ["/static/*"] } }]);
      const message = synthError(stack);
      expect(message).toContain(
        "seckill-test/ingress/catch-all: forwards without a TrafficLimit action; every path the fleet serves needs a limit",
      );
      expect(message).toContain("seckill-test/ingress/http-listener: no catch-all rule (Path /* and no other condition)");
    });
  });

  describe("OSS buckets are private and encrypted", () => {
    test("a public, unencrypted bucket fails synth", async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      new OssBucket(stack, "public-bucket", { bucket: "seckill-test-public", acl: "public-read" });
      const message = synthError(stack);
      expect(message).toContain("seckill-test/public-bucket: acl public-read makes the bucket public; keep it private");
      expect(message).toContain("seckill-test/public-bucket: no server_side_encryption_rule; encrypt the bucket at rest");
    });
  });

  describe("secrets: read only by name, and production state kept remote", () => {
    test('a policy granting a secret read on "*" fails synth', async () => {
      const stack = await stackOf(MINIMAL_TFVARS);
      new RamPolicy(stack, "read-everything", {
        policyName: "read-everything",
        policyDocument: JSON.stringify({
          Version: "1",
          Statement: [{ Effect: "Allow", Action: ["oos:GetSecretParameters"], Resource: "*" }],
        }),
      });
      expect(synthError(stack)).toContain(
        'seckill-test/read-everything: grants oos:GetSecretParameters on "*"; a policy may read only the secrets it names (their ARNs)',
      );
    });

    test("production without a remote state backend fails synth, naming state_backend", async () => {
      expect(synthError(await stackOf(PRODUCTION_TFVARS.replace(REMOTE_STATE, "")))).toContain(
        "Terraform state holds every generated secret: a production environment keeps it in the encrypted, access-controlled OSS backend; set state_backend in tfvars",
      );
    });
  });
});
