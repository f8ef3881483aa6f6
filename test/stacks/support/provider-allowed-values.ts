/**
 * The values the real alicloud provider 1.289.0 accepts for the enum-like and bounded arguments our stacks set, and a
 * checker for synthesized Terraform JSON. The vendored schema (test/support/schema-conformance.ts) knows names, types
 * and nesting only; this table is what fails a test on "internet" for "Internet" or a 41-character task name.
 *
 * Each entry names where the rule comes from in aliyun/terraform-provider-alicloud at release commit 761c62ce1:
 * `alicloud/resource_alicloud_<x>.go:<line>` (a ValidateFunc) or `docs/r/<x>.html.markdown:<line>` (the documented
 * values, where the code does not validate). Terraform expressions are not judged: their values exist only at apply.
 */

type Rule =
  | { readonly oneOf: readonly (string | number | boolean)[] }
  /** Inclusive bounds; numeric strings (the EIP's bandwidth) are read as numbers. */
  | { readonly between: readonly [number, number] }
  | { readonly matches: RegExp }
  | { readonly length: readonly [number, number] };

export interface AllowedValue {
  /** Resource type, or `data.<type>` for a data source. */
  readonly type: string;
  /** Argument path through nested blocks, dot-separated; list arguments are checked element by element. */
  readonly path: string;
  readonly rule: Rule;
  readonly source: string;
}

const NAME_STARTING_WITH_A_LETTER = /^[A-Za-z][A-Za-z0-9._-]{1,127}$/;
/** ESS: 2-64 characters, starting with a letter, digit or Chinese character; then also `_`, `-` and `.`. */
const ESS_NAME = /^[A-Za-z0-9\u4e00-\u9fa5][A-Za-z0-9_.\-\u4e00-\u9fa5]{1,63}$/;

const go = (resource: string, line: number) => `alicloud/resource_alicloud_${resource}.go:${line}`;
const doc = (resource: string, line: number) => `website/docs/r/${resource}.html.markdown:${line}`;

