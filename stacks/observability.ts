import { Construct } from "constructs";
import { Fn } from "cdktf";
import { CmsAlarm } from "../.gen/providers/alicloud/cms-alarm";
import { CmsAlarmContact } from "../.gen/providers/alicloud/cms-alarm-contact";
import { CmsAlarmContactGroup } from "../.gen/providers/alicloud/cms-alarm-contact-group";
import { CmsDynamicTagGroup } from "../.gen/providers/alicloud/cms-dynamic-tag-group";
import { CmsMetricRuleTemplate } from "../.gen/providers/alicloud/cms-metric-rule-template";
import { DataAlicloudAccount } from "../.gen/providers/alicloud/data-alicloud-account";
import { LogAlert } from "../.gen/providers/alicloud/log-alert";
import { LogDashboard } from "../.gen/providers/alicloud/log-dashboard";
import { LogMachineGroup } from "../.gen/providers/alicloud/log-machine-group";
import { LogProject } from "../.gen/providers/alicloud/log-project";
import { LogStore } from "../.gen/providers/alicloud/log-store";
import { LogStoreIndex, type LogStoreIndexFieldSearch } from "../.gen/providers/alicloud/log-store-index";
import { LogtailAttachment } from "../.gen/providers/alicloud/logtail-attachment";
import { LogtailConfig } from "../.gen/providers/alicloud/logtail-config";
import { PIPELINE_LOG_MESSAGE } from "../contract/pipeline-log";
import { ALARM_GUIDE, type AlarmId } from "./alarm-guide";
import type { AlarmThresholds, ObservabilityConfig } from "./config";

/** The systemd units whose journal Logtail collects: the service, and cloud-init's final stage, which runs boot.sh. */
export const COLLECTED_UNITS = ["seckill.service", "cloud-final.service"] as const;
/** Logstores of the environment's project. */
export const LOGSTORES = { app: "app", albAccess: "alb-access" } as const;
/**
 * The tag key every instance of a fleet carries (the scaling configuration sets it, with the environment's fleet name as
 * its value): CloudMonitor's tag rule groups the instances by it, whichever the scaling group has at the moment.
 */
export const FLEET_TAG_KEY = "seckill-fleet";
/** CloudMonitor: sample every minute, fire after three breaching minutes, remind at most every 30 minutes. */
const ALARM_PERIOD_SECONDS = 60;
const ALARM_TIMES = 3;
const ALARM_SILENCE_SECONDS = 1800;
/** SLS alerts: evaluated every minute over the last five. */
const ALERT_INTERVAL = "1m";
const ALERT_WINDOW = "-300s";
/** The SLS built-in alert policy whose action policy is the one each alert names (SLS, "Dynamic action policy mechanism"). */
export const SLS_DYNAMIC_ALERT_POLICY = "sls.builtin.dynamic";

export interface ObservabilityProps extends ObservabilityConfig {
  readonly envName: string;
  readonly region: string;
}

/** What the alarms watch: the stack's own resources. */
export interface WatchedResources {
  readonly loadBalancerId: string;
  readonly tairInstanceId: string;
  /** 1: Tair's standard architecture (Standard* metrics); more: the cluster (Sharding* metrics). */
  readonly tairShardCount: number;
  readonly polardbClusterId: string;
  readonly rocketmqInstanceId: string;
  readonly orderWriterGroup: string;
}

/**
 * Logs and alarms of one environment. The constructor makes the SLS side that must exist before the fleet and the ALB
 * ship logs to it: a project, a logstore for the fleet's journal (service and boot, JSON fields indexed) and one for
 * the ALB's access log, a machine group that every instance joins by the custom identity its boot script writes, and
 * the Logtail configuration collecting the journal. `watch` then adds the CloudMonitor alarms (to a contact group of
 * alarm_contacts), the alerts on the logs and the sale's dashboard.
 */
