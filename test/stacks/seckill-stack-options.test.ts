/** What the optional tfvars keys change in a stack: HTTPS, DNS, remote state, a third zone, the CPU metric, past sales. */
import { launchTime } from "../../stacks/compute";
import { schemaViolations } from "../support/schema-conformance";
import { Block, Synthesized, TEST_NOW, configFromTfvars, synthesize } from "./helpers";
import { allowedValueViolations } from "./provider-allowed-values";

const EVERY_OPTION = `
region = "cn-hangzhou"
zones  = ["cn-hangzhou-h", "cn-hangzhou-j", "cn-hangzhou-k"]
certificate_id  = "8806512-cn-hangzhou"
dns_domain_name = "example.com"
dns_record_name = "sale"
app_port = 9000
workers  = 4
scaling_metric = "cpu"
min_instances = 3
max_instances = 12
prewarm_lead_minutes   = 60
scale_in_delay_minutes = 15
sale_windows = [
  { name = "over", starts_at = "2026-11-20T12:00Z", ends_at = "2026-11-20T14:00Z", instances = 6 },
  { name = "running", starts_at = "2026-11-24T23:30Z", ends_at = "2026-11-25T02:00Z", instances = 6 },
  { name = "ahead", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 9 },
]
state_backend = {
  bucket              = "acme-tfstate"
  tablestore_endpoint = "https://tf-lock.cn-hangzhou.ots.aliyuncs.com"
  tablestore_table    = "terraform_state_lock"
}
`;

describe("a stack with every option set", () => {
  let s: Synthesized;
  beforeAll(async () => {
    s = synthesize(await configFromTfvars(EVERY_OPTION, "opts"));
  });
  const listener = (protocol: string): Block => s.resources("alicloud_alb_listener").find((candidate) => candidate.listener_protocol === protocol)!;
  const rule = (name: string): Block => s.resources("alicloud_alb_rule").find((candidate) => candidate.rule_name === `seckill-opts-${name}`)!;

  test("conforms to the vendored alicloud provider schema", () => {
    expect(schemaViolations(s.json)).toEqual([]);
  });

  test("every enum-like and bounded argument takes a value the provider accepts", () => {
    expect(allowedValueViolations(s.json)).toEqual([]);
  });

  test("a certificate adds an HTTPS :443 listener that serves and rate-limits", () => {
    expect(listener("HTTPS")).toMatchObject({
      listener_port: 443,
      certificates: [{ certificate_id: "8806512-cn-hangzhou" }],
      default_actions: [{ type: "ForwardGroup", forward_group_config: { server_group_tuples: [{ server_group_id: s.ref(s.stack.ingress.serverGroupId) }] } }],
    });
    for (const name of ["orders", "reads"]) expect(rule(name).listener_id).toMatch(/^\$\{alicloud_alb_listener\.ingress_https-listener_[^.]+\.id\}$/);
  });

  test("and :80 redirects every request to HTTPS", () => {
    const redirect = rule("to-https");
    expect(redirect.listener_id).toMatch(/^\$\{alicloud_alb_listener\.ingress_http-listener_[^.]+\.id\}$/);
    expect(redirect.rule_conditions).toEqual([{ type: "Path", path_config: { values: ["/*"] } }]);
    expect(redirect.rule_actions).toEqual([{ order: 1, type: "Redirect", redirect_config: { protocol: "HTTPS", port: "443", http_code: "301" } }]);
    expect(s.stack.ingress.listenerPorts).toEqual([80, 443]);
  });

  test("a DNS record points the domain at the ALB, and the public URL uses it", () => {
    expect(s.one("alicloud_alidns_record")).toMatchObject({ domain_name: "example.com", rr: "sale", type: "CNAME", value: s.ref(s.stack.ingress.dnsName) });
    expect(s.json.output.public_url.value).toBe("https://sale.example.com");
  });

  test("state goes to OSS, encrypted, with the Tablestore lock", () => {
    expect(s.json.terraform.backend).toEqual({
      oss: {
        bucket: "acme-tfstate",
        prefix: "seckill/opts",
        key: "terraform.tfstate",
        region: "cn-hangzhou",
        encrypt: true,
        tablestore_endpoint: "https://tf-lock.cn-hangzhou.ots.aliyuncs.com",
        tablestore_table: "terraform_state_lock",
      },
    });
  });

  test("a third zone spreads every tier over three zones", () => {
    expect(s.resources("alicloud_vswitch")).toHaveLength(9);
    expect(s.one("alicloud_alb_load_balancer").zone_mappings.map((mapping: Block) => mapping.zone_id)).toEqual(["cn-hangzhou-h", "cn-hangzhou-j", "cn-hangzhou-k"]);
    expect(s.one("alicloud_ess_scaling_group").vswitch_ids).toHaveLength(3);
    expect(s.resources("alicloud_snat_entry")).toHaveLength(3);
    expect(s.resources("alicloud_security_group_rule")).toHaveLength(4);
  });

  test("the app port reaches the security group, the scaling group and the service environment", () => {
    for (const rule of s.resources("alicloud_security_group_rule")) expect(rule.port_range).toBe("9000/9000");
    expect(s.one("alicloud_ess_scaling_group").alb_server_group[0].port).toBe(9000);
    expect(s.stack.serviceEnv).toMatchObject({ PORT: "9000", WORKERS: "4" });
  });

  test("the CPU metric tracks CpuUtilization without an ALB dimension", () => {
    expect(s.one("alicloud_ess_scaling_rule")).toMatchObject({ metric_name: "CpuUtilization", target_value: 60 });
    expect(s.one("alicloud_ess_scaling_rule").alarm_dimension).toBeUndefined();
  });

  test("scheduled tasks already due are left out: a running sale keeps only its scale-in, a past one none", () => {
    const tasks = s.resources("alicloud_ess_scheduled_task").map((task) => [task.scheduled_task_name, task.launch_time]);
    expect(tasks.sort()).toEqual([
      ["seckill-opts-ahead-prewarm", "2026-12-12T11:00Z"],
      ["seckill-opts-ahead-scalein", "2026-12-12T14:15Z"],
      ["seckill-opts-running-scalein", launchTime(new Date("2026-11-25T02:15:00Z"))],
    ]);
    expect(TEST_NOW.toISOString()).toBe("2026-11-25T00:00:00.000Z");
  });
});

describe("regional differences", () => {
  test("a Developer Edition Nacos uses single_eni where MSE requires it", async () => {
    const s = synthesize(
      await configFromTfvars(`region = "ap-southeast-1"\nzones = ["ap-southeast-1a", "ap-southeast-1b"]\nmse_edition = "mse_dev"\nmse_specification = "MSE_SC_1_2_200_c"\nmse_instance_count = 1\n`),
    );
    expect(s.one("alicloud_mse_cluster")).toMatchObject({ mse_version: "mse_dev", connection_type: "single_eni", cluster_specification: "MSE_SC_1_2_200_c" });
  });

  test("elsewhere the connection type is left to MSE", async () => {
    const s = synthesize(await configFromTfvars(`region = "cn-hangzhou"\nzones = ["cn-hangzhou-j", "cn-hangzhou-k"]\n`));
    expect(s.one("alicloud_mse_cluster").connection_type).toBeUndefined();
    expect(s.json.terraform.backend).toBeUndefined();
  });
});
