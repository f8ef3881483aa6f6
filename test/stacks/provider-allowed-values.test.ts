import { readdirSync } from "node:fs";
import * as path from "node:path";
import { loadEnvConfig } from "../../stacks/config";
import { loadVendoredSchema } from "../support/schema-conformance";
import { ALLOWED_VALUES, AllowedValue, allowedValueViolations, literalsAt } from "./support/provider-allowed-values";
import { TEST_NOW, configFromTfvars, synthesize } from "./support/synth";

/** Options that bring in what the shipped environments leave out: HTTPS redirect, DNS, the published sale page with CORS, prepaid data stores, single_eni. */
const OPTIONAL_RESOURCES = [
  `region = "cn-hangzhou"
zones = ["cn-hangzhou-j", "cn-hangzhou-k"]
certificate_id = "8806512-cn-hangzhou"
dns_domain_name = "example.com"
dns_record_name = "sale"
sale_page_record_name = "shop"
sale_page_certificate_id = "8806513-cn-hangzhou"
data_store_billing = "Subscription"
subscription_months = 12
nat_gateway = true
`,
  `region = "ap-southeast-1"
zones = ["ap-southeast-1a", "ap-southeast-1b"]
mse_edition = "mse_dev"
mse_specification = "MSE_SC_1_2_200_c"
mse_instance_count = 1
`,
];

type SchemaBlock = ReturnType<typeof loadVendoredSchema>["provider"]["block"];

/** Whether `entry.path` leads through the vendored schema's nested blocks to an attribute. */
function namesAnArgument(entry: AllowedValue): boolean {
  const schema = loadVendoredSchema();
  const top = entry.type.startsWith("data.")
    ? schema.data_source_schemas[entry.type.slice("data.".length)]
    : schema.resource_schemas[entry.type];
  const segments = entry.path.split(".");
  let block: SchemaBlock | undefined = top?.block;
  for (const segment of segments.slice(0, -1)) block = block?.block_types?.[segment]?.block;
  return block?.attributes?.[segments[segments.length - 1]] !== undefined;
}

describe("allowed values of provider arguments", () => {
  test.each(ALLOWED_VALUES.map((entry) => [`${entry.type}.${entry.path}`, entry] as const))(
    "%s names an argument of the vendored schema",
    (_name, entry) => {
      expect(namesAnArgument(entry)).toBe(true);
    },
  );

  test("a wrong spelling, a number out of range, a malformed time and an over-long name are refused, each with its source", () => {
    const violations = allowedValueViolations({
      resource: {
        alicloud_alb_load_balancer: { alb: { address_type: "internet", load_balancer_billing_config: [{ pay_type: "PostPaid" }] } },
        alicloud_alb_rule: {
          orders: { rule_actions: [{ order: 1, type: "TrafficLimit", traffic_limit_config: { qps: 200_000, per_ip_qps: 5 } }] },
        },
        alicloud_ess_scheduled_task: { prewarm: { launch_time: "2026-12-05 01:45", scheduled_task_name: `seckill-${"x".repeat(40)}` } },
        alicloud_eip_address: { nat: { bandwidth: "500" } },
      },
    });
    expect(violations).toEqual([
      'resource.alicloud_alb_load_balancer.alb.address_type = "internet": expected one of "Internet", "Intranet" (alicloud/resource_alicloud_alb_load_balancer.go:65)',
      'resource.alicloud_alb_load_balancer.alb.load_balancer_billing_config.pay_type = "PostPaid": expected one of "PayAsYouGo" (alicloud/resource_alicloud_alb_load_balancer.go:118)',
      "resource.alicloud_alb_rule.orders.rule_actions.traffic_limit_config.qps = 200000: expected from 1 to 100000 (alicloud/resource_alicloud_alb_rule.go:258)",
      'resource.alicloud_eip_address.nat.bandwidth = "500": expected from 1 to 200 (website/docs/r/eip_address.html.markdown:76 (PayAsYouGo, PayByTraffic))',
      expect.stringMatching(
        /^resource\.alicloud_ess_scheduled_task\.prewarm\.launch_time = "2026-12-05 01:45": expected a value matching .* \(website\/docs\/r\/ess_scheduled_task\.html\.markdown:138\)$/,
      ),
      `resource.alicloud_ess_scheduled_task.prewarm.scheduled_task_name = "seckill-${"x".repeat(40)}": expected 2 to 40 characters (website/docs/r/ess_scheduled_task.html.markdown:132)`,
    ]);
  });

  test("list arguments are judged element by element, expressions are left to apply time", () => {
    const synth = {
      resource: {
        alicloud_ess_scaling_group: {
          group: { removal_policies: ["OldestScalingConfiguration", "Newest"], desired_capacity: "${var.desired}" },
        },
      },
      data: { alicloud_images: { image: { owners: "${var.owner}" } } },
    };
    expect(allowedValueViolations(synth)).toEqual([
      'resource.alicloud_ess_scaling_group.group.removal_policies = "Newest": expected one of "OldestInstance", "NewestInstance", "OldestScalingConfiguration" (website/docs/r/ess_scaling_group.html.markdown:127)',
    ]);
  });

  test("every entry judges a value of the shipped environments or of a stack with the optional resources", async () => {
    const envFiles = readdirSync("envs").filter((name) => name.endsWith(".tfvars"));
    const configs = [
      ...(await Promise.all(envFiles.map((name) => loadEnvConfig(path.join("envs", name), TEST_NOW)))),
      ...(await Promise.all(OPTIONAL_RESOURCES.map((tfvars, index) => configFromTfvars(tfvars, `opt${index}`)))),
    ];
    const stacks = configs.map((config) => synthesize(config).json);
    for (const json of stacks) expect(allowedValueViolations(json)).toEqual([]);
    const unexercised = ALLOWED_VALUES.filter((entry) => stacks.every((json) => literalsAt(json, entry).length === 0)).map(
      (entry) => `${entry.type}.${entry.path}`,
    );
    expect(unexercised).toEqual([]);
  });
});