export class Observability extends Construct {
  /** Globally unique across Alibaba Cloud, hence the account id in it. */
  public readonly projectName: string;
  public readonly appLogstore: string;
  public readonly albAccessLogstore: string;
  /** What boot.sh writes to /etc/ilogtail/user_defined_id: instances with it belong to the machine group. */
  public readonly machineGroupIdentity: string;
  /** The VPC-internal address of the Logtail installer of the region. */
  public readonly logtailInstallerUrl: string;
  /** Tags for every instance of the fleet: they put it in the CloudMonitor group the fleet's alarms watch. */
  public readonly fleetInstanceTags: Readonly<Record<string, string>>;
  private readonly name: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ObservabilityProps,
  ) {
    super(scope, id);
    const name = (this.name = `seckill-${props.envName}`);
    const account = new DataAlicloudAccount(this, "account");
    const project = new LogProject(this, "project", {
      projectName: `${name}-${account.id}`,
      description: `seckill ${props.envName}: fleet journal and ALB access log`,
    });
    this.projectName = project.projectName;
    const store = (storeId: string, logstoreName: string) =>
      new LogStore(this, storeId, {
        projectName: project.projectName,
        logstoreName,
        retentionPeriod: props.logRetentionDays,
        shardCount: 2,
        // A sale's burst splits shards instead of throttling the writers (the provider's maximum is 256).
        autoSplit: true,
        maxSplitShardCount: 64,
        appendMeta: true,
      });
    const app = store("app-logs", LOGSTORES.app);
    const alb = store("alb-access-logs", LOGSTORES.albAccess);
    this.appLogstore = app.logstoreName;
    this.albAccessLogstore = alb.logstoreName;

    const text = (fieldName: string): LogStoreIndexFieldSearch => ({ name: fieldName, type: "text", enableAnalytics: true });
    const long = (fieldName: string): LogStoreIndexFieldSearch => ({ name: fieldName, type: "long", enableAnalytics: true });
    const double = (fieldName: string): LogStoreIndexFieldSearch => ({ name: fieldName, type: "double", enableAnalytics: true });
    const fullText = { caseSensitive: false, token: ", '\";=()[]{}?@&<>/:\n\t\r" };
    new LogStoreIndex(this, "app-index", {
      project: project.projectName,
      logstore: app.logstoreName,
      fullText,
      fieldSearch: [
        // pino's fields (app/platform/logger.ts): level is a number (30 info, 40 warn, 50 error).
        long("level"),
        text("msg"),
        text("requestId"),
        text("saleId"),
        long("status"),
        {
          name: "err",
          type: "json",
          enableAnalytics: true,
          jsonKeys: [
            { name: "message", type: "text" },
            { name: "type", type: "text" },
          ],
        },
        text("role"),
        // The order writer's pipeline line.
        double("lagSeconds"),
        long("backlog"),
        long("deadLetters"),
        // The journal's own fields: which unit wrote the line (the service, or cloud-init running boot.sh).
        text("_SYSTEMD_UNIT"),
        text("_HOSTNAME"),
      ],
    });
    new LogStoreIndex(this, "alb-access-index", {
      project: project.projectName,
      logstore: alb.logstoreName,
      fullText,
      fieldSearch: [
        long("status"),
        text("upstream_status"),
        text("upstream_addr"),
        double("request_time"),
        double("upstream_response_time"),
        text("request_method"),
        text("request_uri"),
        text("client_ip"),
      ],
    });

    this.machineGroupIdentity = `${name}-app`;
    this.fleetInstanceTags = { [FLEET_TAG_KEY]: this.machineGroupIdentity };
    const machineGroup = new LogMachineGroup(this, "fleet", {
      project: project.projectName,
      name: `${name}-app`,
      // Instances come and go with the scaling group; each names itself (boot.sh), so the group never lists addresses.
      identifyType: "userdefined",
      identifyList: [this.machineGroupIdentity],
    });
    const journal = new LogtailConfig(this, "journal", {
      project: project.projectName,
      logstore: app.logstoreName,
      name: `${name}-journal`,
      inputType: "plugin",
      outputType: "LogService",
      inputDetail: JSON.stringify(journalCollection()),
    });
    new LogtailAttachment(this, "journal-to-fleet", {
      project: project.projectName,
      logtailConfigName: journal.name,
      machineGroupName: machineGroup.name,
    });
    this.logtailInstallerUrl = logtailInstallerUrl(props.region);
  }

  /** CloudMonitor alarms on the stack's own resources, alerts on the logs, and the sale's dashboard. */
  watch(resources: WatchedResources): void {
    const { props, name } = this;
    const contacts = props.alarmContacts.map(
      (contact) =>
        new CmsAlarmContact(this, `contact-${contact.name}`, {
          alarmContactName: contactName(contact.name, props.envName),
          describe: `seckill ${props.envName} alarms`,
          channelsMail: contact.email,
          channelsSms: contact.phone,
          channelsDingWebHook: contact.dingtalkWebhook,
          lang: "en",
        }),
    );
    const group = new CmsAlarmContactGroup(this, "contact-group", {
      alarmContactGroupName: `${name}-oncall`,
      describe: `Who the seckill ${props.envName} alarms reach (tfvars alarm_contacts)`,
      contacts: contacts.map((contact) => contact.alarmContactName),
    });
    for (const alarm of cloudMonitorAlarms(resources, props.thresholds)) {
      new CmsAlarm(this, alarm.id, {
        name: `${name}-${alarm.id}`,
        project: alarm.namespace,
        metric: alarm.metric,
        metricDimensions: Fn.jsonencode([alarm.dimensions]),
        period: ALARM_PERIOD_SECONDS,
        silenceTime: ALARM_SILENCE_SECONDS,
        contactGroups: [group.alarmContactGroupName],
        escalationsCritical: {
          statistics: alarm.statistics,
          comparisonOperator: alarm.operator,
          threshold: String(alarm.threshold),
          times: ALARM_TIMES,
        },
      });
    }
    this.watchFleet(group.alarmContactGroupName);
    for (const alert of logAlerts(this.albAccessLogstore, this.appLogstore, props.thresholds)) {
      new LogAlert(this, alert.id, {
        version: "2.0",
        type: "default",
        projectName: this.projectName,
        alertName: `${name}-${alert.id}`,
        alertDisplayname: `${name} ${alert.id}`,
        alertDescription: guideOf(alert.id).means,
        schedule: { type: "FixedRate", interval: ALERT_INTERVAL },
        queryList: [
          {
            store: alert.store,
            storeType: "log",
            project: this.projectName,
            region: props.region,
            chartTitle: alert.id,
            query: alert.query,
            start: ALERT_WINDOW,
            end: "now",
            powerSqlMode: "auto",
          },
        ],
        severityConfigurations: [{ severity: 8, evalCondition: { condition: alert.condition, count_condition: "" } }],
        annotations: [
          { key: "title", value: `${name}: ${alert.id}` },
          { key: "desc", value: `${guideOf(alert.id).means} First action: ${guideOf(alert.id).firstAction}` },
        ],
        labels: [{ key: "env", value: props.envName }],
        sendResolved: true,
        noDataFire: alert.noDataFires ?? false,
        noDataSeverity: alert.noDataFires ? 8 : undefined,
        policyConfiguration: {
          alertPolicyId: SLS_DYNAMIC_ALERT_POLICY,
          actionPolicyId: props.slsAlertActionPolicyId,
          repeatInterval: "30m",
        },
      });
    }
    new LogDashboard(this, "sale-dashboard", {
      projectName: this.projectName,
      dashboardName: `${name}-sale`,
      displayName: `seckill ${props.envName}: the sale`,
      charList: JSON.stringify(dashboardCharts(this.albAccessLogstore, this.appLogstore)),
    });
  }

  /**
   * CloudMonitor's ECS alarms name instance ids, which the scaling group keeps changing. A tag rule instead makes an
   * application group of the instances carrying the fleet's tag, following scale-out and scale-in, and applies the
   * alarm template to it, notifying the contact group (CloudMonitor, CreateDynamicTagGroup: ContactGroupList,
   * TemplateIdList). The tag rule takes no mute period (the template's silence_time only goes with its own group_id),
   * so CloudMonitor's default for an applied template holds: ApplyMetricRuleTemplate SilenceTime, 86400 s.
   */
  private watchFleet(contactGroupName: string): void {
    const { name } = this;
    const alarm = fleetCpuAlarm(this.props.thresholds);
    const template = new CmsMetricRuleTemplate(this, "fleet-alarms", {
      metricRuleTemplateName: `${name}-fleet`,
      description: `Alarms on every instance of the seckill ${this.props.envName} fleet`,
      alertTemplates: [
        {
          ruleName: `${name}-${alarm.id}`,
          namespace: alarm.namespace,
          metricName: alarm.metric,
          category: "ecs",
          escalations: {
            critical: {
              comparisonOperator: "GreaterThanThreshold",
              statistics: alarm.statistics,
              threshold: String(alarm.threshold),
              times: String(ALARM_TIMES),
            },
          },
        },
      ],
    });
    new CmsDynamicTagGroup(this, "fleet-by-tag", {
      tagKey: FLEET_TAG_KEY,
      matchExpress: [{ tagValue: this.fleetInstanceTags[FLEET_TAG_KEY], tagValueMatchFunction: "equals" }],
      contactGroupList: [contactGroupName],
      templateIdList: [template.id],
    });
  }
}

