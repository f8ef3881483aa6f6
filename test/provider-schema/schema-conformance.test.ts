import { TerraformStack, Testing } from "cdktf";
import { AlbRule } from "../../.gen/providers/alicloud/alb-rule";
import { DataAlicloudZones } from "../../.gen/providers/alicloud/data-alicloud-zones";
import { AlicloudProvider } from "../../.gen/providers/alicloud/provider";
import { RedisTairInstance } from "../../.gen/providers/alicloud/redis-tair-instance";
import { Vpc } from "../../.gen/providers/alicloud/vpc";
import { schemaViolations } from "../support/schema-conformance";

const REQUIRED_PROVIDERS = { required_providers: { alicloud: { source: "aliyun/alicloud", version: "1.289.0" } } };

/** A Terraform JSON document with the given resources, as `Testing.synth` lays it out. */
function terraformJson(resource: Record<string, Record<string, unknown>>, data: Record<string, Record<string, unknown>> = {}) {
  return { terraform: REQUIRED_PROVIDERS, resource, data };
}

describe("schemaViolations", () => {
  it("passes a stack synthesized from the generated bindings, including single-object list blocks and expressions", () => {
    const stack = new TerraformStack(Testing.app(), "conforming");
    new AlicloudProvider(stack, "alicloud", { region: "cn-hangzhou", assumeRole: { roleArn: "acs:ram::1:role/deployer" } });
    const zones = new DataAlicloudZones(stack, "zones", { availableResourceCreation: "VSwitch" });
    const vpc = new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16", tags: { app: "seckill" }, timeouts: { create: "10m" } });
    new RedisTairInstance(stack, "tair", {
      instanceClass: "tair.rdb.2g",
      instanceType: "tair_rdb",
      vpcId: vpc.id,
      vswitchId: "vsw-1",
      zoneId: zones.zones.get(0).id,
      shardCount: 2,
    });
    new AlbRule(stack, "rule", {
      listenerId: "lsn-1",
      priority: 10,
      ruleName: "limit",
      ruleActions: [{ order: 1, type: "TrafficLimit", trafficLimitConfig: { qps: 1000, perIpQps: 50 } }],
      ruleConditions: [{ type: "Path", pathConfig: { values: ["/api/seckill/*"] } }],
    });

    expect(schemaViolations(Testing.synth(stack))).toEqual([]);
  });

  it("reports a misspelt argument", () => {
    const synth = terraformJson({ alicloud_vpc: { main: { cidr_blok: "10.0.0.0/16" } } });
    expect(schemaViolations(synth)).toEqual(["resource.alicloud_vpc.main.cidr_blok: unknown argument or block"]);
  });

  it("reports a misspelt argument set through an escape hatch on a generated construct", () => {
    const stack = new TerraformStack(Testing.app(), "escape-hatch");
    new AlicloudProvider(stack, "alicloud", {});
    new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" }).addOverride("enable_ipv7", true);
    expect(schemaViolations(Testing.synth(stack))).toEqual(["resource.alicloud_vpc.vpc.enable_ipv7: unknown argument or block"]);
  });

  it("reports a stack using alicloud resources without declaring the provider (Terraform would look for hashicorp/alicloud)", () => {
    const stack = new TerraformStack(Testing.app(), "no-provider");
    new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" });
    expect(schemaViolations(Testing.synth(stack))).toEqual([
      'terraform.required_providers.alicloud: source is undefined, not "aliyun/alicloud" (does the stack declare an AlicloudProvider?)',
    ]);
  });

  it("reports a missing required argument and a missing required block", () => {
    const synth = terraformJson({
      alicloud_alb_rule: { r: { listener_id: "lsn-1", priority: 1, rule_actions: [{ order: 1, type: "ForwardGroup" }] } },
    });
    expect(schemaViolations(synth)).toEqual([
      "resource.alicloud_alb_rule.r.rule_name: required argument is missing",
      "resource.alicloud_alb_rule.r.rule_conditions: required block is missing (min_items 1)",
    ]);
  });

  it("reports literals of the wrong type, and accepts a Terraform expression for any type", () => {
    const synth = terraformJson({
      alicloud_alb_rule: {
        r: {
          listener_id: "lsn-1",
          priority: "10",
          rule_name: "${var.name}",
          dry_run: "yes",
          rule_actions: { order: 1, type: "TrafficLimit", traffic_limit_config: { qps: "many" } },
          rule_conditions: { type: "Path", path_config: { values: "/x" } },
        },
      },
      alicloud_vpc: { v: { tags: ["a"], secondary_cidr_blocks: "${var.cidrs}" } },
      alicloud_vswitch: { s: { vpc_id: "vpc-1", cidr_block: "10.0.0.0/24", zone_id: "cn-hangzhou-h", vswitch_name: 7 } },
      alicloud_ess_scaling_group: { g: { min_size: "$${escaped}", max_size: "%{ if var.big }10%{ else }2%{ endif }" } },
    });
    expect(schemaViolations(synth)).toEqual([
      'resource.alicloud_alb_rule.r.priority: expected number, got string "10"',
      'resource.alicloud_alb_rule.r.dry_run: expected bool, got string "yes"',
      'resource.alicloud_alb_rule.r.rule_actions.traffic_limit_config.qps: expected number, got string "many"',
      'resource.alicloud_alb_rule.r.rule_conditions.path_config.values: expected set of string, got string "/x"',
      "resource.alicloud_vpc.v.tags: expected map of string, got an array",
      "resource.alicloud_vswitch.s.vswitch_name: expected string, got number 7",
      'resource.alicloud_ess_scaling_group.g.min_size: expected number, got string "$${escaped}"',
    ]);
  });

  it("reports block shapes and counts the schema does not allow", () => {
    const synth = terraformJson({
      alicloud_vpc: { v: { timeouts: [{ create: "5m" }] } },
      alicloud_alb_rule: {
        r: {
          listener_id: "lsn-1",
          priority: 1,
          rule_name: "n",
          rule_actions: [{ order: 1, type: "TrafficLimit", traffic_limit_config: [{ qps: 1 }, { qps: 2 }] }],
          rule_conditions: "${var.conditions}",
        },
      },
    });
    expect(schemaViolations(synth)).toEqual([
      "resource.alicloud_vpc.v.timeouts: is a single block: give one object, not an array",
      "resource.alicloud_alb_rule.r.rule_actions[0].traffic_limit_config: allows at most 1 block(s), got 2",
      'resource.alicloud_alb_rule.r.rule_conditions: expected a block (object) or an array of blocks, got string "${var.conditions}"',
    ]);
  });

  it("reports arguments the provider only computes, unknown types, and a bad provider configuration", () => {
    const synth = {
      terraform: REQUIRED_PROVIDERS,
      provider: { alicloud: [{ region: "cn-hangzhou", regoin: "cn-beijing" }] },
      resource: { alicloud_vpc: { v: { status: "Available" } }, alicloud_vpc_v2: { v: {} }, random_password: { p: { length: 16 } } },
      data: { alicloud_zone: { z: {} } },
    };
    expect(schemaViolations(synth)).toEqual([
      "resource.alicloud_vpc.v.status: is computed by the provider and cannot be set",
      "resource.alicloud_vpc_v2.v: unknown resource type alicloud_vpc_v2",
      "data.alicloud_zone.z: unknown data source type alicloud_zone",
      "provider.alicloud[0].regoin: unknown argument or block",
    ]);
  });

  it("accepts meta-arguments and checks dynamic block content", () => {
    const synth = terraformJson({
      alicloud_security_group_rule: {
        r: {
          count: 2,
          depends_on: ["alicloud_vpc.v"],
          lifecycle: { create_before_destroy: true },
          provider: "alicloud.hz",
          type: "ingress",
          ip_protocol: "tcp",
          security_group_id: "${alicloud_security_group.sg.id}",
        },
      },
      alicloud_ess_scaling_configuration: {
        c: {
          scaling_group_id: "asg-1",
          dynamic: { data_disk: { for_each: "${var.disks}", content: { size: "${data_disk.value}", sise: 40 } } },
        },
      },
    });
    expect(schemaViolations(synth)).toEqual([
      "resource.alicloud_ess_scaling_configuration.c.dynamic.data_disk.content.sise: unknown argument or block",
    ]);
  });
});
