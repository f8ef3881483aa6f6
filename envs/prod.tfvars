# prod: highly available and sized for a real sale. Every key is documented in terraform.tfvars.example.

region = "cn-hangzhou"
zones  = ["cn-hangzhou-j", "cn-hangzhou-k"]

# Production: deletion protection on the ALB and PolarDB (a guard rail enforces it).
production = true

tags = {
  CostCenter = "ecommerce"
}

# Compute: 4 vCPU instances, at least one per zone twice over; up to 40 when a sale needs it.
# Several types, tried in order, so a scale-out does not stall when one type is out of stock in a zone.
instance_types          = ["ecs.c7.xlarge", "ecs.c6.xlarge", "ecs.c7a.xlarge", "ecs.g7.xlarge"]
system_disk_size_gib    = 40
min_instances           = 4
desired_instances       = 4
max_instances           = 40
scaling_metric          = "alb_qps"
scaling_target_value    = 1500
instance_warmup_seconds = 180
# The image every new instance boots from. Bump it in a reviewed change: `npm run synth` prints the newest one.
image_id = "aliyun_3_x64_20G_alibase_20251030.vhd"

# Sales (UTC). The group is pre-warmed to `instances` before each one and scaled back after it.
# ESS accepts scheduled tasks at most 90 days ahead: add later sales closer to their date.
sale_windows = [
  { name = "double12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 24 },
  { name = "newyear", starts_at = "2027-01-01T01:00Z", ends_at = "2027-01-01T03:00Z", instances = 16 },
]
prewarm_lead_minutes   = 30
scale_in_delay_minutes = 30

# HTTPS only: a guard rail refuses production without a certificate. PLACEHOLDER: replace with the id of your
# certificate for the API's host in SSL Certificates Service (console: Certificate Management → SSL Certificates, the
# certificate's ID, e.g. "12345678-cn-hangzhou"); a deploy with this value fails at the HTTPS listener.
certificate_id      = "PLACEHOLDER-replace-with-your-certificate-id"
tls_security_policy = "tls_cipher_policy_1_2"

# The admin plane (/admin/*, /metrics, /readyz, /healthz) answers only these operator networks; the smoke test runs
# from inside them. PLACEHOLDER: 203.0.113.0/24 is a documentation range (RFC 5737); put your operators' CIDRs here.
admin_cidrs = ["203.0.113.0/24"]

# ALB rate limits (requests per second). Above them ALB answers 503 before the fleet sees the request.
order_rate_limit_qps        = 20000
order_rate_limit_per_ip_qps = 10
read_rate_limit_qps         = 60000
read_rate_limit_per_ip_qps  = 100

# Data tier. One sale's keys share a hash tag and so live on one Tair shard: scale the class, not the shards.
tair_instance_class = "tair.rdb.8g"
tair_shard_count    = 1
# A 202 only once the replica has the order: a failover loses no acknowledged order.
tair_replica_ack    = "wait"
polardb_node_class  = "polar.mysql.x4.large"
polardb_node_count  = 2
polardb_hot_standby = true

rocketmq_series     = "standard"
rocketmq_sub_series = "cluster_ha"
rocketmq_spec       = "rmq.s2.2xlarge"

mse_edition        = "mse_pro"
mse_specification  = "MSE_SC_2_4_60_c"
mse_instance_count = 3

log_level = "info"

# Observability: logs kept for half a year; alarms reach the on-call. PLACEHOLDER: put your on-call's address, phone or
# DingTalk robot here (an email or phone gets an activation message first), and the id of the SLS action policy that
# notifies them of the log alerts.
log_retention_days = 180
alarm_contacts = [
  { name = "sale-oncall", email = "oncall@example.com" },
]
# sls_alert_action_policy_id = "seckill-oncall"

# Remote state: the state holds every generated secret, so production keeps it in an encrypted OSS bucket only the
# deploying operators may read (a guard rail refuses production without it). PLACEHOLDER: replace with your bucket and
# Tablestore lock table (primary key LockID, String); `cdktf deploy` fails at init with these values.
state_backend = {
  bucket              = "placeholder-replace-with-your-tfstate-bucket"
  prefix              = "seckill/prod"
  tablestore_endpoint = "https://placeholder.cn-hangzhou.ots.aliyuncs.com"
  tablestore_table    = "terraform_state_lock"
}
