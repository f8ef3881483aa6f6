import type { TerraformBlock } from "../../contract/terraform-json";
/** What the optional tfvars keys change in a stack: HTTPS, DNS, the published sale page and CORS, remote state, a third zone, the CPU metric, past sales. */
import { schemaViolations } from "../support/schema-conformance";
import { MINIMAL_TFVARS, Synthesized, TEST_NOW, configFromTfvars, synthesize } from "./support/synth";
import { allowedValueViolations } from "./support/provider-allowed-values";

const EVERY_OPTION = `
region = "cn-hangzhou"
zones  = ["cn-hangzhou-h", "cn-hangzhou-j", "cn-hangzhou-k"]
certificate_id  = "8806512-cn-hangzhou"
dns_domain_name = "example.com"
dns_record_name = "sale"
sale_page_record_name    = "shop"
sale_page_cdn_scope      = "global"
sale_page_certificate_id = "8806513-cn-hangzhou"
nat_gateway = true
nat_bandwidth_mbps = 20
app_port = 9000
workers  = 4
scaling_metric = "cpu"
min_instances = 3
max_instances = 12
prewarm_lead_minutes   = 60
scale_in_delay_minutes = 15
sale_windows = [
  { name = "over", starts_at = "2026-11-20T12:00Z", ends_at = "2026-11-20T14:00Z", instances = 6 },
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
  const listener = (protocol: string): TerraformBlock =>
    s.resources("alicloud_alb_listener").find((candidate) => candidate.listener_protocol === protocol)!;
  const rule = (name: string): TerraformBlock =>
    s.resources("alicloud_alb_rule").find((candidate) => candidate.rule_name === `seckill-opts-${name}`)!;

  test("conforms to the vendored alicloud provider schema", () => {
    expect(schemaViolations(s.json)).toEqual([]);
  });

  test("every enum-like and bounded argument takes a value the provider accepts", () => {
    expect(allowedValueViolations(s.json)).toEqual([]);
  });

  test("a certificate adds an HTTPS :443 listener, TLS 1.2 and later with HTTP/2, that serves and rate-limits", () => {
    expect(listener("HTTPS")).toMatchObject({
      listener_port: 443,
      certificates: [{ certificate_id: "8806512-cn-hangzhou" }],
      security_policy_id: "tls_cipher_policy_1_2",
      http2_enabled: true,
      default_actions: [
        {
          type: "ForwardGroup",
          forward_group_config: { server_group_tuples: [{ server_group_id: s.ref(s.stack.ingress.serverGroupId) }] },
        },
      ],
    });
    expect(listener("HTTP").security_policy_id).toBeUndefined();
    expect(listener("HTTP").http2_enabled).toBeUndefined();
    for (const name of ["orders", "reads", "admin-plane-hidden", "catch-all"])
      expect(rule(name).listener_id).toMatch(/^\$\{alicloud_alb_listener\.ingress_https-listener_[^.]+\.id\}$/);
  });

  test("and :80 redirects every request to HTTPS with 308 (a POST stays a POST)", () => {
    const redirect = rule("to-https");
    expect(redirect.listener_id).toMatch(/^\$\{alicloud_alb_listener\.ingress_http-listener_[^.]+\.id\}$/);
    expect(redirect.rule_conditions).toEqual([{ type: "Path", path_config: { values: ["/*"] } }]);
    expect(redirect.rule_actions).toEqual([
      { order: 1, type: "Redirect", redirect_config: { protocol: "HTTPS", port: "443", http_code: "308" } },
    ]);
    expect(s.stack.ingress.listenerPorts).toEqual([80, 443]);
  });

  test("a DNS record points the domain at the ALB, and the public URL uses it", () => {
    const record = s.resources("alicloud_alidns_record").find((candidate) => candidate.rr === "sale");
    expect(record).toMatchObject({ domain_name: "example.com", type: "CNAME", value: s.ref(s.stack.ingress.dnsName) });
    expect(s.json.output.public_url.value).toBe("https://sale.example.com");
  });

  describe("a sale page record", () => {
    const PAGE_ORIGIN = "https://shop.example.com";
    const EXPECTED_CORS = {
      type: "Cors",
      cors_config: {
        allow_origin: [PAGE_ORIGIN],
        allow_methods: ["GET", "POST", "OPTIONS"],
        allow_headers: ["Authorization", "Content-Type"],
        expose_headers: ["Date"],
        max_age: 600,
        allow_credentials: "off",
      },
    };
    const actionTypes = (block: TerraformBlock) =>
      [...block.rule_actions]
        .sort((a: TerraformBlock, b: TerraformBlock) => a.order - b.order)
        .map((action: TerraformBlock) => action.type);

    test("publishes the page through CDN on its host, HTTPS only, with a CNAME in the zone", () => {
      expect(s.one("alicloud_cdn_domain_new")).toMatchObject({
        domain_name: "shop.example.com",
        scope: "global",
        certificate_config: { cert_type: "cas", cert_id: "8806513-cn-hangzhou", server_certificate_status: "on" },
      });
      expect(s.resources("alicloud_cdn_domain_config").map((config) => config.function_name)).toContain("https_force");
      const record = s.resources("alicloud_alidns_record").find((candidate) => candidate.rr === "shop");
      expect(record).toMatchObject({ domain_name: "example.com", type: "CNAME", value: s.ref(s.stack.salePage.cdnCname) });
    });

    test("the page calls the API at the ALB's HTTPS host", () => {
      const html = s.resources("alicloud_oss_bucket_object").find((object) => object.key === "index.html")!.content;
      expect(html).toContain('<meta name="seckill-api-base" content="https://sale.example.com">');
    });

    test("outputs the page's bucket, URL and CDN CNAME", () => {
      expect(s.json.output.sale_page_bucket.value).toBe(s.ref(s.stack.salePage.bucketName));
      expect(s.json.output.sale_page_url.value).toBe(`${PAGE_ORIGIN}/`);
      expect(s.json.output.sale_page_cdn_cname.value).toMatch(/^\$\{alicloud_cdn_domain_new\.[^.]+\.cname\}$/);
    });

    test.each(["orders", "reads"])("the %s rule answers the page's origin with CORS first, then limits, then forwards", (name) => {
      expect(actionTypes(rule(name))).toEqual(["Cors", "TrafficLimit", "ForwardGroup"]);
      expect(rule(name).rule_actions.find((action: TerraformBlock) => action.type === "Cors")).toEqual({ order: 1, ...EXPECTED_CORS });
    });

    test("ALB answers preflights itself: OPTIONS /api/* gets CORS and an empty 204, ahead of every rule that forwards", () => {
      const preflight = rule("preflight");
      expect(preflight.listener_id).toMatch(/^\$\{alicloud_alb_listener\.ingress_https-listener_[^.]+\.id\}$/);
      expect(preflight.rule_conditions).toEqual([
        { type: "Method", method_config: { values: ["OPTIONS"] } },
        { type: "Path", path_config: { values: ["/api/*"] } },
      ]);
      expect(preflight.rule_actions).toEqual([
        { order: 1, ...EXPECTED_CORS },
        { order: 2, type: "FixedResponse", fixed_response_config: { http_code: "204", content: "" } },
      ]);
      const forwarding = s
        .resources("alicloud_alb_rule")
        .filter(
          (other) =>
            other.listener_id === preflight.listener_id &&
            other.rule_actions.some((action: TerraformBlock) => action.type === "ForwardGroup"),
        );
      expect(forwarding.length).toBeGreaterThan(0);
      for (const other of forwarding) expect(preflight.priority).toBeLessThan(other.priority);
      expect(preflight.depends_on).toEqual([expect.stringMatching(/^alicloud_alb_rule\.ingress_reads_/)]);
    });

    test("every rule has one final action, with the highest order, and orders are distinct", () => {
      for (const block of s.resources("alicloud_alb_rule")) {
        const orders = block.rule_actions.map((action: TerraformBlock) => action.order);
        expect(new Set(orders).size).toBe(orders.length);
        const finals = block.rule_actions.filter((action: TerraformBlock) =>
          ["ForwardGroup", "Redirect", "FixedResponse"].includes(action.type),
        );
        expect(finals).toHaveLength(1);
        expect(finals[0].order).toBe(Math.max(...orders));
        // Standard edition: at most 5 actions per rule.
        expect(orders.length).toBeLessThanOrEqual(5);
      }
    });
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
    expect(s.one("alicloud_alb_load_balancer").zone_mappings.map((mapping: TerraformBlock) => mapping.zone_id)).toEqual([
      "cn-hangzhou-h",
      "cn-hangzhou-j",
      "cn-hangzhou-k",
    ]);
    expect(s.one("alicloud_ess_scaling_group").vswitch_ids).toHaveLength(3);
    expect(s.resources("alicloud_snat_entry")).toHaveLength(3);
    expect(s.resources("alicloud_security_group_rule")).toHaveLength(4);
  });

  test("a NAT gateway gives instances a way out through its EIP, one SNAT entry per app vSwitch, before the group launches any", () => {
    expect(s.one("alicloud_nat_gateway")).toMatchObject({
      nat_type: "Enhanced",
      network_type: "internet",
      payment_type: "PayAsYouGo",
      vpc_id: s.ref(s.stack.network.vpcId),
      vswitch_id: s.ref(s.stack.network.appSubnets[0].vswitchId),
    });
    expect(s.one("alicloud_eip_address")).toMatchObject({
      payment_type: "PayAsYouGo",
      internet_charge_type: "PayByTraffic",
      bandwidth: "20",
    });
    expect(s.one("alicloud_eip_association")).toMatchObject({ instance_type: "Nat" });
    const snat = s.resources("alicloud_snat_entry");
    expect(snat.map((entry) => entry.source_vswitch_id)).toEqual(s.stack.network.appSubnets.map((subnet) => s.ref(subnet.vswitchId)));
    expect(snat.every((entry) => entry.snat_ip === s.ref(s.stack.network.egressIp) && entry.depends_on.length === 1)).toBe(true);
    const snatAddresses = Object.keys(s.json.resource.alicloud_snat_entry).map((name) => `alicloud_snat_entry.${name}`);
    expect(s.one("alicloud_ess_scaling_group").depends_on).toEqual(snatAddresses);
    expect(s.one("alicloud_ess_scaling_group").depends_on).toHaveLength(3);
    expect(s.json.output.nat_egress_ip.value).toBe(s.ref(s.stack.network.egressIp));
    expect(s.one("alicloud_ess_scaling_configuration").internet_max_bandwidth_out).toBe(0);
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

  test("a sale already over gets no scheduled tasks, one ahead gets its pre-warm and scale-in", () => {
    const tasks = s.resources("alicloud_ess_scheduled_task").map((task) => [task.scheduled_task_name, task.launch_time]);
    expect(tasks.sort()).toEqual([
      ["seckill-opts-ahead-prewarm", "2026-12-12T11:00Z"],
      ["seckill-opts-ahead-scalein", "2026-12-12T14:15Z"],
    ]);
    expect(TEST_NOW.toISOString()).toBe("2026-11-25T00:00:00.000Z");
  });
});

describe("a sale page over HTTP on the zone apex", () => {
  let s: Synthesized;
  beforeAll(async () => {
    s = synthesize(
      await configFromTfvars(
        `${MINIMAL_TFVARS}dns_domain_name = "example.com"\ndns_record_name = "api"\nsale_page_record_name = "@"\n`,
        "apex",
      ),
    );
  });
  const corsConfigs = () =>
    s
      .resources("alicloud_alb_rule")
      .flatMap((rule) =>
        rule.rule_actions.filter((action: TerraformBlock) => action.type === "Cors").map((action: TerraformBlock) => action.cors_config),
      );

  test("the API allows the plain-HTTP origin of the apex", () => {
    expect(corsConfigs()).toHaveLength(3);
    for (const config of corsConfigs()) expect(config.allow_origin).toEqual(["http://example.com"]);
    expect(s.json.output.sale_page_url.value).toBe("http://example.com/");
  });

  test("the CDN is domestic by default and does not force HTTPS", () => {
    expect(s.one("alicloud_cdn_domain_new")).toMatchObject({ domain_name: "example.com", scope: "domestic" });
    expect(s.one("alicloud_cdn_domain_new").certificate_config).toBeUndefined();
    expect(s.resources("alicloud_cdn_domain_config").map((config) => config.function_name)).not.toContain("https_force");
  });

  test("conforms to the provider's schema and allowed values", () => {
    expect(schemaViolations(s.json)).toEqual([]);
    expect(allowedValueViolations(s.json)).toEqual([]);
  });
});

describe("regional differences", () => {
  test("a Developer Edition Nacos uses single_eni where MSE requires it", async () => {
    const s = synthesize(
      await configFromTfvars(
        `region = "ap-southeast-1"\nzones = ["ap-southeast-1a", "ap-southeast-1b"]\nmse_edition = "mse_dev"\nmse_specification = "MSE_SC_1_2_200_c"\nmse_instance_count = 1\n`,
      ),
    );
    expect(s.one("alicloud_mse_cluster")).toMatchObject({
      mse_version: "mse_dev",
      connection_type: "single_eni",
      cluster_specification: "MSE_SC_1_2_200_c",
    });
  });

  test("elsewhere the connection type is left to MSE", async () => {
    const s = synthesize(await configFromTfvars(`region = "cn-hangzhou"\nzones = ["cn-hangzhou-j", "cn-hangzhou-k"]\n`));
    expect(s.one("alicloud_mse_cluster").connection_type).toBeUndefined();
    expect(s.json.terraform.backend).toBeUndefined();
  });
});

describe('how an order is kept safe from a Tair failover (README, "Acknowledged means replicated")', () => {
  test("one shard: the service WAITs for the replica, Tair replicates asynchronously", async () => {
    const s = synthesize(await configFromTfvars(MINIMAL_TFVARS));
    expect(s.stack.serviceEnv.REDIS_REPLICA_ACK).toBe("1");
    expect(s.one("alicloud_redis_tair_instance").param_repl_mode).toBeUndefined();
  });

  test("a cluster, behind proxies that do not take WAIT: Tair's semi-synchronous replication instead", async () => {
    const s = synthesize(await configFromTfvars(`${MINIMAL_TFVARS}tair_shard_count = 2\n`));
    expect(s.stack.serviceEnv.REDIS_REPLICA_ACK).toBeUndefined();
    expect(s.one("alicloud_redis_tair_instance").param_repl_mode).toBe("semisync");
  });

  test('"async" asks for neither', async () => {
    const s = synthesize(await configFromTfvars(`${MINIMAL_TFVARS}tair_replica_ack = "async"\n`));
    expect(s.stack.serviceEnv.REDIS_REPLICA_ACK).toBeUndefined();
    expect(s.one("alicloud_redis_tair_instance").param_repl_mode).toBeUndefined();
  });
});
