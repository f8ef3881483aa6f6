/**
 * CloudMonitor metrics as the product documentation lists them, per namespace: the metric name, the dimensions it is
 * reported with, and the statistics an alarm may use. The alarms the stacks declare are checked against this table
 * (observability.test.ts), so a misspelt metric, a made-up one or a statistic CloudMonitor does not compute fails a
 * test instead of creating an alarm that never fires.
 *
 * Only the metrics read for this project are listed, each family complete where its table was read. Sources are the
 * documentation pages found through the project's search tool (stored copies of public pages); where the stored copy
 * is a third party's transcription of CloudMonitor's metric list, it says so.
 */

export interface DocumentedMetric {
  readonly dimensions: readonly string[];
  readonly statistics: readonly string[];
}

export interface DocumentedNamespace {
  readonly source: string;
  readonly metrics: Readonly<Record<string, DocumentedMetric>>;
}

const ALB_INSTANCE = ["userId", "loadBalancerId"];
const alb = (statistics = ["Value"]): DocumentedMetric => ({ dimensions: ALB_INSTANCE, statistics });
const TAIR_STANDARD = ["userId", "instanceId"];
const TAIR_SHARDING = ["userId", "instanceId", "nodeId"];
const AVERAGE_MAXIMUM = ["Average", "Maximum"];