/**
 * Contacts are account-wide and their name is ForceNew (alicloud_cms_alarm_contact.alarm_contact_name, 2-40 characters):
 * the environment goes into it, so dev's and prod's contacts of one person are two.
 */
export function contactName(name: string, envName: string): string {
  const full = `${name}.${envName}`;
  if (full.length > 40) {
    throw new Error(`alarm_contacts: "${full}" (name.environment) is longer than CloudMonitor's 40 characters; shorten the name`);
  }
  return full;
}

function guideOf(id: AlarmId) {
  return ALARM_GUIDE.find((alarm) => alarm.id === id)!;
}

/**
 * Logtail's systemd journal input (SLS, "Collect systemd journal logs"): the two units from the start of the journal,
 * so the boot's first lines, written before Logtail ran, are collected too; the service's JSON lines are expanded
 * into fields, a boot line stays as it is in MESSAGE.
 */
export function journalCollection() {
  return {
    plugin: {
      inputs: [
        {
          type: "service_journal",
          detail: { Units: [...COLLECTED_UNITS], SeekPosition: "head", Kernel: false, ParsePriority: true, ParseSyslogFacility: true },
        },
      ],
      processors: [
        {
          type: "processor_json",
          detail: { SourceKey: "MESSAGE", KeepSource: true, KeepSourceIfParseError: true, ExpandDepth: 1, NoKeyError: false },
        },
      ],
    },
  };
}