export const ALLOWED_VALUES: readonly AllowedValue[] = [
  // ALB
  {
    type: "alicloud_alb_load_balancer",
    path: "address_type",
    rule: { oneOf: ["Internet", "Intranet"] },
    source: go("alb_load_balancer", 65),
  },
  {
    type: "alicloud_alb_load_balancer",
    path: "address_allocated_mode",
    rule: { oneOf: ["Fixed", "Dynamic"] },
    source: go("alb_load_balancer", 54),
  },
  {
    type: "alicloud_alb_load_balancer",
    path: "load_balancer_billing_config.pay_type",
    rule: { oneOf: ["PayAsYouGo"] },
    source: go("alb_load_balancer", 118),
  },
  {
    type: "alicloud_alb_load_balancer",
    path: "load_balancer_edition",
    rule: { oneOf: ["Basic", "Standard", "StandardWithWaf"] },
    source: "alicloud/resource_alicloud_alb_load_balancer_test.go (Basic, Standard); ALB CreateLoadBalancer (StandardWithWaf)",
  },
  { type: "alicloud_alb_server_group", path: "protocol", rule: { oneOf: ["HTTP", "HTTPS", "GRPC"] }, source: go("alb_server_group", 154) },
  {
    type: "alicloud_alb_server_group",
    path: "scheduler",
    rule: { oneOf: ["Wrr", "Wlc", "Sch", "Uch"] },
    source: go("alb_server_group", 165),
  },
  {
    type: "alicloud_alb_server_group",
    path: "server_group_type",
    rule: { oneOf: ["Instance", "Ip", "Fc"] },
    source: doc("alb_server_group", 167),
  },
  {
    type: "alicloud_alb_server_group",
    path: "server_group_name",
    rule: { matches: NAME_STARTING_WITH_A_LETTER },
    source: doc("alb_server_group", 164),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.health_check_protocol",
    rule: { oneOf: ["HTTP", "HTTPS", "TCP", "GRPC"] },
    source: go("alb_server_group", 119),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.health_check_method",
    rule: { oneOf: ["GET", "POST", "HEAD"] },
    source: go("alb_server_group", 97),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.health_check_http_version",
    rule: { oneOf: ["HTTP1.0", "HTTP1.1"] },
    source: go("alb_server_group", 125),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.health_check_codes",
    rule: { oneOf: ["http_2xx", "http_3xx", "http_4xx", "http_5xx"] },
    source: `${doc("alb_server_group", 93)} (HTTP health checks)`,
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.health_check_interval",
    rule: { between: [1, 50] },
    source: doc("alb_server_group", 239),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.health_check_timeout",
    rule: { between: [1, 300] },
    source: doc("alb_server_group", 267),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.health_check_connect_port",
    rule: { between: [0, 65535] },
    source: go("alb_server_group", 79),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.healthy_threshold",
    rule: { between: [2, 10] },
    source: go("alb_server_group", 113),
  },
  {
    type: "alicloud_alb_server_group",
    path: "health_check_config.unhealthy_threshold",
    rule: { between: [2, 10] },
    source: go("alb_server_group", 91),
  },
  {
    type: "alicloud_alb_server_group",
    path: "slow_start_config.slow_start_duration",
    rule: { between: [30, 900] },
    source: doc("alb_server_group", 328),
  },
  {
    type: "alicloud_alb_server_group",
    path: "connection_drain_config.connection_drain_timeout",
    rule: { between: [0, 900] },
    source: doc("alb_server_group", 191),
  },
  { type: "alicloud_alb_listener", path: "listener_protocol", rule: { oneOf: ["HTTP", "HTTPS", "QUIC"] }, source: go("alb_listener", 154) },
  { type: "alicloud_alb_listener", path: "listener_port", rule: { between: [0, 65535] }, source: go("alb_listener", 148) },
  { type: "alicloud_alb_listener", path: "idle_timeout", rule: { between: [0, 600] }, source: go("alb_listener", 138) },
  { type: "alicloud_alb_listener", path: "request_timeout", rule: { between: [0, 600] }, source: go("alb_listener", 184) },
  {
    type: "alicloud_alb_listener",
    path: "security_policy_id",
    rule: {
      oneOf: [
        "tls_cipher_policy_1_0",
        "tls_cipher_policy_1_1",
        "tls_cipher_policy_1_2",
        "tls_cipher_policy_1_2_strict",
        "tls_cipher_policy_1_2_strict_with_1_3",
      ],
    },
    source: `${go("alb_listener", 186)} passes it to ALB unchecked; ALB's system policies: alibabacloud.com/help/en/slb/application-load-balancer/user-guide/tls-security-policies`,
  },
  {
    type: "alicloud_alb_listener",
    path: "x_forwarded_for_config.x_forwarded_for_processing_mode",
    rule: { oneOf: ["append", "remove"] },
    source: doc("alb_listener", 263),
  },
  { type: "alicloud_alb_rule", path: "rule_name", rule: { matches: NAME_STARTING_WITH_A_LETTER }, source: doc("alb_rule", 177) },
  { type: "alicloud_alb_rule", path: "priority", rule: { between: [1, 10000] }, source: doc("alb_rule", 178) },
  { type: "alicloud_alb_rule", path: "rule_actions.order", rule: { between: [1, 50000] }, source: go("alb_rule", 62) },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.type",
    rule: {
      oneOf: [
        "ForwardGroup",
        "Redirect",
        "FixedResponse",
        "Rewrite",
        "InsertHeader",
        "TrafficLimit",
        "TrafficMirror",
        "Cors",
        "RemoveHeader",
      ],
    },
    source: go("alb_rule", 67),
  },
  { type: "alicloud_alb_rule", path: "rule_actions.traffic_limit_config.qps", rule: { between: [1, 100000] }, source: go("alb_rule", 258) },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.traffic_limit_config.per_ip_qps",
    rule: { between: [1, 100000] },
    source: go("alb_rule", 263),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.redirect_config.http_code",
    rule: { oneOf: ["301", "302", "303", "307", "308"] },
    source: go("alb_rule", 200),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.redirect_config.protocol",
    rule: { oneOf: ["HTTP", "HTTPS", "${protocol}"] },
    source: go("alb_rule", 213),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.fixed_response_config.content_type",
    rule: { oneOf: ["text/plain", "text/css", "text/html", "application/javascript", "application/json"] },
    source: go("alb_rule", 83),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.fixed_response_config.content",
    rule: { matches: /^[\x20-\x7e]{0,1024}$/ },
    source: `${doc("alb_rule", 219)} (at most 1 KB, ASCII only)`,
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.fixed_response_config.http_code",
    rule: { matches: /^[2-5][0-9]{2}$/ },
    source: go("alb_rule", 88),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.cors_config.allow_methods",
    rule: { oneOf: ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"] },
    source: doc("alb_rule", 331),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_actions.cors_config.allow_credentials",
    rule: { oneOf: ["on", "off"] },
    source: go("alb_rule", 334),
  },
  { type: "alicloud_alb_rule", path: "rule_actions.cors_config.max_age", rule: { between: [-1, 172800] }, source: go("alb_rule", 339) },
  {
    type: "alicloud_alb_rule",
    path: "rule_conditions.type",
    rule: { oneOf: ["Host", "Path", "Header", "QueryString", "Method", "Cookie", "SourceIp", "ResponseHeader", "ResponseStatusCode"] },
    source: go("alb_rule", 355),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_conditions.method_config.values",
    rule: { oneOf: ["HEAD", "GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"] },
    source: doc("alb_rule", 409),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_conditions.path_config.values",
    rule: { matches: /^\/[A-Za-z0-9$\-_.+/&~@:*?]{0,127}$/ },
    source: doc("alb_rule", 415),
  },
  {
    type: "alicloud_alb_rule",
    path: "rule_conditions.source_ip_config.values",
    rule: { matches: /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/ },
    source: `${doc("alb_rule", 434)} (IP addresses or ranges; at most 5, ${go("alb_rule", 523)})`,
  },
  {
    type: "alicloud_alidns_record",
    path: "ttl",
    rule: { between: [600, 86400] },
    source: `${doc("alidns_record", 58)} (the free edition's range)`,
  },
  // Network
  { type: "alicloud_nat_gateway", path: "nat_type", rule: { oneOf: ["Enhanced"] }, source: doc("nat_gateway", 119) },
  { type: "alicloud_nat_gateway", path: "internet_charge_type", rule: { oneOf: ["PayByLcu"] }, source: doc("nat_gateway", 121) },
  { type: "alicloud_nat_gateway", path: "payment_type", rule: { oneOf: ["PayAsYouGo", "Subscription"] }, source: go("nat_gateway", 78) },
  { type: "alicloud_nat_gateway", path: "network_type", rule: { oneOf: ["internet", "intranet"] }, source: go("nat_gateway", 178) },
  {
    type: "alicloud_eip_address",
    path: "internet_charge_type",
    rule: { oneOf: ["PayByBandwidth", "PayByTraffic"] },
    source: go("eip_address", 81),
  },
  {
    type: "alicloud_eip_address",
    path: "payment_type",
    rule: { oneOf: ["Subscription", "PayAsYouGo", "PrePaid", "PostPaid"] },
    source: go("eip_address", 123),
  },
  {
    type: "alicloud_eip_address",
    path: "bandwidth",
    rule: { between: [1, 200] },
    source: `${doc("eip_address", 76)} (PayAsYouGo, PayByTraffic)`,
  },
  {
    type: "alicloud_eip_association",
    path: "instance_type",
    rule: { oneOf: ["Nat", "SlbInstance", "EcsInstance", "NetworkInterface", "HaVip", "IpAddress"] },
    source: doc("eip_association", 105),
  },
  {
    type: "alicloud_security_group",
    path: "security_group_type",
    rule: { oneOf: ["normal", "enterprise"] },
    source: go("security_group", 64),
  },
  { type: "alicloud_security_group", path: "inner_access_policy", rule: { oneOf: ["Accept", "Drop"] }, source: go("security_group", 43) },
  { type: "alicloud_security_group_rule", path: "type", rule: { oneOf: ["ingress", "egress"] }, source: go("security_group_rule", 37) },
  {
    type: "alicloud_security_group_rule",
    path: "ip_protocol",
    rule: { oneOf: ["tcp", "udp", "icmp", "icmpv6", "gre", "all"] },
    source: go("security_group_rule", 44),
  },
  { type: "alicloud_security_group_rule", path: "policy", rule: { oneOf: ["accept", "drop"] }, source: go("security_group_rule", 51) },
  { type: "alicloud_security_group_rule", path: "priority", rule: { between: [1, 100] }, source: go("security_group_rule", 58) },
  {
    type: "alicloud_security_group_rule",
    path: "nic_type",
    rule: { oneOf: ["internet", "intranet"] },
    source: go("security_group_rule", 112),
  },
  {
    type: "alicloud_security_group_rule",
    path: "port_range",
    rule: {
      matches:
        /^([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])\/([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/,
    },
    source: `${doc("security_group_rule", 72)} (tcp and udp: 1-65535 each side)`,
  },
  // Compute
  { type: "alicloud_ess_scaling_group", path: "min_size", rule: { between: [0, 2000] }, source: go("ess_scaling_group", 31) },
  { type: "alicloud_ess_scaling_group", path: "max_size", rule: { between: [0, 2000] }, source: go("ess_scaling_group", 36) },
  { type: "alicloud_ess_scaling_group", path: "desired_capacity", rule: { between: [0, 2000] }, source: go("ess_scaling_group", 55) },
  { type: "alicloud_ess_scaling_group", path: "default_cooldown", rule: { between: [0, 86400] }, source: go("ess_scaling_group", 83) },
  {
    type: "alicloud_ess_scaling_group",
    path: "health_check_types",
    rule: { oneOf: ["ECS", "NONE", "LOAD_BALANCER"] },
    source: doc("ess_scaling_group", 159),
  },
  {
    type: "alicloud_ess_scaling_group",
    path: "multi_az_policy",
    rule: { oneOf: ["PRIORITY", "BALANCE", "COST_OPTIMIZED", "COMPOSABLE"] },
    source: go("ess_scaling_group", 156),
  },
  {
    type: "alicloud_ess_scaling_group",
    path: "removal_policies",
    rule: { oneOf: ["OldestInstance", "NewestInstance", "OldestScalingConfiguration"] },
    source: doc("ess_scaling_group", 127),
  },
  { type: "alicloud_ess_scaling_group", path: "scaling_group_name", rule: { matches: ESS_NAME }, source: doc("ess_scaling_group", 122) },
  {
    type: "alicloud_ess_scaling_configuration",
    path: "system_disk_category",
    rule: { oneOf: ["cloud", "ephemeral_ssd", "cloud_ssd", "cloud_essd", "cloud_efficiency", "cloud_essd_xc1"] },
    source: go("ess_scaling_configuration", 207),
  },
  {
    type: "alicloud_ess_scaling_configuration",
    path: "system_disk_size",
    rule: { between: [20, 500] },
    source: go("ess_scaling_configuration", 218),
  },
  {
    type: "alicloud_ess_scaling_configuration",
    path: "internet_max_bandwidth_out",
    rule: { between: [0, 1024] },
    source: go("ess_scaling_configuration", 193),
  },
  {
    type: "alicloud_ess_scaling_configuration",
    path: "instance_types",
    rule: { matches: /^ecs\./ },
    source: go("ess_scaling_configuration", 82),
  },
  {
    type: "alicloud_ess_scaling_configuration",
    path: "instance_name",
    rule: { length: [2, 128] },
    source: go("ess_scaling_configuration", 342),
  },
  {
    type: "alicloud_ess_scaling_rule",
    path: "scaling_rule_type",
    rule: { oneOf: ["SimpleScalingRule", "TargetTrackingScalingRule", "StepScalingRule", "PredictiveScalingRule"] },
    source: `${go("ess_scaling_rule", 59)}, alicloud/extension_ess.go:10`,
  },
  {
    type: "alicloud_ess_scaling_rule",
    path: "metric_name",
    rule: { oneOf: ["CpuUtilization", "LoadBalancerRealServerAverageQps"] },
    source:
      "alicloud/resource_alicloud_ess_scaling_rule_test.go:136, :484 (the two target-tracking metrics the stacks use; CloudMonitor has more)",
  },
  {
    type: "alicloud_ess_scaling_rule",
    path: "alarm_dimension.dimension_key",
    rule: { oneOf: ["rulePool"] },
    source: go("ess_scaling_rule", 222),
  },
  { type: "alicloud_ess_scaling_rule", path: "scaling_rule_name", rule: { matches: ESS_NAME }, source: doc("ess_scaling_rule", 132) },
  {
    type: "alicloud_ess_scheduled_task",
    path: "launch_time",
    rule: { matches: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\dZ$/ },
    source: doc("ess_scheduled_task", 138),
  },
  {
    type: "alicloud_ess_scheduled_task",
    path: "launch_expiration_time",
    rule: { between: [0, 1800] },
    source: go("ess_scheduled_task", 50),
  },
  { type: "alicloud_ess_scheduled_task", path: "scheduled_task_name", rule: { length: [2, 40] }, source: doc("ess_scheduled_task", 132) },
  { type: "alicloud_ess_scheduled_task", path: "description", rule: { length: [2, 200] }, source: doc("ess_scheduled_task", 137) },
  // Data stores
  {
    type: "alicloud_redis_tair_instance",
    path: "instance_type",
    rule: { oneOf: ["tair_rdb", "tair_scm", "tair_essd"] },
    source: go("redis_tair_instance", 106),
  },
  {
    type: "alicloud_redis_tair_instance",
    path: "engine_version",
    rule: { oneOf: ["5.0", "6.0", "7.0"] },
    source: `${doc("redis_tair_instance", 108)} (tair_rdb)`,
  },
  {
    type: "alicloud_redis_tair_instance",
    path: "payment_type",
    rule: { oneOf: ["PayAsYouGo", "Subscription"] },
    source: go("redis_tair_instance", 180),
  },
  {
    type: "alicloud_redis_tair_instance",
    path: "node_type",
    rule: { oneOf: ["MASTER_SLAVE", "STAND_ALONE", "double", "single"] },
    source: go("redis_tair_instance", 139),
  },
  {
    type: "alicloud_redis_tair_instance",
    path: "vpc_auth_mode",
    rule: { oneOf: ["Open", "Close"] },
    source: doc("redis_tair_instance", 178),
  },
  { type: "alicloud_redis_tair_instance", path: "shard_count", rule: { between: [1, 32] }, source: doc("redis_tair_instance", 157) },
  {
    type: "alicloud_redis_tair_instance",
    path: "period",
    rule: { oneOf: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 60] },
    source: go("redis_tair_instance", 185),
  },
  { type: "alicloud_redis_tair_instance", path: "auto_renew", rule: { oneOf: ["true", "false"] }, source: doc("redis_tair_instance", 83) },
  {
    type: "alicloud_redis_tair_instance",
    path: "auto_renew_period",
    rule: { oneOf: ["1", "2", "3", "6", "12"] },
    source: doc("redis_tair_instance", 84),
  },
  {
    type: "alicloud_polardb_cluster",
    path: "db_type",
    rule: { oneOf: ["MySQL", "Oracle", "PostgreSQL"] },
    source: doc("polardb_cluster", 128),
  },
  { type: "alicloud_polardb_cluster", path: "pay_type", rule: { oneOf: ["PostPaid", "PrePaid"] }, source: go("polardb_cluster", 82) },
  {
    type: "alicloud_polardb_cluster",
    path: "period",
    rule: { oneOf: [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36] },
    source: go("polardb_cluster", 105),
  },
  {
    type: "alicloud_polardb_cluster",
    path: "renewal_status",
    rule: { oneOf: ["AutoRenewal", "Normal", "NotRenewal"] },
    source: `${go("polardb_cluster", 90)}, alicloud/extension_ecs.go:82`,
  },
  {
    type: "alicloud_polardb_cluster",
    path: "auto_renew_period",
    rule: { oneOf: [1, 2, 3, 6, 12, 24, 36] },
    source: go("polardb_cluster", 100),
  },
  { type: "alicloud_polardb_cluster", path: "db_node_count", rule: { between: [2, 16] }, source: doc("polardb_cluster", 137) },
  {
    type: "alicloud_polardb_cluster",
    path: "creation_category",
    rule: { oneOf: ["Normal", "Basic", "ArchiveNormal", "NormalMultimaster", "SENormal"] },
    source: go("polardb_cluster", 266),
  },
  {
    type: "alicloud_polardb_cluster",
    path: "hot_standby_cluster",
    rule: { oneOf: ["ON", "OFF", "EQUAL"] },
    source: go("polardb_cluster", 314),
  },
  { type: "alicloud_polardb_cluster", path: "deletion_lock", rule: { oneOf: [0, 1] }, source: go("polardb_cluster", 240) },
  {
    type: "alicloud_polardb_cluster",
    path: "backup_retention_policy_on_cluster_deletion",
    rule: { oneOf: ["ALL", "LATEST", "NONE"] },
    source: go("polardb_cluster", 247),
  },
  { type: "alicloud_polardb_cluster", path: "description", rule: { length: [2, 256] }, source: go("polardb_cluster", 163) },
  {
    type: "alicloud_polardb_cluster",
    path: "db_cluster_ip_array.db_cluster_ip_array_name",
    rule: { matches: /^[a-z][a-z0-9]{0,118}[a-z0-9]$/ },
    source: doc("polardb_cluster", 250),
  },
  {
    type: "alicloud_polardb_account",
    path: "account_type",
    rule: { oneOf: ["Normal", "Super", "DynamoDB"] },
    source: go("polardb_account", 60),
  },
  {
    type: "alicloud_polardb_account_privilege",
    path: "account_privilege",
    rule: { oneOf: ["ReadOnly", "ReadWrite", "DMLOnly", "DDLOnly"] },
    source: go("polardb_account_privilege", 40),
  },
  // Messaging and registry
  { type: "alicloud_rocketmq_instance", path: "service_code", rule: { oneOf: ["rmq"] }, source: doc("rocketmq_instance", 152) },
  {
    type: "alicloud_rocketmq_instance",
    path: "series_code",
    rule: { oneOf: ["standard", "professional", "ultimate"] },
    source: go("rocketmq_instance", 272),
  },
  {
    type: "alicloud_rocketmq_instance",
    path: "sub_series_code",
    rule: { oneOf: ["cluster_ha", "single_node", "serverless"] },
    source: go("rocketmq_instance", 310),
  },
  {
    type: "alicloud_rocketmq_instance",
    path: "payment_type",
    rule: { oneOf: ["PayAsYouGo", "Subscription"] },
    source: go("rocketmq_instance", 195),
  },
  {
    type: "alicloud_rocketmq_instance",
    path: "network_info.internet_info.internet_spec",
    rule: { oneOf: ["enable", "disable"] },
    source: doc("rocketmq_instance", 187),
  },
  {
    type: "alicloud_rocketmq_instance",
    path: "network_info.internet_info.flow_out_type",
    rule: { oneOf: ["payByBandwidth", "payByTraffic", "uninvolved"] },
    source: go("rocketmq_instance", 124),
  },
  {
    type: "alicloud_rocketmq_instance",
    path: "acl_info.acl_types",
    rule: { oneOf: ["default", "apache_acl"] },
    source: doc("rocketmq_instance", 167),
  },
  {
    type: "alicloud_rocketmq_topic",
    path: "message_type",
    rule: { oneOf: ["NORMAL", "FIFO", "DELAY", "TRANSACTION"] },
    source: go("rocketmq_topic", 48),
  },
  { type: "alicloud_rocketmq_topic", path: "remark", rule: { matches: /^[\u4e00-\u9fa5A-Za-z0-9_]+$/ }, source: go("rocketmq_topic", 57) },
  { type: "alicloud_rocketmq_topic", path: "topic_name", rule: { matches: /^[%a-zA-Z0-9_-]+$/ }, source: go("rocketmq_topic", 67) },
  {
    type: "alicloud_rocketmq_consumer_group",
    path: "consume_retry_policy.retry_policy",
    rule: { oneOf: ["DefaultRetryPolicy", "FixedRetryPolicy", "BackoffRetryPolicy"] },
    source: go("rocketmq_consumer_group", 44),
  },
  {
    type: "alicloud_rocketmq_consumer_group",
    path: "consume_retry_policy.max_retry_times",
    rule: { between: [0, 1000] },
    source: go("rocketmq_consumer_group", 49),
  },
  {
    type: "alicloud_rocketmq_consumer_group",
    path: "delivery_order_type",
    rule: { oneOf: ["Concurrently", "Orderly"] },
    source: go("rocketmq_consumer_group", 66),
  },
  {
    type: "alicloud_mse_cluster",
    path: "cluster_specification",
    rule: {
      oneOf: [
        ...["1_2", "2_4", "4_8", "8_16", "16_32"].flatMap((size) => [`MSE_SC_${size}_60_c`, `MSE_SC_${size}_200_c`]),
        "MSE_SC_SERVERLESS",
      ],
    },
    source: go("mse_cluster", 51),
  },
  {
    type: "alicloud_mse_cluster",
    path: "cluster_type",
    rule: { oneOf: ["Eureka", "Nacos-Ans", "ZooKeeper"] },
    source: go("mse_cluster", 57),
  },
  { type: "alicloud_mse_cluster", path: "connection_type", rule: { oneOf: ["slb", "single_eni"] }, source: go("mse_cluster", 74) },
  { type: "alicloud_mse_cluster", path: "net_type", rule: { oneOf: ["privatenet", "pubnet", "both"] }, source: go("mse_cluster", 88) },
  { type: "alicloud_mse_cluster", path: "payment_type", rule: { oneOf: ["PayAsYouGo", "Subscription"] }, source: go("mse_cluster", 95) },
  {
    type: "alicloud_mse_cluster",
    path: "mse_version",
    rule: { oneOf: ["mse_dev", "mse_basic", "mse_pro", "mse_serverless"] },
    source: go("mse_cluster", 128),
  },
  // The app artifact bucket (AppArtifactBucket) and the sale page (StaticSite)
  {
    type: "alicloud_oss_bucket",
    path: "storage_class",
    rule: { oneOf: ["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"] },
    source: go("oss_bucket", 378),
  },
  {
    type: "alicloud_oss_bucket",
    path: "server_side_encryption_rule.sse_algorithm",
    rule: { oneOf: ["AES256", "KMS", "SM4"] },
    source: go("oss_bucket", 404),
  },
  {
    type: "alicloud_oss_bucket_acl",
    path: "acl",
    rule: { oneOf: ["private", "public-read", "public-read-write"] },
    source: doc("oss_bucket_acl", 68),
  },
  { type: "alicloud_cdn_domain_new", path: "cdn_type", rule: { oneOf: ["web", "download", "video"] }, source: doc("cdn_domain_new", 54) },
  {
    type: "alicloud_cdn_domain_new",
    path: "scope",
    rule: { oneOf: ["domestic", "overseas", "global"] },
    source: go("cdn_domain_new", 111),
  },
  {
    type: "alicloud_cdn_domain_new",
    path: "sources.type",
    rule: { oneOf: ["domain", "ipaddr", "oss", "common"] },
    source: go("cdn_domain_new", 121),
  },
  { type: "alicloud_cdn_domain_new", path: "sources.port", rule: { oneOf: [443, 80] }, source: doc("cdn_domain_new", 91) },
  {
    type: "alicloud_cdn_domain_new",
    path: "certificate_config.cert_type",
    rule: { oneOf: ["upload", "cas", "free"] },
    source: doc("cdn_domain_new", 76),
  },
  {
    type: "alicloud_cdn_domain_new",
    path: "certificate_config.server_certificate_status",
    rule: { oneOf: ["on", "off"] },
    source: go("cdn_domain_new", 79),
  },
  // Observability (SLS, CloudMonitor)
  {
    type: "alicloud_log_store",
    path: "max_split_shard_count",
    rule: { between: [0, 256] },
    source: go("log_store", 118),
  },
  {
    type: "alicloud_log_store_index",
    path: "field_search.type",
    rule: { oneOf: ["text", "long", "double", "json"] },
    source: go("log_store_index", 93),
  },
  {
    // sls.MachineIDTypeIP and sls.MachineIDTypeUserDefined: "ip" and "userdefined" (aliyun-log-go-sdk).
    type: "alicloud_log_machine_group",
    path: "identify_type",
    rule: { oneOf: ["ip", "userdefined"] },
    source: go("log_machine_group", 39),
  },
  { type: "alicloud_logtail_config", path: "input_type", rule: { oneOf: ["file", "plugin"] }, source: go("logtail_config", 37) },
  { type: "alicloud_logtail_config", path: "output_type", rule: { oneOf: ["LogService"] }, source: go("logtail_config", 61) },
  { type: "alicloud_cms_alarm", path: "silence_time", rule: { between: [300, 86400] }, source: go("cms_alarm", 76) },
  {
    type: "alicloud_cms_alarm",
    path: "escalations_critical.comparison_operator",
    rule: {
      oneOf: [">", ">=", "<", "<=", "!=", "==", "GreaterThanYesterday", "LessThanYesterday", "GreaterThanLastWeek"].concat([
        "LessThanLastWeek",
        "GreaterThanLastPeriod",
        "LessThanLastPeriod",
      ]),
    },
    source: go("cms_alarm", 99),
  },
  { type: "alicloud_cms_alarm_contact", path: "lang", rule: { oneOf: ["en", "zh-cn"] }, source: go("cms_alarm_contact", 51) },
  {
    type: "alicloud_cms_metric_rule_template",
    path: "alert_templates.escalations.critical.comparison_operator",
    rule: {
      oneOf: ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanOrEqualToThreshold", "LessThanThreshold"].concat([
        "NotEqualToThreshold",
        "GreaterThanYesterday",
        "LessThanYesterday",
        "GreaterThanLastWeek",
        "LessThanLastWeek",
        "GreaterThanLastPeriod",
        "LessThanLastPeriod",
      ]),
    },
    source: go("cms_metric_rule_template", 102),
  },
  {
    type: "alicloud_cms_dynamic_tag_group",
    path: "match_express.tag_value_match_function",
    rule: { oneOf: ["all", "startWith", "endWith", "contains", "notContains", "equals"] },
    source: doc("cms_dynamic_tag_group", 64),
  },
  {
    type: "alicloud_log_alert",
    path: "severity_configurations.severity",
    rule: { oneOf: [2, 4, 6, 8, 10] },
    source: go("log_alert", 239),
  },
  {
    type: "alicloud_log_alert",
    path: "query_list.power_sql_mode",
    rule: { oneOf: ["auto", "enable", "disable"] },
    source: go("log_alert", 156),
  },
  {
    type: "alicloud_log_alert",
    path: "schedule.type",
    rule: { oneOf: ["FixedRate", "Cron", "Hourly", "Daily", "Weekly"] },
    source: go("log_alert", 365),
  },
];
/** A Terraform template: `${...}` or `%{...}` that is not escaped as `$${` / `%%{`. */
function isExpression(value: unknown): boolean {
  return typeof value === "string" && /(^|[^$])\$\{|(^|[^%])%\{/.test(value);
}

/** Every value at `path` below `body`, through single blocks (objects) and block lists alike. */
function valuesAt(body: unknown, path: readonly string[]): unknown[] {
  const flat = (value: unknown): unknown[] =>
    Array.isArray(value) ? value.flatMap(flat) : value === undefined || value === null ? [] : [value];
  return path.reduce<unknown[]>(
    (values, segment) => values.flatMap((value) => flat((value as Record<string, unknown>)[segment])),
    flat(body),
  );
}

function describeRule(rule: Rule): string {
  if ("oneOf" in rule) return `one of ${rule.oneOf.map((value) => JSON.stringify(value)).join(", ")}`;
  if ("between" in rule) return `from ${rule.between[0]} to ${rule.between[1]}`;
  if ("matches" in rule) return `a value matching ${rule.matches}`;
  return `${rule.length[0]} to ${rule.length[1]} characters`;
}

function allows(rule: Rule, value: unknown): boolean {
  if ("oneOf" in rule) return rule.oneOf.includes(value as string | number | boolean);
  if ("between" in rule) {
    const number = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
    return typeof number === "number" && number >= rule.between[0] && number <= rule.between[1];
  }
  if (typeof value !== "string") return false;
  if ("matches" in rule) return rule.matches.test(value);
  return [...value].length >= rule.length[0] && [...value].length <= rule.length[1];
}

/** The literal values at an entry's argument in `synth` (a stack's Terraform JSON), each with its address. */
export function literalsAt(synth: object, entry: AllowedValue): { readonly address: string; readonly value: unknown }[] {
  const config = synth as Record<"resource" | "data", Record<string, Record<string, unknown>> | undefined>;
  const [kind, typeName] = entry.type.startsWith("data.")
    ? (["data", entry.type.slice("data.".length)] as const)
    : (["resource", entry.type] as const);
  return Object.entries(config[kind]?.[typeName] ?? {}).flatMap(([name, body]) =>
    valuesAt(body, entry.path.split("."))
      .filter((value) => !isExpression(value))
      .map((value) => ({ address: `${kind}.${typeName}.${name}.${entry.path}`, value })),
  );
}

/** Every literal in `synth` that the table's rules refuse, with the rule and its source; empty when all are allowed. */
export function allowedValueViolations(synth: object, table: readonly AllowedValue[] = ALLOWED_VALUES): string[] {
  return table.flatMap((entry) =>
    literalsAt(synth, entry)
      .filter(({ value }) => !allows(entry.rule, value))
      .map(({ address, value }) => `${address} = ${JSON.stringify(value)}: expected ${describeRule(entry.rule)} (${entry.source})`),
  );
}
