import { readFileSync } from "node:fs";
import { join } from "node:path";

const SCHEMA_DIR = join(__dirname, "..", "..", "provider-schema");
const PROVIDER = "registry.terraform.io/aliyun/alicloud";
const file = JSON.parse(readFileSync(join(SCHEMA_DIR, "alicloud@~%3E%201.289.json"), "utf8"));
const subset = JSON.parse(readFileSync(join(SCHEMA_DIR, "subset.json"), "utf8"));
const schema = file.provider_schemas[PROVIDER];

/** What the stacks build on; the subset may grow, never lose one of these. */
const STACK_RESOURCES = [
  "alicloud_vpc",
  "alicloud_vswitch",
  "alicloud_nat_gateway",
  "alicloud_eip_address",
  "alicloud_eip_association",
  "alicloud_snat_entry",
  "alicloud_security_group",
  "alicloud_security_group_rule",
  "alicloud_alb_load_balancer",
  "alicloud_alb_server_group",
  "alicloud_alb_listener",
  "alicloud_alb_rule",
  "alicloud_ess_scaling_group",
  "alicloud_ess_scaling_configuration",
  "alicloud_ess_scaling_rule",
  "alicloud_ess_scheduled_task",
  "alicloud_ess_server_group_attachment",
  "alicloud_ram_role",
  "alicloud_ram_policy",
  "alicloud_ram_role_policy_attachment",
  "alicloud_redis_tair_instance",
  "alicloud_polardb_cluster",
  "alicloud_polardb_database",
  "alicloud_polardb_account",
  "alicloud_polardb_account_privilege",
  "alicloud_rocketmq_instance",
  "alicloud_rocketmq_topic",
  "alicloud_rocketmq_consumer_group",
  "alicloud_mse_cluster",
  "alicloud_alidns_record",
  "alicloud_oss_bucket",
  "alicloud_oss_bucket_acl",
  "alicloud_oss_bucket_policy",
  "alicloud_oss_bucket_public_access_block",
  "alicloud_oss_bucket_server_side_encryption",
  "alicloud_oss_bucket_object",
  "alicloud_cdn_domain_new",
];
const STACK_DATA_SOURCES = [
  "alicloud_images",
  "alicloud_zones",
  "alicloud_mse_clusters",
  "alicloud_account",
  "alicloud_alb_zones",
  "alicloud_instance_types",
];

const resource = (type: string) => schema.resource_schemas[type].block;
/** The block type reached by following nested block names from a block. */
function nested(block: any, ...path: string[]): any {
  let blockType: any;
  for (const name of path) {
    blockType = block.block_types[name];
    block = blockType.block;
  }
  return blockType;
}

type Visit = (where: string, node: any, kind: "block" | "attribute" | "block_type") => void;
function walk(block: any, where: string, visit: Visit): void {
  visit(where, block, "block");
  for (const [name, attribute] of Object.entries<any>(block.attributes ?? {})) visit(`${where}.${name}`, attribute, "attribute");
  for (const [name, blockType] of Object.entries<any>(block.block_types ?? {})) {
    visit(`${where}.${name}`, blockType, "block_type");
    walk(blockType.block, `${where}.${name}`, visit);
  }
}

function isCtyType(type: unknown): boolean {
  if (type === "string" || type === "number" || type === "bool") return true;
  if (!Array.isArray(type) || type.length !== 2) return false;
  if (type[0] === "object") return typeof type[1] === "object" && Object.values(type[1]).every(isCtyType);
  return ["list", "set", "map"].includes(type[0]) && isCtyType(type[1]);
}