/**
 * Logtail's Linux installer from the region's OSS bucket, through the internal endpoint: instances have no way to the
 * internet (SLS, "Install Logtail on a Linux server"; run as `logtail.sh install <region>`, which points Logtail at the
 * region's intranet SLS endpoint, "<region>-intranet.log.aliyuncs.com").
 */
export function logtailInstallerUrl(region: string): string {
  return `http://logtail-release-${region}.oss-${region}-internal.aliyuncs.com/linux64/logtail.sh`;
}

export interface CloudMonitorAlarm {
  readonly id: AlarmId;
  readonly namespace: string;
  readonly metric: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistics: "Average" | "Maximum" | "Value" | "Sum";
  readonly operator: ">" | ">=";
  readonly threshold: number;
}

/** The CloudMonitor alarms, each on a documented metric of its namespace (test/stacks/cloudmonitor-metrics.ts). */
export function cloudMonitorAlarms(resources: WatchedResources, thresholds: AlarmThresholds): CloudMonitorAlarm[] {
  const alb = { loadBalancerId: resources.loadBalancerId };
  const tair = { instanceId: resources.tairInstanceId };
  const polardb = { clusterId: resources.polardbClusterId };
  const writerGroup = { instanceId: resources.rocketmqInstanceId, groupId: resources.orderWriterGroup };
  // Tair's metric names follow its architecture: Standard* for one shard, Sharding* (per data node) for a cluster.
  const tairMetric = (suffix: string) => `${resources.tairShardCount === 1 ? "Standard" : "Sharding"}${suffix}`;
  const usage = thresholds.usagePercent;
  return [
    {
      id: "backend-5xx",
      namespace: "acs_alb",
      metric: "LoadBalancerHTTPCodeUpstream5XX",
      dimensions: alb,
      statistics: "Value",
      operator: ">",
      threshold: thresholds.backend5xxPerSecond,
    },
    {
      id: "rejected-connections",
      namespace: "acs_alb",
      metric: "LoadBalancerRejectedConnection",
      dimensions: alb,
      statistics: "Value",
      operator: ">",
      threshold: thresholds.rejectedConnectionsPerSecond,
    },
    {
      id: "unhealthy-backends",
      namespace: "acs_alb",
      metric: "LoadBalancerUnHealthyHostCount",
      dimensions: alb,
      statistics: "Value",
      operator: ">=",
      threshold: 1,
    },
    {
      id: "tair-cpu",
      namespace: "acs_kvstore",
      metric: tairMetric("CpuUsage"),
      dimensions: tair,
      statistics: "Maximum",
      operator: ">",
      threshold: usage,
    },
    {
      id: "tair-memory",
      namespace: "acs_kvstore",
      metric: tairMetric("MemoryUsage"),
      dimensions: tair,
      statistics: "Maximum",
      operator: ">",
      threshold: usage,
    },
    {
      id: "tair-connections",
      namespace: "acs_kvstore",
      metric: tairMetric("ConnectionUsage"),
      dimensions: tair,
      statistics: "Maximum",
      operator: ">",
      threshold: usage,
    },
    {
      id: "polardb-cpu",
      namespace: "acs_polardb",
      metric: "cluster_cpu_utilization",
      dimensions: polardb,
      statistics: "Average",
      operator: ">",
      threshold: usage,
    },
    {
      id: "polardb-connections",
      namespace: "acs_polardb",
      metric: "cluster_connection_utilization",
      dimensions: polardb,
      statistics: "Maximum",
      operator: ">",
      threshold: usage,
    },
    {
      id: "polardb-replica-lag",
      namespace: "acs_polardb",
      metric: "cluster_replica_lag",
      dimensions: polardb,
      statistics: "Maximum",
      operator: ">",
      threshold: thresholds.polardbReplicaLagSeconds,
    },
    {
      id: "rocketmq-consumer-lag",
      namespace: "acs_rocketmq",
      metric: "ConsumerLag",
      dimensions: writerGroup,
      statistics: "Sum",
      operator: ">",
      threshold: thresholds.orderBacklog,
    },
    {
      id: "rocketmq-dead-letters",
      namespace: "acs_rocketmq",
      metric: "SendDLQMessageCountPerGid",
      dimensions: writerGroup,
      statistics: "Sum",
      operator: ">",
      threshold: 0,
    },
  ];
}

