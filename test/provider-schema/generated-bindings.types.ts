/**
 * Type-level specification, checked by `npm run typecheck` (never run by jest): the generated
 * alicloud bindings accept exactly the vendored schema's arguments. Each `@ts-expect-error` below
 * fails the type check if that line ever starts compiling.
 */
import { Construct } from "constructs";
import { AlbRule } from "../../.gen/providers/alicloud/alb-rule";
import { RedisTairInstance } from "../../.gen/providers/alicloud/redis-tair-instance";
import { Vpc } from "../../.gen/providers/alicloud/vpc";

export function argumentsTheSchemaLacksDoNotCompile(scope: Construct): void {
  new Vpc(scope, "misspelt", {
    cidrBlock: "10.0.0.0/16",
    // @ts-expect-error alicloud_vpc has no argument cidr_blok
    cidrBlok: "10.0.0.0/16",
  });

  new Vpc(scope, "computed-only", {
    // @ts-expect-error status is computed by the provider, not an argument
    status: "Available",
  });

  // @ts-expect-error instance_type is required by alicloud_redis_tair_instance
  new RedisTairInstance(scope, "missing-required", {
    instanceClass: "tair.rdb.2g",
    vpcId: "vpc-1",
    vswitchId: "vsw-1",
    zoneId: "cn-hangzhou-h",
  });

  new AlbRule(scope, "wrong-shapes", {
    listenerId: "lsn-1",
    // @ts-expect-error priority is a number
    priority: "10",
    ruleName: "limit",
    ruleActions: [
      {
        order: 1,
        type: "TrafficLimit",
        // @ts-expect-error traffic_limit_config has max_items 1: one object, not a list
        trafficLimitConfig: [{ qps: 100 }],
      },
    ],
    ruleConditions: [{ type: "Path", pathConfig: { values: ["/api/*"] } }],
  });
}