export const DOCUMENTED_METRICS: Readonly<Record<string, DocumentedNamespace>> = {
  acs_alb: {
    source:
      'Alibaba Cloud ALB, "ALB monitoring metrics" (https://alibabacloud.com/help/en/slb/application-load-balancer/user-guide/' +
      "alb-monitoring-metrics): instance metrics; every one has the single statistic Value. The listener, rule, server group " +
      "and VIP families add dimensions (listenerProtocol, listenerPort, ruleId, serverGroupId, vip). No metric counts the " +
      "requests a TrafficLimit action turned away, per rule or otherwise (the rule family has RuleQPS, RuleUpstreamResponseTime, " +
      "RuleRequestTime, RuleHTTPCodeUpstream2XX-5XX, RuleHealthyHostCount, RuleUnHealthyHostCount and connection errors), " +
      "and none is a percentile: response times are averages.",
    metrics: {
      LoadBalancerActiveConnection: alb(),
      LoadBalancerInactiveConnection: alb(),
      LoadBalancerMaxConnection: alb(),
      LoadBalancerNewConnection: alb(),
      LoadBalancerRejectedConnection: alb(),
      LoadBalancerUpstreamConnectionError: alb(),
      LoadBalancerUpstreamTLSNegotiationError: alb(),
      LoadBalancerClientTLSNegotiationError: alb(),
      LoadBalancerHTTPFixedResponse: alb(),
      LoadBalancerHTTPRedirect: alb(),
      LoadBalancerQPS: alb(),
      LoadBalancerNonStickyRequest: alb(),
      LoadBalancerUpstreamResponseTime: alb(),
      LoadBalancerRequestTime: alb(),
      LoadBalancerOutBits: alb(),
      LoadBalancerInBits: alb(),
      LoadBalancerHTTPCode2XX: alb(),
      LoadBalancerHTTPCode3XX: alb(),
      LoadBalancerHTTPCode4XX: alb(),
      LoadBalancerHTTPCode500: alb(),
      LoadBalancerHTTPCode502: alb(),
      LoadBalancerHTTPCode503: alb(),
      LoadBalancerHTTPCode504: alb(),
      LoadBalancerHTTPCode5XX: alb(),
      LoadBalancerHTTPCodeUpstream2XX: alb(),
      LoadBalancerHTTPCodeUpstream3XX: alb(),
      LoadBalancerHTTPCodeUpstream4XX: alb(),
      LoadBalancerHTTPCodeUpstream5XX: alb(),
      LoadBalancerHealthyHostCount: alb(),
      LoadBalancerUnHealthyHostCount: alb(),
      ConsumedLCUs: alb(),
    },
  },
  acs_ecs_dashboard: {
    source:
      'Alibaba Cloud CloudMonitor, "DescribeMetricLast" (https://www.alibabacloud.com/help/doc-detail/51939.htm): its example ' +
      'reads CPUUtilization of namespace acs_ecs_dashboard for one instance (Dimensions [{"instanceId": ...}]) and gets its ' +
      "Maximum, Minimum and Average. Only this metric was read; it needs no CloudMonitor agent on the instance.",
    metrics: {
      CPUUtilization: { dimensions: ["userId", "instanceId"], statistics: ["Average", "Minimum", "Maximum"] },
    },
  },
  acs_kvstore: {
    source:
      'Alibaba Cloud CloudMonitor, "Redis Standard" and "Redis Cluster" metric topics (namespace acs_kvstore; stored copies ' +
      "found by the search tool): the standard architecture reports Standard* metrics by instance, the cluster architecture " +
      "Sharding* metrics by data node. Resource metrics only; the per-command frequencies are left out.",
    metrics: {
      StandardAvgRt: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      StandardConnectionUsage: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      StandardCpuUsage: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      StandardMemoryUsage: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      StandardQPSUsage: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      StandardUsedConnection: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      StandardUsedMemory: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      StandardEvictedKeys: { dimensions: TAIR_STANDARD, statistics: AVERAGE_MAXIMUM },
      ShardingAvgRt: { dimensions: TAIR_SHARDING, statistics: AVERAGE_MAXIMUM },
      ShardingConnectionUsage: { dimensions: TAIR_SHARDING, statistics: AVERAGE_MAXIMUM },
      ShardingCpuUsage: { dimensions: TAIR_SHARDING, statistics: AVERAGE_MAXIMUM },
      ShardingMemoryUsage: { dimensions: TAIR_SHARDING, statistics: AVERAGE_MAXIMUM },
      ShardingQPSUsage: { dimensions: TAIR_SHARDING, statistics: AVERAGE_MAXIMUM },
      ShardingUsedConnection: { dimensions: TAIR_SHARDING, statistics: AVERAGE_MAXIMUM },
      ShardingUsedMemory: { dimensions: TAIR_SHARDING, statistics: ["Average", "Maximum", "Sum"] },
      ShardingEvictedKeys: { dimensions: TAIR_SHARDING, statistics: AVERAGE_MAXIMUM },
    },
  },
  acs_polardb: {
    source:
      "CloudMonitor's acs_polardb metric list (cms.console.aliyun.com metric-meta) as transcribed by Guance's integration " +
      'page "Aliyun PolarDB MySQL" (stored copy found by the search tool), PolarDB for MySQL cluster metrics.',
    metrics: {
      cluster_active_sessions: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average"] },
      cluster_connection_utilization: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average", "Maximum", "Minimum"] },
      cluster_cpu_utilization: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average"] },
      cluster_memory_utilization: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average"] },
      cluster_iops_usage: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average", "Maximum", "Minimum"] },
      cluster_qps: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average"] },
      cluster_tps: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average"] },
      cluster_replica_lag: { dimensions: ["userId", "clusterId", "instanceId"], statistics: ["Average", "Minimum", "Maximum"] },
      cluster_total_session: { dimensions: ["userId", "clusterId", "nodeId"], statistics: ["Average", "Maximum", "Minimum"] },
      cluster_disk_utilization: { dimensions: ["userId", "clusterId"], statistics: ["Average"] },
    },
  },
  acs_rocketmq: {
    source:
      'Alibaba Cloud\'s RocketMQ inspection skill, "RocketMQ Metrics Catalogue" (aliyun alibabacloud-aiops-skills; stored copy ' +
      "found by the search tool): one namespace, acs_rocketmq, for 4.x and 5.x instances; group metrics by instanceId and groupId.",
    metrics: {
      ConsumerLag: { dimensions: ["userId", "instanceId", "groupId"], statistics: ["Sum"] },
      ConsumerLagLatencyPerGid: { dimensions: ["userId", "instanceId", "groupId"], statistics: ["Maximum"] },
      ReadyMessages: { dimensions: ["userId", "instanceId", "groupId"], statistics: ["Sum"] },
      SendDLQMessageCountPerGid: { dimensions: ["userId", "instanceId", "groupId"], statistics: ["Sum"] },
      ThrottledReceiveRequestsPerGid: { dimensions: ["userId", "instanceId", "groupId"], statistics: ["Sum"] },
      InstanceTpsUtilization: { dimensions: ["userId", "instanceId"], statistics: ["Value"] },
      ThrottledSendRequestsPerInstance: { dimensions: ["userId", "instanceId"], statistics: ["Sum"] },
      SendMessageCountPerTopic: { dimensions: ["userId", "instanceId", "topic"], statistics: ["Sum"] },
    },
  },
};