/** The fleet's CPU above the threshold for three minutes, on CloudMonitor's ECS metric that needs no agent. */
export function fleetCpuAlarm(thresholds: AlarmThresholds): Omit<CloudMonitorAlarm, "dimensions" | "operator"> {
  return {
    id: "fleet-cpu",
    namespace: "acs_ecs_dashboard",
    metric: "CPUUtilization",
    statistics: "Average",
    threshold: thresholds.usagePercent,
  };
}

export interface LogAlertDeclaration {
  readonly id: AlarmId;
  readonly store: string;
  readonly query: string;
  /** Fires on a result row meeting it. */
  readonly condition: string;
  /** Fires, too, when the query finds no line at all in the window. */
  readonly noDataFires?: boolean;
}

/**
 * The alerts on the logs. Throttling and the p99 come from the ALB's access log: CloudMonitor's acs_alb metrics count
 * 503s and give average response times, but have no per-rule throttle counter and no percentile. A request the
 * TrafficLimit action turned away is a 503 with no upstream (the ALB never forwarded it).
 */
export function logAlerts(albAccessLogstore: string, appLogstore: string, thresholds: AlarmThresholds): LogAlertDeclaration[] {
  const pipeline = `msg: "${PIPELINE_LOG_MESSAGE}"`;
  return [
    {
      id: "p99-response",
      store: albAccessLogstore,
      query: `upstream_addr: * | select approx_percentile(request_time, 0.99) * 1000 as p99_ms`,
      condition: `p99_ms > ${thresholds.p99ResponseMs}`,
    },
    {
      id: "throttled",
      store: albAccessLogstore,
      query: `status: 503 not upstream_addr: * | select count(1) / 5.0 as throttled_per_minute`,
      condition: `throttled_per_minute > ${thresholds.throttledPerMinute}`,
    },
    {
      id: "writer-lag",
      store: appLogstore,
      query: `${pipeline} | select max(lagSeconds) as lag_seconds`,
      condition: `lag_seconds > ${thresholds.writerLagSeconds}`,
      // Every order writer logs the line every 10 s, sale or not: none for five minutes means none is running.
      noDataFires: true,
    },
    {
      id: "writer-backlog",
      store: appLogstore,
      query: `${pipeline} | select max(backlog) as backlog`,
      condition: `backlog > ${thresholds.orderBacklog}`,
    },
    {
      id: "dead-letters",
      store: appLogstore,
      query: `${pipeline} | select sum(deadLetters) as dead_letters`,
      condition: "dead_letters > 0",
    },
  ];
}

