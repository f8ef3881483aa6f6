import { API_PREFIX, ROUTES } from "../../contract/routes";
import type { TerraformBlock } from "../../contract/terraform-json";
import { ApiErrors, errorBody } from "../../app/http/reply";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { TLS_1_2_SECURITY_POLICIES, loadEnvConfig } from "../../stacks/config";
import { launchTime } from "../../stacks/sale-schedule";
import { ALB_HEALTH_CHECK_CIDR } from "../../stacks/network";
import { schemaViolations } from "../support/schema-conformance";
import { Synthesized, TEST_NOW, expressionsOf, synthesize } from "./support/synth";
import { allowedValueViolations } from "./support/provider-allowed-values";
import { renderBootScript } from "../../userdata";
import { SECRET_PARAMETERS, type SecretParameter } from "../../contract/service-env";
import { ROTATED_IN_THE_STORE } from "../../stacks/secret-store";

const ENVS = readdirSync("envs")
  .filter((name) => name.endsWith(".tfvars"))
  .map((name) => path.basename(name, ".tfvars"))
  .sort();

test("dev and prod are shipped", () => {
  expect(ENVS).toEqual(expect.arrayContaining(["dev", "prod"]));
});

describe.each(ENVS)("stack seckill-%s", (envName) => {
  let s: Synthesized;
  beforeAll(async () => {
    s = synthesize(await loadEnvConfig(`envs/${envName}.tfvars`, TEST_NOW));
  });
  const zones = () => s.config.zones;
  const appCidrs = () => s.config.network.appVswitchCidrs;

  test("conforms to the vendored alicloud provider schema", () => {
    expect(schemaViolations(s.json)).toEqual([]);
  });

  test("every enum-like and bounded argument takes a value the provider accepts", () => {
    expect(allowedValueViolations(s.json)).toEqual([]);
  });

  test("is named after the environment and runs in its region", () => {
    expect(s.stack.node.id).toBe(`seckill-${envName}`);
    expect(s.json.provider.alicloud).toEqual([{ region: s.config.region }]);
    expect(s.one("alicloud_vpc").vpc_name).toBe(`seckill-${envName}`);
    expect(s.one("alicloud_ess_scaling_group").scaling_group_name).toBe(`seckill-${envName}-app`);
  });

  test("every taggable resource carries the environment", () => {
    const untagged = Object.entries(s.json.resource).flatMap(([type, byName]) =>
      Object.entries(byName)
        .filter(([, block]) => "tags" in block && block.tags.Environment !== envName)
        .map(([name]) => `${type}.${name}`),
    );
    expect(untagged).toEqual([]);
    expect(s.one("alicloud_polardb_cluster").tags).toMatchObject({
      Project: "seckill",
      Environment: envName,
      ManagedBy: "cdktf",
      ...s.config.tags,
    });
  });

  describe("network", () => {
    test("one app, ALB and data vSwitch per zone, with the configured CIDRs", () => {
      const vswitches = s.resources("alicloud_vswitch");
      expect(vswitches).toHaveLength(3 * zones().length);
      for (const [tier, cidrs] of Object.entries({
        app: appCidrs(),
        alb: s.config.network.albVswitchCidrs,
        data: s.config.network.dataVswitchCidrs,
      })) {
        const tierSwitches = zones().map((zone) =>
          vswitches.find((vswitch) => vswitch.vswitch_name === `seckill-${envName}-${tier}-${zone}`),
        );
        expect(tierSwitches.map((vswitch) => vswitch?.zone_id)).toEqual(zones());
        expect(tierSwitches.map((vswitch) => vswitch?.cidr_block)).toEqual(cidrs);
      }
      expect(new Set(zones()).size).toBeGreaterThanOrEqual(2);
      expect(s.one("alicloud_vpc").cidr_block).toBe(s.config.network.vpcCidr);
    });

    test("instances have no way to the internet: no NAT gateway, no EIP, no public IP (nat_gateway defaults to false)", () => {
      expect(s.config.network.natGateway).toBe(false);
      for (const type of ["alicloud_nat_gateway", "alicloud_eip_address", "alicloud_eip_association", "alicloud_snat_entry"]) {
        expect(s.resources(type)).toEqual([]);
      }
      expect(s.json.output.nat_egress_ip).toBeUndefined();
      expect(s.one("alicloud_ess_scaling_group").depends_on).toBeUndefined();
      expect(s.one("alicloud_ess_scaling_configuration").internet_max_bandwidth_out).toBe(0);
    });
    test("instances accept only the app port, only from the ALB vSwitches and the health-check range", () => {
      const rules = s.resources("alicloud_security_group_rule");
      const port = s.config.compute.appPort;
      expect(rules.map((rule) => rule.cidr_ip).sort()).toEqual([...s.config.network.albVswitchCidrs, ALB_HEALTH_CHECK_CIDR].sort());
      for (const rule of rules) {
        expect(rule).toMatchObject({
          type: "ingress",
          ip_protocol: "tcp",
          nic_type: "intranet",
          policy: "accept",
          port_range: `${port}/${port}`,
          security_group_id: s.ref(s.stack.network.appSecurityGroupId),
        });
      }
      expect(s.one("alicloud_security_group")).toMatchObject({ vpc_id: s.ref(s.stack.network.vpcId), inner_access_policy: "Drop" });
    });
  });

  describe("ingress", () => {
    test("a Standard, internet-facing ALB in two zones, with deletion protection as the environment asks", () => {
      const alb = s.one("alicloud_alb_load_balancer");
      expect(alb).toMatchObject({
        load_balancer_edition: "Standard",
        address_type: "Internet",
        load_balancer_billing_config: { pay_type: "PayAsYouGo" },
        deletion_protection_enabled: s.config.deletionProtection,
      });
      expect(alb.zone_mappings).toEqual(
        s.stack.network.albSubnets.map((subnet) => ({ zone_id: subnet.zoneId, vswitch_id: s.ref(subnet.vswitchId) })),
      );
      expect(alb.zone_mappings.length).toBeGreaterThanOrEqual(2);
      if (s.config.production) expect(alb.deletion_protection_enabled).toBe(true);
    });

    test("the server group health-checks GET /healthz, slow-starts, drains, and leaves its servers to the scaling group", () => {
      const group = s.one("alicloud_alb_server_group");
      expect(group.health_check_config).toMatchObject({
        health_check_enabled: true,
        health_check_protocol: "HTTP",
        health_check_method: "GET",
        health_check_path: "/healthz",
        health_check_codes: ["http_2xx"],
      });
      expect(group.slow_start_config).toMatchObject({ slow_start_enabled: true });
      expect(group.connection_drain_config).toMatchObject({ connection_drain_enabled: true });
      expect(group.lifecycle).toEqual({ ignore_changes: ["servers"] });
      expect(group.servers).toBeUndefined();
    });

    const https = () => s.config.ingress.certificateId !== undefined;
    const listener = (protocol: "HTTP" | "HTTPS"): TerraformBlock =>
      s.resources("alicloud_alb_listener").find((candidate) => candidate.listener_protocol === protocol)!;
    /** The listener the rules below sit on: HTTPS :443 with a certificate, else HTTP :80. */
    const serving = () => listener(https() ? "HTTPS" : "HTTP");
    /** The rules on the listener of a protocol: a rule names its listener by the listener's address. */
    const rulesOn = (protocol: "HTTP" | "HTTPS"): TerraformBlock[] => {
      const [name] = Object.entries(s.json.resource.alicloud_alb_listener).find(([, block]) => block.listener_protocol === protocol)!;
      return s.resources("alicloud_alb_rule").filter((rule) => rule.listener_id === `\${alicloud_alb_listener.${name}.id}`);
    };
    const servingRules = () => rulesOn(https() ? "HTTPS" : "HTTP");

    test("the serving listener (HTTPS :443 with a certificate, else HTTP :80) defaults to the server group", () => {
      expect(s.resources("alicloud_alb_listener")).toHaveLength(https() ? 2 : 1);
      expect(serving()).toMatchObject({
        listener_protocol: https() ? "HTTPS" : "HTTP",
        listener_port: https() ? 443 : 80,
        load_balancer_id: s.ref(s.stack.ingress.loadBalancerId),
        default_actions: [
          {
            type: "ForwardGroup",
            forward_group_config: { server_group_tuples: [{ server_group_id: s.ref(s.stack.ingress.serverGroupId) }] },
          },
        ],
        x_forwarded_for_config: { x_forwarded_for_enabled: true, x_forwarded_for_processing_mode: "append" },
      });
    });

    test("production serves HTTPS only: TLS 1.2 or later, HTTP/2, and :80 answers every request with a 308 to HTTPS", () => {
      if (!s.config.production) return;
      expect(listener("HTTPS")).toMatchObject({ security_policy_id: s.config.ingress.tlsSecurityPolicy, http2_enabled: true });
      expect(TLS_1_2_SECURITY_POLICIES).toContain(listener("HTTPS").security_policy_id);
      const redirects = rulesOn("HTTP");
      expect(redirects).toEqual([
        expect.objectContaining({
          rule_conditions: [{ type: "Path", path_config: { values: ["/*"] } }],
          rule_actions: [{ order: 1, type: "Redirect", redirect_config: { protocol: "HTTPS", port: "443", http_code: "308" } }],
        }),
      ]);
    });

    test("the admin plane is answered by rules ahead of every rule that forwards without a source condition", () => {
      const rules = servingRules();
      const adminRules = rules.filter((rule) =>
        rule.rule_conditions.some((c: TerraformBlock) => c.type === "Path" && c.path_config.values.includes("/admin/*")),
      );
      const openForwards = rules.filter(
        (rule) =>
          rule.rule_actions.some((action: TerraformBlock) => action.type === "ForwardGroup") &&
          !rule.rule_conditions.some((condition: TerraformBlock) => condition.type === "SourceIp"),
      );
      expect(adminRules.map((rule) => rule.rule_name).sort()).toEqual(
        (s.config.ingress.adminCidrs.length > 0 ? [`seckill-${envName}-admin-plane`] : [])
          .concat(`seckill-${envName}-admin-plane-hidden`)
          .sort(),
      );
      for (const rule of adminRules) {
        expect(rule.rule_conditions).toContainEqual({
          type: "Path",
          path_config: { values: ["/admin/*", "/metrics", "/readyz", "/healthz"] },
        });
        for (const forward of openForwards) expect(rule.priority).toBeLessThan(forward.priority);
      }
      const hidden = rule("admin-plane-hidden");
      expect(hidden.rule_conditions).toHaveLength(1);
      expect(hidden.rule_actions).toEqual([
        {
          order: 1,
          type: "FixedResponse",
          fixed_response_config: {
            http_code: "404",
            content_type: "application/json",
            // The service's own 404, so a path the ALB hides looks like one that does not exist.
            content: errorBody(ApiErrors.notFound),
          },
        },
      ]);
    });

    test("the operators' networks reach the admin plane, within the default limit", () => {
      if (s.config.ingress.adminCidrs.length === 0) return expect(rule("admin-plane")).toBeUndefined();
      const adminPlane = rule("admin-plane");
      expect(adminPlane.rule_conditions).toContainEqual({ type: "SourceIp", source_ip_config: { values: s.config.ingress.adminCidrs } });
      expect(trafficLimit(adminPlane).traffic_limit_config).toEqual({
        qps: s.config.ingress.defaultRateLimit.qps,
        per_ip_qps: s.config.ingress.defaultRateLimit.perIpQps,
      });
      expect(forward(adminPlane).order).toBeGreaterThan(trafficLimit(adminPlane).order);
    });

    test("a catch-all rule, matched last, limits every other path before it forwards", () => {
      const catchAll = rule("catch-all");
      expect(catchAll.rule_conditions).toEqual([{ type: "Path", path_config: { values: ["/*"] } }]);
      expect(trafficLimit(catchAll).traffic_limit_config).toEqual({
        qps: s.config.ingress.defaultRateLimit.qps,
        per_ip_qps: s.config.ingress.defaultRateLimit.perIpQps,
      });
      expect(forward(catchAll).order).toBeGreaterThan(trafficLimit(catchAll).order);
      for (const other of servingRules()) if (other !== catchAll) expect(other.priority).toBeLessThan(catchAll.priority);
    });

    test("priorities are unique on each listener, and every rule waits for the one before it", () => {
      for (const protocol of https() ? (["HTTP", "HTTPS"] as const) : (["HTTP"] as const)) {
        const priorities = rulesOn(protocol).map((rule) => rule.priority);
        expect(new Set(priorities).size).toBe(priorities.length);
      }
      const chained = servingRules().filter((rule) => rule.depends_on === undefined);
      expect(chained.map((rule) => rule.rule_name)).toEqual([`seckill-${envName}-orders`]);
    });

    const rule = (name: string): TerraformBlock =>
      s.resources("alicloud_alb_rule").find((candidate) => candidate.rule_name === `seckill-${envName}-${name}`)!;
    const trafficLimit = (block: TerraformBlock) => block.rule_actions.find((action: TerraformBlock) => action.type === "TrafficLimit");
    const forward = (block: TerraformBlock) => block.rule_actions.find((action: TerraformBlock) => action.type === "ForwardGroup");

    test("POST /api/sales/*/orders and a buyer's payment are rate-limited with the tfvars values, then forwarded", () => {
      const orders = rule("orders");
      expect(orders.rule_conditions).toEqual([
        { type: "Path", path_config: { values: ["/api/sales/*/orders", "/api/orders/*/payment"] } },
        { type: "Method", method_config: { values: ["POST"] } },
      ]);
      expect(trafficLimit(orders).traffic_limit_config).toEqual({
        qps: s.config.ingress.orderRateLimit.qps,
        per_ip_qps: s.config.ingress.orderRateLimit.perIpQps,
      });
      expect(forward(orders).forward_group_config).toEqual({
        server_group_tuples: [{ server_group_id: s.ref(s.stack.ingress.serverGroupId) }],
      });
      expect(forward(orders).order).toBeGreaterThan(trafficLimit(orders).order);
    });

    test("the payment provider's callback is public under a rule of its own, limited like orders, without CORS", () => {
      const callbacks = rule("payment-callbacks");
      expect(callbacks.rule_conditions).toEqual([
        { type: "Path", path_config: { values: ["/payments/callback"] } },
        { type: "Method", method_config: { values: ["POST"] } },
      ]);
      expect(callbacks.rule_actions.map((action: TerraformBlock) => action.type)).toEqual(["TrafficLimit", "ForwardGroup"]);
      expect(trafficLimit(callbacks).traffic_limit_config).toEqual({
        qps: s.config.ingress.orderRateLimit.qps,
        per_ip_qps: s.config.ingress.orderRateLimit.perIpQps,
      });
      expect(callbacks.rule_conditions.some((condition: TerraformBlock) => condition.type === "SourceIp")).toBe(false);
    });

    test("every API route meets the rule with its limit first: POST orders the orders rule, every GET the reads rule", () => {
      // ALB tries rules by priority; a Path value's `*` matches any characters, `/` included (`/*` matches every path).
      const matchesPath = (patterns: string[], path: string) =>
        patterns.some((pattern) => new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`).test(path));
      const meets = (block: TerraformBlock, method: string, path: string) =>
        block.rule_conditions.every((condition: TerraformBlock) =>
          condition.type === "Path" ? matchesPath(condition.path_config.values, path) : condition.method_config.values.includes(method),
        );
      const byPriority = [rule("orders"), rule("reads")].sort((a, b) => a.priority - b.priority);
      for (const { method, path } of Object.values(ROUTES).filter((route) => route.path.startsWith(API_PREFIX))) {
        const concrete = path.replace(/:[A-Za-z]+/g, "0123456789abcdef");
        const first = byPriority.find((block) => meets(block, method, concrete));
        expect({ route: `${method} ${path}`, rule: first?.rule_name }).toEqual({
          route: `${method} ${path}`,
          rule: `seckill-${envName}-${method === "POST" ? "orders" : "reads"}`,
        });
      }
    });

    test("reads get their own, higher limit, and the order rule is matched first", () => {
      const reads = rule("reads");
      expect(reads.rule_conditions).toEqual([
        { type: "Path", path_config: { values: ["/api/sales/*", "/api/orders/*", "/api/sales/*/my-order"] } },
      ]);
      expect(trafficLimit(reads).traffic_limit_config).toEqual({
        qps: s.config.ingress.readRateLimit.qps,
        per_ip_qps: s.config.ingress.readRateLimit.perIpQps,
      });
      expect(trafficLimit(reads).traffic_limit_config.qps).toBeGreaterThan(trafficLimit(rule("orders")).traffic_limit_config.qps);
      expect(forward(reads).order).toBeGreaterThan(trafficLimit(reads).order);
      expect(rule("orders").priority).toBeLessThan(reads.priority);
      for (const block of [rule("orders"), reads])
        expect(trafficLimit(block).traffic_limit_config.per_ip_qps).toBeLessThan(trafficLimit(block).traffic_limit_config.qps);
    });
  });

  describe("sale page", () => {
    const pageObjects = () =>
      s.resources("alicloud_oss_bucket_object").filter((object) => object.bucket === s.ref(s.stack.salePage.bucketName));

    test("sits in its own private, encrypted bucket named after the environment", () => {
      const [bucketAddress] = expressionsOf(s.ref(s.stack.salePage.bucketName));
      const bucket = s.json.resource.alicloud_oss_bucket[bucketAddress.split(".")[1]];
      expect(bucket.bucket).toMatch(new RegExp(`^seckill-${envName}-page-\\$\\{data\\.alicloud_account\\.[^.]+\\.id\\}$`));
      expect(bucket.server_side_encryption_rule).toEqual({ sse_algorithm: "AES256" });
      const bucketRef = s.ref(s.stack.salePage.bucketName);
      expect(s.resources("alicloud_oss_bucket_acl")).toContainEqual({ bucket: bucketRef, acl: "private" });
      expect(s.resources("alicloud_oss_bucket_public_access_block")).toContainEqual({ bucket: bucketRef, block_public_access: true });
    });

    test("the page and its assets are uploaded, the HTML calling this stack's public URL", () => {
      const keys = pageObjects().map((object) => object.key);
      expect(keys).toEqual(
        expect.arrayContaining([
          "index.html",
          expect.stringMatching(/^assets\/sale\.[0-9a-f]{12}\.js$/),
          expect.stringMatching(/^assets\/sale\.[0-9a-f]{12}\.css$/),
        ]),
      );
      const html = pageObjects().find((object) => object.key === "index.html")!.content;
      expect(html).toContain(`<meta name="seckill-api-base" content="${s.ref(s.stack.ingress.publicUrl)}">`);
    });

    test("CDN, its DNS record and CORS on the API exist exactly when tfvars give the page a domain", () => {
      const published = s.config.salePage.domain !== undefined;
      expect(s.resources("alicloud_cdn_domain_new")).toHaveLength(published ? 1 : 0);
      expect(s.resources("alicloud_alidns_record")).toHaveLength((published ? 1 : 0) + (s.config.ingress.dns ? 1 : 0));
      const corsActions = s
        .resources("alicloud_alb_rule")
        .flatMap((rule) => rule.rule_actions.filter((action: TerraformBlock) => action.type === "Cors"));
      expect(corsActions).toHaveLength(published ? 3 : 0);
      expect(s.json.output.sale_page_bucket.value).toBe(s.ref(s.stack.salePage.bucketName));
      expect(Object.keys(s.json.output).filter((name) => ["sale_page_url", "sale_page_cdn_cname"].includes(name))).toHaveLength(
        published ? 2 : 0,
      );
    });
  });

  describe("compute", () => {
    test("the scaling group spans every app vSwitch, balanced, sized from tfvars, attached to the ALB server group", () => {
      const { minInstances, desiredInstances, maxInstances, appPort } = s.config.compute;
      expect(s.one("alicloud_ess_scaling_group")).toMatchObject({
        min_size: minInstances,
        desired_capacity: desiredInstances,
        max_size: maxInstances,
        vswitch_ids: s.stack.network.appSubnets.map((subnet) => s.ref(subnet.vswitchId)),
        multi_az_policy: "BALANCE",
        removal_policies: ["OldestScalingConfiguration", "NewestInstance"],
        alb_server_group: [{ alb_server_group_id: s.ref(s.stack.ingress.serverGroupId), port: appPort, weight: 100 }],
        lifecycle: { ignore_changes: ["desired_capacity"] },
      });
      expect(s.resources("alicloud_ess_server_group_attachment")).toEqual([]);
    });

    test("an instance the ALB finds unhealthy is replaced: the group checks ECS and the load balancer", () => {
      const group = s.one("alicloud_ess_scaling_group");
      expect(group.health_check_types).toEqual(["ECS", "LOAD_BALANCER"]);
      // The provider refuses health_check_type next to health_check_types (ConflictsWith).
      expect(group.health_check_type).toBeUndefined();
      // ESS takes load balancer health from ALB server groups (not CLB): the group is attached to one.
      expect(group.alb_server_group).toHaveLength(1);
      expect(group.loadbalancer_ids).toBeUndefined();
    });

    test("the scaling configuration launches Alibaba Cloud Linux 3 with the instance types, security group, disk and RAM role", () => {
      const launch = s.one("alicloud_ess_scaling_configuration");
      expect(launch).toMatchObject({
        scaling_group_id: s.ref(s.stack.compute.scalingGroupId),
        instance_types: s.config.compute.instanceTypes,
        security_group_ids: [s.ref(s.stack.network.appSecurityGroupId)],
        system_disk_category: s.config.compute.systemDiskCategory,
        system_disk_size: s.config.compute.systemDiskSizeGib,
        system_disk_encrypted: true,
        role_name: s.ref(s.stack.compute.instanceRoleName),
        active: true,
        enable: true,
      });
      // The image comes from tfvars, never from a lookup of the newest one.
      expect(launch.image_id).toBe(s.config.compute.imageId);
      expect(s.json.data.alicloud_images).toBeUndefined();
      // The grant, the secrets and the role's right to read them exist before any instance boots.
      expect([...launch.depends_on].sort()).toEqual([
        ...Object.keys(SECRET_PARAMETERS).map(() => expect.stringMatching(/^alicloud_oos_secret_parameter\./)),
        expect.stringMatching(/^alicloud_polardb_account_privilege\./),
        expect.stringMatching(/^alicloud_ram_role_policy_attachment\./),
      ]);
      expect(launch.http_endpoint).toBe("enabled");
      const trust = JSON.parse(s.one("alicloud_ram_role").assume_role_policy_document);
      expect(trust.Statement).toEqual([{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["ecs.aliyuncs.com"] } }]);
    });

    test("a target-tracking rule follows the configured metric", () => {
      const rule = s.one("alicloud_ess_scaling_rule");
      const alb = s.config.compute.scalingMetric === "alb_qps";
      expect(rule).toMatchObject({
        scaling_rule_type: "TargetTrackingScalingRule",
        metric_name: alb ? "LoadBalancerRealServerAverageQps" : "CpuUtilization",
        target_value: s.config.compute.scalingTargetValue,
        estimated_instance_warmup: s.config.compute.instanceWarmupSeconds,
      });
      if (alb) expect(rule.alarm_dimension).toEqual({ dimension_key: "rulePool", dimension_value: s.ref(s.stack.ingress.serverGroupId) });
      else expect(rule.alarm_dimension).toBeUndefined();
    });

    test("every sale window gets a pre-warm before it and a scale-in after it", () => {
      const { saleWindows, prewarmLeadMinutes, scaleInDelayMinutes, minInstances, desiredInstances, maxInstances } = s.config.compute;
      expect(saleWindows.length).toBeGreaterThan(0);
      const tasks = s.resources("alicloud_ess_scheduled_task");
      const expected = saleWindows.flatMap((window) => [
        {
          scheduled_task_name: `seckill-${envName}-${window.name}-prewarm`,
          launch_time: launchTime(new Date(window.startsAt.getTime() - prewarmLeadMinutes * 60_000)),
          min_value: window.instances,
          desired_capacity: window.instances,
          max_value: maxInstances,
        },
        {
          scheduled_task_name: `seckill-${envName}-${window.name}-scalein`,
          launch_time: launchTime(new Date(window.endsAt.getTime() + scaleInDelayMinutes * 60_000)),
          min_value: minInstances,
          desired_capacity: desiredInstances,
          max_value: maxInstances,
        },
      ]);
      expect(tasks).toHaveLength(expected.length);
      for (const task of expected) {
        expect(tasks).toContainEqual(
          expect.objectContaining({ ...task, scaling_group_id: s.ref(s.stack.compute.scalingGroupId), task_enabled: true }),
        );
      }
      for (const task of tasks) expect(task.launch_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    });
  });

  describe("data stores", () => {
    test("Tair 7.0 memory-enhanced, pay-as-you-go, primary and replica in two zones, whitelisting the app vSwitches only", () => {
      const tair = s.one("alicloud_redis_tair_instance");
      expect(tair).toMatchObject({
        instance_type: "tair_rdb",
        engine_version: "7.0",
        payment_type: "PayAsYouGo",
        instance_class: s.config.cache.instanceClass,
        shard_count: s.config.cache.shardCount,
        node_type: "MASTER_SLAVE",
        zone_id: zones()[0],
        secondary_zone_id: zones()[1],
        vswitch_id: s.ref(s.stack.network.dataSubnets[0].vswitchId),
        security_ips: appCidrs().join(","),
        vpc_auth_mode: "Open",
        config: { "maxmemory-policy": "noeviction" },
      });
      expect(tair.password).toBe(s.ref(s.stack.cache.password));
      expect(tair.period).toBeUndefined();
    });

    test("PolarDB MySQL 8.0 pay-as-you-go, whitelisting the app vSwitches through db_cluster_ip_array, its default group kept closed", () => {
      const cluster = s.one("alicloud_polardb_cluster");
      expect(cluster).toMatchObject({
        db_type: "MySQL",
        db_version: "8.0",
        db_node_class: s.config.database.nodeClass,
        db_node_count: s.config.database.nodeCount,
        pay_type: "PostPaid",
        zone_id: zones()[0],
        vswitch_id: s.ref(s.stack.network.dataSubnets[0].vswitchId),
        hot_standby_cluster: s.config.database.hotStandby ? "ON" : "OFF",
        // The provider reads the default group back and never deletes it: configured, the plan stays empty.
        db_cluster_ip_array: [
          { db_cluster_ip_array_name: "seckillapp", security_ips: appCidrs() },
          { db_cluster_ip_array_name: "default", security_ips: ["127.0.0.1"] },
        ],
        deletion_lock: s.config.deletionProtection ? 1 : 0,
      });
      expect(cluster.security_ips).toBeUndefined();
      if (s.config.database.hotStandby) expect(cluster.standby_az).toBe(zones()[1]);
      if (s.config.production) expect(cluster.deletion_lock).toBe(1);
    });

    test("one utf8mb4 database and one account with ReadWrite on that database only", () => {
      expect(s.one("alicloud_polardb_database")).toMatchObject({ db_name: "seckill", character_set_name: "utf8mb4" });
      expect(s.one("alicloud_polardb_account")).toMatchObject({
        account_name: "seckill_app",
        account_type: "Normal",
        account_password: s.ref(s.stack.database.password),
      });
      expect(s.one("alicloud_polardb_account_privilege")).toMatchObject({
        account_privilege: "ReadWrite",
        account_name: s.ref(s.stack.database.username),
        db_names: [s.ref(s.stack.database.databaseName)],
      });
    });

    test("passwords are generated, or taken from sensitive TF_VAR_tair_password / TF_VAR_polardb_password", () => {
      expect(Object.keys(s.json.variable ?? {}).sort()).toEqual(["polardb_password", "tair_password"]);
      for (const variable of Object.values(s.json.variable ?? {}))
        expect(variable).toMatchObject({ sensitive: true, type: "string", default: "" });
      expect(s.ref(s.stack.cache.password)).toMatch(/^\$\{coalesce\(var\.tair_password, random_password\.[^.]+\.result\)\}$/);
      expect(s.ref(s.stack.database.password)).toMatch(/^\$\{coalesce\(var\.polardb_password, random_password\.[^.]+\.result\)\}$/);
      expect(s.resources("random_password")).toHaveLength(5);
    });
  });

  describe("secret store", () => {
    const parameters = () => s.resources("alicloud_oos_secret_parameter");

    test("one OOS encrypted parameter per secret, named seckill/<env>/<name>, holding the generated or TF_VAR_* value", () => {
      expect(
        parameters()
          .map((parameter) => parameter.secret_parameter_name)
          .sort(),
      ).toEqual(
        Object.keys(SECRET_PARAMETERS)
          .map((name) => `seckill/${envName}/${name}`)
          .sort(),
      );
      for (const [name, value] of Object.entries(s.stack.secretValues)) {
        const parameter = parameters().find((candidate) => candidate.secret_parameter_name === `seckill/${envName}/${name}`)!;
        expect(parameter).toMatchObject({ type: "Secret", value: s.ref(value) });
        // The store owns what it rotates: Terraform does not write the generated value back over a new version.
        expect(parameter.lifecycle?.ignore_changes).toEqual(ROTATED_IN_THE_STORE.includes(name as SecretParameter) ? ["value"] : undefined);
      }
    });

    test("the instance role gets one policy, reading exactly the stack's parameters", () => {
      const policy = s.one("alicloud_ram_policy");
      const account = `\${data.alicloud_account.${Object.keys(s.json.data.alicloud_account).find((name) => name.startsWith("secret-store"))}.id}`;
      expect(JSON.parse(policy.policy_document)).toEqual({
        Version: "1",
        Statement: [
          {
            Effect: "Allow",
            Action: ["oos:GetSecretParameter", "oos:GetSecretParameters"],
            Resource: Object.keys(SECRET_PARAMETERS).map(
              (name) => `acs:oos:${s.config.region}:${account}:secretparameter/seckill/${envName}/${name}`,
            ),
          },
          {
            Effect: "Allow",
            Action: ["kms:GetSecretValue"],
            Resource: Object.keys(SECRET_PARAMETERS).map(
              (name) => `acs:kms:${s.config.region}:${account}:secret/oos/seckill/${envName}/${name}`,
            ),
          },
        ],
      });
      expect(s.one("alicloud_ram_role_policy_attachment")).toMatchObject({
        policy_name: `\${alicloud_ram_policy.${Object.keys(s.json.resource.alicloud_ram_policy)[0]}.policy_name}`,
        policy_type: "Custom",
        role_name: s.ref(s.stack.compute.instanceRoleName),
      });
    });

    test("no secret, nor a reference to one, is in the user data or anywhere in the scaling configuration", () => {
      const launch = JSON.stringify(s.one("alicloud_ess_scaling_configuration"));
      const references = Object.values(s.stack.secretValues).flatMap((value) => expressionsOf(s.ref(value)));
      expect(references.length).toBeGreaterThan(0);
      for (const reference of references) expect(launch).not.toContain(reference);
      expect(launch).not.toMatch(/random_password|var\.[a-z_]*password|var\.user_token|alicloud_oos_secret_parameter\.[^"]*\.value/);
      expect(launch).not.toMatch(/\bvar\./);
    });
  });

  describe("messaging and registry", () => {
    test("RocketMQ 5 in the VPC only, sized from tfvars, whitelisting the app vSwitches", () => {
      expect(s.one("alicloud_rocketmq_instance")).toMatchObject({
        service_code: "rmq",
        series_code: s.config.messaging.series,
        sub_series_code: s.config.messaging.subSeries,
        payment_type: "PayAsYouGo",
        product_info: {
          msg_process_spec: s.config.messaging.msgProcessSpec,
          message_retention_time: s.config.messaging.messageRetentionHours,
        },
        network_info: {
          internet_info: { internet_spec: "disable", flow_out_type: "uninvolved" },
          vpc_info: { vpc_id: s.ref(s.stack.network.vpcId) },
        },
        ip_whitelists: appCidrs(),
        acl_info: { acl_types: ["default"], default_vpc_auth_free: true },
      });
    });

    test("a cluster_ha instance gets a data vSwitch in every zone, a single node the first one", () => {
      const { vswitches } = s.one("alicloud_rocketmq_instance").network_info.vpc_info;
      const dataSubnets = s.stack.network.dataSubnets.map((subnet) => ({ vswitch_id: s.ref(subnet.vswitchId) }));
      expect(vswitches).toEqual(s.config.messaging.subSeries === "cluster_ha" ? dataSubnets : dataSubnets.slice(0, 1));
      if (s.config.production) expect(vswitches).toHaveLength(2);
    });

    test("an order topic, a dead-letter topic, an order-events topic, and the order writer's group with bounded retries", () => {
      const topics = s
        .resources("alicloud_rocketmq_topic")
        .map((topic) => topic.topic_name)
        .sort();
      expect(topics).toEqual([`seckill-${envName}-order-events`, `seckill-${envName}-orders`, `seckill-${envName}-orders-dlq`]);
      expect(s.one("alicloud_rocketmq_consumer_group")).toMatchObject({
        consumer_group_id: `seckill-${envName}-order-writer`,
        delivery_order_type: "Concurrently",
        consume_retry_policy: {
          retry_policy: "DefaultRetryPolicy",
          max_retry_times: 16,
          dead_letter_target_topic: s.ref(s.stack.messaging.deadLetterTopic),
        },
        // RocketMQ 5 remarks: letters, digits, underscores and Chinese characters only.
        remark: expect.stringMatching(/^[A-Za-z0-9_]+$/),
      });
    });

    test("the VPC endpoint is picked by endpoint type, never by list position", () => {
      expect(s.ref(s.stack.messaging.vpcEndpoint)).toMatch(
        /^\$\{one\(\[ for key, val in toset\(alicloud_rocketmq_instance\.[^.]+\.network_info\[0\]\.endpoints\): val\.endpoint_url if val\.endpoint_type == "TCP_VPC"\]\)\}$/,
      );
    });

    test("MSE Nacos 2.x on the private network, its address read from the clusters data source with details", () => {
      expect(s.one("alicloud_mse_cluster")).toMatchObject({
        cluster_type: "Nacos-Ans",
        cluster_version: "NACOS_2_0_0",
        net_type: "privatenet",
        pub_network_flow: "0",
        mse_version: s.config.registry.edition,
        cluster_specification: s.config.registry.specification,
        instance_count: s.config.registry.instanceCount,
        payment_type: "PayAsYouGo",
      });
      const details = Object.values(s.json.data.alicloud_mse_clusters)[0];
      expect(details).toEqual({ ids: [s.ref(s.stack.registry.clusterId)], enable_details: true });
      expect(s.ref(s.stack.registry.serverAddr)).toMatch(/^\$\{data\.alicloud_mse_clusters\.[^.]+\.clusters\[0\]\.intranet_domain\}:8848$/);
    });
  });

  describe("user data", () => {
    const WIRED_KEYS = [
      "PORT",
      "REDIS_URL",
      "MYSQL_URL",
      "SECKILL_SECRETS_SOURCE",
      "SECKILL_SECRETS_REGION",
      "SECKILL_SECRETS_ROLE",
      "SECKILL_SECRETS_PREFIX",
      "ORDER_QUEUE",
      "ROCKETMQ_ENDPOINTS",
      "ROCKETMQ_NAMESPACE",
      "ROCKETMQ_TOPIC",
      "ROCKETMQ_EVENTS_TOPIC",
      "ROCKETMQ_CONSUMER_GROUP",
      "NACOS_SERVER_ADDR",
      "NACOS_GROUP",
      "LOG_LEVEL",
    ];

    test("the service environment points at this stack's endpoints, secret store and names", () => {
      const env = Object.fromEntries(Object.entries(s.stack.serviceEnv).map(([key, value]) => [key, s.ref(value)]));
      expect(Object.keys(env)).toEqual(expect.arrayContaining(WIRED_KEYS));
      expect(env).toMatchObject({
        PORT: String(s.config.compute.appPort),
        ORDER_QUEUE: "rocketmq",
        NACOS_GROUP: envName,
        LOG_LEVEL: s.config.app.logLevel,
        ROCKETMQ_ENDPOINTS: s.ref(s.stack.messaging.vpcEndpoint),
        ROCKETMQ_NAMESPACE: s.ref(s.stack.messaging.instanceId),
        ROCKETMQ_TOPIC: s.ref(s.stack.messaging.orderTopic),
        ROCKETMQ_EVENTS_TOPIC: s.ref(s.stack.messaging.orderEventsTopic),
        ROCKETMQ_CONSUMER_GROUP: s.ref(s.stack.messaging.orderWriterGroup),
        NACOS_SERVER_ADDR: s.ref(s.stack.registry.serverAddr),
      });
      const tair = expressionsOf(s.ref(s.stack.cache.host))[0];
      expect(env.REDIS_URL).toMatch(
        /^redis:\/\/\$\{alicloud_redis_tair_instance\.[^.]+\.connection_domain\}:\$\{alicloud_redis_tair_instance\.[^.]+\.port\}$/,
      );
      expect(env.REDIS_URL).toContain(tair);
      expect(env.MYSQL_URL).toMatch(
        /^mysql:\/\/\$\{alicloud_polardb_account\.[^.]+\.account_name\}@\$\{alicloud_polardb_cluster\.[^.]+\.connection_string\}:\$\{alicloud_polardb_cluster\.[^.]+\.port\}\/\$\{alicloud_polardb_database\.[^.]+\.db_name\}$/,
      );
      // Only where the secrets are: the region, the role and the parameters' names.
      expect(env).toMatchObject({
        SECKILL_SECRETS_SOURCE: "oos",
        SECKILL_SECRETS_REGION: s.config.region,
        SECKILL_SECRETS_ROLE: `seckill-${envName}-ecs`,
        SECKILL_SECRETS_PREFIX: `seckill/${envName}/`,
      });
      for (const secret of [
        "SECKILL_ADMIN_TOKEN",
        "SECKILL_USER_TOKEN_SECRET",
        "SECKILL_USER_TOKEN_SECRET_PREVIOUS",
        "SECKILL_PAYMENT_WEBHOOK_SECRET",
        "REDIS_PASSWORD",
        "MYSQL_PASSWORD",
      ])
        expect(env[secret]).toBeUndefined();
      if (s.config.app.workers === undefined) expect(env.WORKERS).toBeUndefined();
      else expect(env.WORKERS).toBe(String(s.config.app.workers));
      expect(env.REDIS_REPLICA_ACK).toBe(s.config.cache.replicaAck === "wait" ? "1" : undefined);
    });

    test("names no URL outside the VPC: the bucket's and Logtail's internal endpoints, this stack's endpoints and the instance itself", () => {
      const script = renderBootScript(s.stack.userDataProps, () => "<terraform>");
      const hosts = (script.match(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/g) ?? []).map(
        (url) => url.replace(/^[^:]+:\/\/([^/@]*@)?/, "").split(/[:/]/)[0],
      );
      expect(hosts).toContain(`<terraform>.oss-${s.config.region}-internal.aliyuncs.com`);
      const region = s.config.region;
      // Logtail's installer: the region's release bucket, also through OSS's internal endpoint.
      const logtail = `logtail-release-${region}.oss-${region}-internal.aliyuncs.com`;
      expect(hosts).toContain(logtail);
      const allowed = [`<terraform>.oss-${region}-internal.aliyuncs.com`, logtail, "<terraform>", "127.0.0.1", "100.100.100.200"];
      expect(hosts.filter((host) => !allowed.includes(host))).toEqual([]);
      // Every apply-time host is an attribute of this stack's own resources (Tair, PolarDB, RocketMQ, MSE, the bucket).
      for (const key of ["REDIS_URL", "MYSQL_URL", "ROCKETMQ_ENDPOINTS", "NACOS_SERVER_ADDR"] as const) {
        expect(
          expressionsOf(s.ref(s.stack.serviceEnv[key])).every((expression) =>
            /^(one\(|alicloud_|data\.alicloud_|urlencode|coalesce)/.test(expression),
          ),
        ).toBe(true);
      }
    });

    test("the scaling configuration's user data carries every variable, each apply-time value quoted for bash", () => {
      const userData: string = s.one("alicloud_ess_scaling_configuration").user_data;
      expect(userData).toMatch(/^\$\{base64gzip\(/);
      for (const [key, value] of Object.entries(s.stack.serviceEnv)) {
        expect(userData).toContain(`'${key}=`);
        const resolved = s.ref(value);
        const expressions = expressionsOf(resolved);
        if (expressions.length === 0) expect(userData).toContain(`'${key}=${resolved}'`);
        // Terraform escapes the value's single quotes as it fills it in: replace(<value>, "'", "'\''").
        for (const expression of expressions) expect(userData).toContain(`replace(${expression}, "'", "'\\\\''")`);
      }
    });
  });

  describe("outputs", () => {
    test("the public URL, every endpoint the app needs and the scaling group id are outputs", () => {
      const outputs = s.json.output;
      const scheme = s.config.ingress.certificateId !== undefined ? "https" : "http";
      expect(outputs.public_url.value).toBe(`${scheme}://${s.ref(s.stack.ingress.dnsName)}`);
      expect(outputs.scaling_group_id.value).toBe(s.ref(s.stack.compute.scalingGroupId));
      expect(outputs.rocketmq_endpoint.value).toBe(s.ref(s.stack.messaging.vpcEndpoint));
      expect(outputs.nacos_server_addr.value).toBe(s.ref(s.stack.registry.serverAddr));
      for (const name of [
        "alb_dns_name",
        "redis_host",
        "redis_port",
        "mysql_host",
        "mysql_port",
        "mysql_database",
        "mysql_user",
        "rocketmq_namespace",
        "rocketmq_topic",
        "rocketmq_consumer_group",
      ]) {
        expect(outputs[name]).toMatchObject({ sensitive: false });
      }
    });

    test("secrets are outputs only as sensitive ones", () => {
      const sensitive = Object.entries(s.json.output)
        .filter(([, output]) => output.sensitive)
        .map(([name]) => name)
        .sort();
      expect(sensitive).toEqual(["admin_token", "mysql_password", "payment_webhook_secret", "redis_password", "user_token_secret"]);
      const secretValues = Object.values(s.stack.secretValues).map((value) => s.ref(value));
      const leaking = Object.entries(s.json.output).filter(
        ([, output]) =>
          !output.sensitive &&
          secretValues.some((secret) => expressionsOf(secret).some((expression) => String(output.value).includes(expression))),
      );
      expect(leaking).toEqual([]);
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
