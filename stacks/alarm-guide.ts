/**
 * Every alarm and log alert the stacks declare, as the operator reads it: what firing means and what to do first. The
 * Observability construct creates one resource per entry (by `id`), and the README's "During a sale" table is generated
 * from this list, so a new alarm cannot ship without its first action.
 */
export interface AlarmGuide {
  /** Resource id and name suffix: `seckill-<env>-<id>`. */
  readonly id: string;
  /** Where it is evaluated: a CloudMonitor namespace, or `sls` for an alert on the logs. */
  readonly source: string;
  /** The metric (CloudMonitor) or what the query counts (SLS). */
  readonly signal: string;
  /** The tfvars key holding its threshold, if it has one. */
  readonly thresholdKey?: string;
  readonly means: string;
  readonly firstAction: string;
}

export const ALARM_GUIDE = [
  {
    id: "backend-5xx",
    source: "acs_alb",
    signal: "LoadBalancerHTTPCodeUpstream5XX",
    thresholdKey: "alarm_backend_5xx_per_second",
    means: "The fleet itself answers 5xx (the ALB's own 503s from rate limits are not counted here).",
    firstAction:
      "In SLS, `level >= 50` in the app logstore for the error; `curl /readyz` through the admin plane says which dependency is down.",
  },
  {
    id: "rejected-connections",
    source: "acs_alb",
    signal: "LoadBalancerRejectedConnection",
    thresholdKey: "alarm_rejected_connections_per_second",
    means: "The ALB drops new connections: its connection capacity is reached, before any rule or limit.",
    firstAction: "Check the ALB's LCU usage in its console; ask for an LCU reservation before the next sale.",
  },
  {
    id: "unhealthy-backends",
    source: "acs_alb",
    signal: "LoadBalancerUnHealthyHostCount",
    means: "At least one instance fails /healthz; the scaling group replaces it (health_check_types LOAD_BALANCER).",
    firstAction: "Search `seckill-boot` in the app logstore for a failed boot, or the instance's `level >= 50` lines.",
  },
  {
    id: "fleet-cpu",
    source: "acs_ecs_dashboard",
    signal: "CPUUtilization",
    thresholdKey: "alarm_usage_percent",
    means:
      "An instance of the fleet runs its CPU above the threshold: requests queue in the event loop and answers slow down. " +
      "It follows the scaling group (a CloudMonitor tag rule on the instances' seckill-fleet tag).",
    firstAction:
      "In the ESS console, is the group at max_instances? If so raise it (or the instance type) and apply; if not, the " +
      "target-tracking rule is scaling out: check the instance's `level >= 50` lines for a hot loop.",
  },
  {
    id: "p99-response",
    source: "sls",
    signal: "99th percentile of request_time in the ALB access log, requests the fleet answered",
    thresholdKey: "alarm_p99_response_ms",
    means: "The slowest 1 % of forwarded requests take longer than the threshold: the fleet or a data store is saturated.",
    firstAction: "Look at the Tair and PolarDB alarms first; then fleet-cpu: if it fires, scale out.",
  },
  {
    id: "throttled",
    source: "sls",
    signal: "503s the ALB answered without forwarding (TrafficLimit), from the access log",
    thresholdKey: "alarm_throttled_per_minute",
    means: "The ALB's rate limits turn away that many requests a minute. Expected at T0 of a hot sale; not when traffic is low.",
    firstAction: "Compare with the sale's stock: if buyers are shut out while stock remains, raise order_rate_limit_qps and apply.",
  },
  {
    id: "tair-cpu",
    source: "acs_kvstore",
    signal: "StandardCpuUsage / ShardingCpuUsage",
    thresholdKey: "alarm_usage_percent",
    means: "Tair's CPU is near its limit: reservations slow down and time out.",
    firstAction: "Scale tair_instance_class up (in place); the war room's outcome mix shows `unavailable` when it is too late.",
  },
  {
    id: "tair-memory",
    source: "acs_kvstore",
    signal: "StandardMemoryUsage / ShardingMemoryUsage",
    thresholdKey: "alarm_usage_percent",
    means: "Tair's memory is near full; with noeviction, writes (new orders) fail when it is.",
    firstAction: "Scale tair_instance_class up; check the writer backlog: undelivered order events fill memory.",
  },
  {
    id: "tair-connections",
    source: "acs_kvstore",
    signal: "StandardConnectionUsage / ShardingConnectionUsage",
    thresholdKey: "alarm_usage_percent",
    means: "Tair's connection limit is near: new instances of the fleet may fail to connect.",
    firstAction: "Stop scaling out (max_instances) or scale the class up; every worker holds its own connections.",
  },
  {
    id: "polardb-cpu",
    source: "acs_polardb",
    signal: "cluster_cpu_utilization",
    thresholdKey: "alarm_usage_percent",
    means: "PolarDB's CPU is near its limit: the order writer confirms orders more slowly and its lag grows.",
    firstAction: "Scale polardb_node_class up; orders wait safely in Redis or RocketMQ meanwhile.",
  },
  {
    id: "polardb-connections",
    source: "acs_polardb",
    signal: "cluster_connection_utilization",
    thresholdKey: "alarm_usage_percent",
    means: "PolarDB's connection limit is near.",
    firstAction: "Stop scaling out, or scale the node class up (its connection limit grows with it).",
  },
  {
    id: "polardb-replica-lag",
    source: "acs_polardb",
    signal: "cluster_replica_lag",
    thresholdKey: "alarm_polardb_replica_lag_seconds",
    means: "A read-only node lags the primary: order reads through the cluster endpoint may miss recent orders.",
    firstAction: "Check the primary's CPU and IOPS; a lag that keeps growing needs a bigger node class.",
  },
  {
    id: "rocketmq-consumer-lag",
    source: "acs_rocketmq",
    signal: "ConsumerLag (the order writer's consumer group)",
    thresholdKey: "alarm_order_backlog",
    means: "Order events wait in RocketMQ for the order writer: confirmations into PolarDB fall behind.",
    firstAction: "Check the PolarDB alarms and the app logs for `order writer cycle failed`; orders are safe, only late.",
  },
  {
    id: "rocketmq-dead-letters",
    source: "acs_rocketmq",
    signal: "SendDLQMessageCountPerGid (the order writer's consumer group)",
    means: "RocketMQ gave up on an order event after every retry and moved it to the dead-letter topic.",
    firstAction: "Read the event from the dead-letter topic (output rocketmq_dead_letter_topic) and the writer's error for it.",
  },
  {
    id: "writer-lag",
    source: "sls",
    signal: "lagSeconds of the service's `order pipeline` line",
    thresholdKey: "alarm_writer_lag_seconds",
    means:
      "The oldest order event not yet delivered from Redis is older than the threshold; or no order writer has logged its " +
      "line for five minutes (none is running).",
    firstAction: "Search `order writer` in the app logstore for the failing cycle (MySQL or RocketMQ unreachable).",
  },
  {
    id: "writer-backlog",
    source: "sls",
    signal: "backlog of the service's `order pipeline` line",
    thresholdKey: "alarm_order_backlog",
    means: "More order events than the threshold wait in Redis for the order writer.",
    firstAction: "As for writer-lag; a backlog that falls again after T0 is the writer catching up.",
  },
  {
    id: "dead-letters",
    source: "sls",
    signal: "deadLetters of the service's `order pipeline` line",
    means: "The order writer moved order events to a sale's dead-letter stream (refused by MySQL, or malformed).",
    firstAction:
      "Search `dead-letter` in the app logstore for the reason; a refused order means Redis handed out what MySQL cannot confirm.",
  },
] as const satisfies readonly AlarmGuide[];

export type AlarmId = (typeof ALARM_GUIDE)[number]["id"];

/** The README's alarm table. */
export function alarmTable(): string {
  return [
    "| alarm | from | signal | threshold (tfvars) | means | first action |",
    "|---|---|---|---|---|---|",
    ...ALARM_GUIDE.map((alarm: AlarmGuide) =>
      [
        `\`${alarm.id}\``,
        alarm.source === "sls" ? "SLS alert" : `CloudMonitor \`${alarm.source}\``,
        alarm.signal.includes(" ") ? alarm.signal : `\`${alarm.signal}\``,
        alarm.thresholdKey ? `\`${alarm.thresholdKey}\`` : "any",
        alarm.means,
        alarm.firstAction,
      ].join(" | "),
    ).map((row) => `| ${row} |`),
  ].join("\n");
}