/** The sale's panels: orders by answer, 5xx, the pipeline's lag and backlog, the top errors. */
export function dashboardCharts(albAccessLogstore: string, appLogstore: string) {
  const chart = (title: string, logstore: string, query: string, yAxis: string[], position: { xPos: number; yPos: number }) => ({
    title,
    type: "line",
    search: { logstore, topic: "", query, start: "-3600s", end: "now" },
    display: { xAxis: ["minute"], yAxis, ...position, width: 5, height: 5, displayName: title },
  });
  return [
    chart(
      "Orders per second by answer",
      albAccessLogstore,
      "request_method: POST and request_uri: \"/api/sales/*\" | select date_trunc('minute', __time__) as minute, " +
        "count_if(status = 202) / 60.0 as reserved, count_if(status = 409) / 60.0 as refused, " +
        "count_if(status = 503) / 60.0 as shed group by minute order by minute",
      ["reserved", "refused", "shed"],
      { xPos: 0, yPos: 0 },
    ),
    chart(
      "5xx per minute",
      albAccessLogstore,
      "status >= 500 | select date_trunc('minute', __time__) as minute, count(1) as responses group by minute order by minute",
      ["responses"],
      { xPos: 5, yPos: 0 },
    ),
    chart(
      "Order pipeline",
      appLogstore,
      `msg: "${PIPELINE_LOG_MESSAGE}" | select date_trunc('minute', __time__) as minute, max(lagSeconds) as lag_seconds, ` +
        "max(backlog) as backlog, sum(deadLetters) as dead_letters group by minute order by minute",
      ["lag_seconds", "backlog", "dead_letters"],
      { xPos: 0, yPos: 5 },
    ),
    {
      title: "Top errors",
      type: "table",
      search: {
        logstore: appLogstore,
        topic: "",
        query: "level >= 50 | select msg, count(1) as lines group by msg order by lines desc limit 20",
        start: "-3600s",
        end: "now",
      },
      display: { xPos: 5, yPos: 5, width: 5, height: 5, displayName: "Top errors" },
    },
  ];
}
