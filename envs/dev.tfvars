# dev: small and cheap. Every resource still spans two zones so dev behaves like prod.
# Every key is documented in terraform.tfvars.example; only values that differ from the defaults are set here.

region = "cn-hangzhou"
zones  = ["cn-hangzhou-j", "cn-hangzhou-k"]

production = false

# Compute: one 2 vCPU instance, two during a rehearsal, scaled on CPU.
instance_types       = ["ecs.c7.large", "ecs.c6.large", "ecs.g7.large"]
system_disk_size_gib = 40
min_instances        = 1
max_instances        = 2
scaling_metric       = "cpu"
scaling_target_value = 70

# A rehearsal sale (UTC). Windows already over are skipped at synth time.
sale_windows = [
  { name = "rehearsal", starts_at = "2026-12-05T02:00Z", ends_at = "2026-12-05T02:30Z", instances = 2 },
]
prewarm_lead_minutes   = 15
scale_in_delay_minutes = 15

# The admin plane (/admin/*, /metrics, /readyz, /healthz) answers only admin_cidrs through the ALB; unset, it answers
# nobody. Set your operators' networks to run the admin API and the smoke test against dev:
# admin_cidrs = ["203.0.113.0/24"]

# ALB rate limits (requests per second).
order_rate_limit_qps        = 200
order_rate_limit_per_ip_qps = 5
read_rate_limit_qps         = 1000
read_rate_limit_per_ip_qps  = 20

# Data tier: the smallest sizes that keep the production topology.
tair_instance_class = "tair.rdb.1g"
tair_shard_count    = 1
polardb_node_class  = "polar.mysql.g2.medium"
polardb_node_count  = 2
polardb_hot_standby = false

rocketmq_series     = "standard"
rocketmq_sub_series = "single_node"
rocketmq_spec       = "rmq.s1.micro"

mse_edition        = "mse_dev"
mse_specification  = "MSE_SC_1_2_60_c"
mse_instance_count = 1

log_level = "debug"

# Observability: CloudMonitor alarms go to the contact group seckill-dev-oncall, empty until contacts are set here.
# alarm_contacts = [{ name = "dev-oncall", email = "dev-oncall@example.com" }]