describe("vendored alicloud provider schema", () => {
  it("is a `terraform providers schema -json` document for provider 1.289.0", () => {
    expect(file.format_version).toBe("1.0");
    expect(Object.keys(file.provider_schemas)).toEqual([PROVIDER]);
    expect(file.provider_versions).toEqual({ [PROVIDER]: "1.289.0" });
    expect(subset.version).toBe("1.289.0");
    expect(subset.sourceCommit).toMatch(/^761c62ce1[0-9a-f]{31}$/);
  });

  it("covers every resource and data source the stacks use, and exactly what subset.json lists", () => {
    expect(Object.keys(schema.resource_schemas).sort()).toEqual([...subset.resources].sort());
    expect(Object.keys(schema.data_source_schemas).sort()).toEqual([...subset.dataSources].sort());
    expect(subset.resources).toEqual(expect.arrayContaining(STACK_RESOURCES));
    expect(subset.dataSources).toEqual(expect.arrayContaining(STACK_DATA_SOURCES));
  });

  it("is well-formed: valid types, one of required/optional/computed, consistent block limits", () => {
    const problems: string[] = [];
    const check: Visit = (where, node, kind) => {
      if (kind === "block" && node.description_kind !== "plain") problems.push(`${where}: description_kind`);
      if (kind === "attribute") {
        if (!isCtyType(node.type)) problems.push(`${where}: type ${JSON.stringify(node.type)}`);
        if (node.description_kind !== "plain") problems.push(`${where}: description_kind`);
        const flags = `${node.required ? "R" : ""}${node.optional ? "O" : ""}${node.computed ? "C" : ""}`;
        if (!["R", "O", "C", "OC"].includes(flags)) problems.push(`${where}: flags ${flags}`);
      }
      if (kind === "block_type") {
        if (!["single", "list", "set", "map"].includes(node.nesting_mode)) problems.push(`${where}: nesting_mode ${node.nesting_mode}`);
        if (node.max_items && (node.min_items ?? 0) > node.max_items) problems.push(`${where}: min_items > max_items`);
      }
    };
    walk(schema.provider.block, "provider", check);
    for (const [kind, schemas] of [
      ["resource", schema.resource_schemas],
      ["data", schema.data_source_schemas],
    ] as const) {
      for (const [type, s] of Object.entries<any>(schemas)) {
        expect(Number.isInteger(s.version)).toBe(true);
        walk(s.block, `${kind}.${type}`, check);
        if (s.block.attributes.id?.type !== "string") problems.push(`${kind}.${type}: no id attribute`);
      }
    }
    expect(problems).toEqual([]);
  });

  describe("states what provider 1.289.0 declares (facts read from its Go source)", () => {
    it("alicloud_alb_rule: rule_actions is a required set block whose traffic_limit_config is one block of qps / per_ip_qps numbers", () => {
      const ruleActions = nested(resource("alicloud_alb_rule"), "rule_actions");
      expect(ruleActions).toMatchObject({ nesting_mode: "set", min_items: 1 });
      expect(ruleActions.max_items).toBeUndefined();
      const trafficLimit = ruleActions.block.block_types.traffic_limit_config;
      expect(trafficLimit).toMatchObject({ nesting_mode: "set", max_items: 1 });
      expect(trafficLimit.block.attributes).toEqual({
        qps: { type: "number", description_kind: "plain", optional: true },
        per_ip_qps: { type: "number", description_kind: "plain", optional: true },
      });
      expect(ruleActions.block.attributes.type).toMatchObject({ type: "string", required: true });
      expect(resource("alicloud_alb_rule").attributes.status).toEqual({ type: "string", description_kind: "plain", computed: true });
    });

    it("alicloud_redis_tair_instance: instance_type, instance_class, vpc_id, vswitch_id and zone_id are required; password is sensitive", () => {
      const attributes = resource("alicloud_redis_tair_instance").attributes;
      for (const name of ["instance_type", "instance_class", "vpc_id", "vswitch_id", "zone_id"]) {
        expect(attributes[name]).toEqual({ type: "string", description_kind: "plain", required: true });
      }
      expect(attributes.password).toEqual({ type: "string", description_kind: "plain", optional: true, sensitive: true });
    });

    it("alicloud_polardb_cluster: security_ips is an optional+computed string set the code does not deprecate (only the docs call it deprecated)", () => {
      const block = resource("alicloud_polardb_cluster");
      expect(block.attributes.security_ips).toEqual({ type: ["set", "string"], description_kind: "plain", optional: true, computed: true });
      expect(nested(block, "db_cluster_ip_array")).toMatchObject({ nesting_mode: "set" });
      for (const name of ["db_type", "db_version", "db_node_class"]) expect(block.attributes[name].required).toBe(true);
      expect(block.attributes.db_revision_version_list.type[0]).toBe("list"); // computed-only block -> attribute
    });

    it("alicloud_ess_scaling_configuration: user_data is an optional string; instance_type_override holds at most 10 blocks", () => {
      const block = resource("alicloud_ess_scaling_configuration");
      expect(block.attributes.user_data).toEqual({ type: "string", description_kind: "plain", optional: true });
      expect(nested(block, "instance_type_override")).toMatchObject({ nesting_mode: "set", max_items: 10 });
      expect(block.attributes.instance_types.type).toEqual(["list", "string"]);
      expect(block.attributes.io_optimized.deprecated).toBe(true);
    });

    it("alicloud_alb_server_group: servers is an optional set block with required server_id and server_type", () => {
      const servers = nested(resource("alicloud_alb_server_group"), "servers");
      expect(servers.nesting_mode).toBe("set");
      expect(servers.min_items).toBeUndefined();
      expect(servers.block.attributes.server_id).toMatchObject({ type: "string", required: true });
      expect(servers.block.attributes.server_type).toMatchObject({ type: "string", required: true });
      expect(servers.block.attributes.port).toMatchObject({ type: "number", optional: true });
    });

    it("alicloud_rocketmq_instance: network_info with vpc_info and internet_info are required single-item blocks", () => {
      const networkInfo = nested(resource("alicloud_rocketmq_instance"), "network_info");
      expect(networkInfo).toMatchObject({ nesting_mode: "list", min_items: 1, max_items: 1 });
      expect(networkInfo.block.block_types.vpc_info).toMatchObject({ min_items: 1, max_items: 1 });
      expect(networkInfo.block.block_types.internet_info).toMatchObject({ min_items: 1, max_items: 1 });
    });

    it("resources with Timeouts get a single timeouts block of the declared operations", () => {
      expect(nested(resource("alicloud_vpc"), "timeouts")).toEqual({
        nesting_mode: "single",
        block: {
          attributes: {
            create: { type: "string", description_kind: "plain", optional: true },
            delete: { type: "string", description_kind: "plain", optional: true },
            update: { type: "string", description_kind: "plain", optional: true },
          },
          description_kind: "plain",
        },
      });
      expect(schema.data_source_schemas.alicloud_images.block.block_types.timeouts.block.attributes).toEqual({
        read: { type: "string", description_kind: "plain", optional: true },
      });
    });

    it("data sources: computed-only nested results are attributes of list of object", () => {
      const zones = schema.data_source_schemas.alicloud_zones.block.attributes.zones;
      expect(zones.computed).toBe(true);
      expect(zones.type[0]).toBe("list");
      expect(zones.type[1][0]).toBe("object");
      // a map with a Resource Elem is read by the SDK as a map of strings
      const instanceTypes = schema.data_source_schemas.alicloud_instance_types.block.attributes.instance_types;
      expect(instanceTypes.type[1][1].gpu).toEqual(["map", "string"]);
    });

    it("provider: region, profile and credentials are optional; assume_role is one block with a required role_arn", () => {
      const provider = schema.provider.block;
      for (const name of ["region", "access_key", "secret_key", "profile", "security_token"])
        expect(provider.attributes[name].optional).toBe(true);
      expect(provider.attributes.id).toBeUndefined();
      expect(provider.block_types.assume_role).toMatchObject({ nesting_mode: "set", max_items: 1 });
      expect(provider.block_types.assume_role.block.attributes.role_arn.required).toBe(true);
      // its DefaultFunc falls back to "" (non-nil), which the SDK reports as optional
      expect(provider.block_types.assume_role_with_oidc.block.attributes.role_arn.optional).toBe(true);
    });
  });
});
