import { readdirSync } from "node:fs";
import * as path from "node:path";
import type { TerraformBlock } from "../../contract/terraform-json";
import { loadEnvConfig } from "../../stacks/config";
import { ALARM_GUIDE } from "../../stacks/alarm-guide";
import { PIPELINE_LOG_MESSAGE } from "../../contract/pipeline-log";
import { COLLECTED_UNITS, FLEET_TAG_KEY, LOGSTORES, SLS_DYNAMIC_ALERT_POLICY, contactName } from "../../stacks/observability";
import { renderBootScript } from "../../userdata";
import { DOCUMENTED_METRICS } from "./cloudmonitor-metrics";
import { MINIMAL_TFVARS, Synthesized, TEST_NOW, configFromTfvars, synthesize } from "./support/synth";

const ENVS = readdirSync("envs")
  .filter((name) => name.endsWith(".tfvars"))
  .map((name) => path.basename(name, ".tfvars"))
  .sort();

/** `${jsonencode([{"key" = expression, ...}])}` → { key: "${expression}" }, as the stack writes metric_dimensions. */
function dimensionsOf(alarm: TerraformBlock): Record<string, string> {
  const inner = /^\$\{jsonencode\(\[\{(.*)\}\]\)\}$/.exec(alarm.metric_dimensions as string)?.[1];
  if (inner === undefined) throw new Error(`unexpected metric_dimensions ${alarm.metric_dimensions}`);
  return Object.fromEntries(
    inner.split(/,\s*/).map((pair) => {
      const [, key, expression] = /^"([^"]+)" = (.+)$/.exec(pair.trim())!;
      return [key, expression.startsWith('"') ? JSON.parse(expression) : `\${${expression}}`];
    }),
  );
}

interface AlertTemplate {
  rule_name: string;
  namespace: string;
  metric_name: string;
  category: string;
  escalations: { critical: { comparison_operator: string; statistics: string; threshold: string; times: string } };
}

const alertTemplatesOf = (template: TerraformBlock) => template.alert_templates as AlertTemplate[];

const indexedFields = (index: TerraformBlock) => (index.field_search as { name: string }[]).map((field) => field.name);

describe.each(ENVS)("observability of seckill-%s", (envName) => {
  let s: Synthesized;
  beforeAll(async () => {
    s = synthesize(await loadEnvConfig(`envs/${envName}.tfvars`, TEST_NOW));
  });
  const projectRef = () => s.ref(s.stack.observability.projectName);

  test("ships the fleet's journal to an SLS project of the environment, kept as long as tfvars say", () => {
    const project = s.one("alicloud_log_project");
    expect(project.project_name).toMatch(new RegExp(`^seckill-${envName}-\\$\\{data\\.alicloud_account\\.[^.]+\\.id\\}$`));
    const stores = s.resources("alicloud_log_store");
    expect(stores.map((store) => store.logstore_name).sort()).toEqual(Object.values(LOGSTORES).sort());
    for (const store of stores) {
      expect(store.project_name).toBe(projectRef());
      expect(store.retention_period).toBe(s.config.observability.logRetentionDays);
    }
    expect(s.config.observability.logRetentionDays).toBe(envName === "prod" ? 180 : 30);
  });

  test("indexes the service's JSON fields and the pipeline figures the alerts read", () => {
    const app = s.resources("alicloud_log_store_index").find((index) => index.logstore === s.ref(s.stack.observability.appLogstore))!;
    expect(app.project).toBe(projectRef());
    expect(indexedFields(app)).toEqual(
      expect.arrayContaining(["level", "msg", "requestId", "saleId", "status", "err", "lagSeconds", "backlog", "deadLetters"]),
    );
    expect(app.full_text).toBeDefined();
  });

  test("a machine group that follows the scaling group by the identity the boot script writes", () => {
    const group = s.one("alicloud_log_machine_group");
    expect(group).toMatchObject({ project: projectRef(), identify_type: "userdefined", identify_list: [`seckill-${envName}-app`] });
    const script = renderBootScript(s.stack.userDataProps, () => "<terraform>");
    expect(script).toContain(`\nLOGTAIL_IDENTITY='seckill-${envName}-app'\n`);
    expect(script).toContain(`\nLOGTAIL_REGION='${s.config.region}'\n`);
  });

  test("a Logtail configuration collecting the service's and the boot's journal, applied to that group", () => {
    const journal = s.one("alicloud_logtail_config");
    expect(journal).toMatchObject({ project: projectRef(), input_type: "plugin", output_type: "LogService" });
    expect(journal.logstore).toBe(s.ref(s.stack.observability.appLogstore));
    const detail = JSON.parse(journal.input_detail as string);
    expect(detail.plugin.inputs).toEqual([expect.objectContaining({ type: "service_journal" })]);
    expect(detail.plugin.inputs[0].detail.Units).toEqual([...COLLECTED_UNITS]);
    expect(COLLECTED_UNITS).toContain("seckill.service");
    expect(detail.plugin.processors[0]).toMatchObject({ type: "processor_json", detail: { SourceKey: "MESSAGE" } });
    const attachment = s.one("alicloud_logtail_attachment");
    expect(attachment.logtail_config_name).toMatch(/^\$\{alicloud_logtail_config\.[^.]+\.name\}$/);
    expect(attachment.machine_group_name).toMatch(/^\$\{alicloud_log_machine_group\.[^.]+\.name\}$/);
  });

  test("the ALB ships its access log to a logstore of its own", () => {
    expect(s.one("alicloud_alb_load_balancer").access_log_config).toEqual({
      log_project: projectRef(),
      log_store: s.ref(s.stack.observability.albAccessLogstore),
    });
  });

  test("every alarm names a metric CloudMonitor documents for its namespace, with a statistic it computes", () => {
    const alarms = s.resources("alicloud_cms_alarm");
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      const documented = DOCUMENTED_METRICS[alarm.project as string]?.metrics[alarm.metric as string];
      expect({ alarm: alarm.name, documented: documented !== undefined }).toEqual({ alarm: alarm.name, documented: true });
      const { statistics } = alarm.escalations_critical as { statistics: string };
      expect(documented.statistics).toContain(statistics);
      for (const key of Object.keys(dimensionsOf(alarm))) expect(documented.dimensions).toContain(key);
    }
    for (const rule of s.resources("alicloud_cms_metric_rule_template").flatMap(alertTemplatesOf)) {
      const documented = DOCUMENTED_METRICS[rule.namespace]?.metrics[rule.metric_name];
      expect({ rule: rule.rule_name, documented: documented !== undefined }).toEqual({ rule: rule.rule_name, documented: true });
      expect(documented.statistics).toContain(rule.escalations.critical.statistics);
    }
  });

  test("the fleet's CPU alarm follows the scaling group: a tag rule groups the instances the scaling configuration tags", () => {
    const tags = s.one("alicloud_ess_scaling_configuration").tags as Record<string, string>;
    expect(tags[FLEET_TAG_KEY]).toBe(`seckill-${envName}-app`);
    const tagRule = s.one("alicloud_cms_dynamic_tag_group");
    expect(tagRule).toMatchObject({
      tag_key: FLEET_TAG_KEY,
      match_express: [{ tag_value: tags[FLEET_TAG_KEY], tag_value_match_function: "equals" }],
    });
    const template = s.one("alicloud_cms_metric_rule_template");
    expect(tagRule.template_id_list).toEqual([expect.stringMatching(/^\$\{alicloud_cms_metric_rule_template\.[^.]+\.id\}$/)]);
    expect(alertTemplatesOf(template)).toEqual([
      {
        rule_name: `seckill-${envName}-fleet-cpu`,
        namespace: "acs_ecs_dashboard",
        metric_name: "CPUUtilization",
        category: "ecs",
        escalations: {
          critical: {
            comparison_operator: "GreaterThanThreshold",
            statistics: "Average",
            threshold: String(s.config.observability.thresholds.usagePercent),
            times: "3",
          },
        },
      },
    ]);
  });

  test("each alarm's dimensions point at the stack's own resources", () => {
    const own: Record<string, string> = {
      acs_alb: s.ref(s.stack.ingress.loadBalancerId),
      acs_kvstore: s.ref(s.stack.cache.instanceId),
      acs_polardb: s.ref(s.stack.database.clusterId),
      acs_rocketmq: s.ref(s.stack.messaging.instanceId),
    };
    const keyOf: Record<string, string> = {
      acs_alb: "loadBalancerId",
      acs_kvstore: "instanceId",
      acs_polardb: "clusterId",
      acs_rocketmq: "instanceId",
    };
    for (const alarm of s.resources("alicloud_cms_alarm")) {
      const dimensions = dimensionsOf(alarm);
      expect(dimensions[keyOf[alarm.project as string]]).toBe(own[alarm.project as string]);
      if (alarm.project === "acs_rocketmq") expect(dimensions.groupId).toBe(s.ref(s.stack.messaging.orderWriterGroup));
    }
  });

  test("every alarm goes to the contact group made of the tfvars contacts", () => {
    const group = s.one("alicloud_cms_alarm_contact_group");
    const contacts = s.resources("alicloud_cms_alarm_contact");
    expect(contacts.map((contact) => contact.alarm_contact_name)).toEqual(
      s.config.observability.alarmContacts.map((contact) => contactName(contact.name, envName)),
    );
    expect(group.contacts).toHaveLength(contacts.length);
    const groupName = expect.stringMatching(/^\$\{alicloud_cms_alarm_contact_group\.[^.]+\.alarm_contact_group_name\}$/);
    for (const alarm of s.resources("alicloud_cms_alarm")) expect(alarm.contact_groups).toEqual([groupName]);
    expect(s.one("alicloud_cms_dynamic_tag_group").contact_group_list).toEqual([groupName]);
  });

  test("every alarm of the guide exists once, as a CloudMonitor alarm or template rule or an alert on the logs, and nothing else does", () => {
    const declared = [
      ...s.resources("alicloud_cms_alarm").map((alarm) => alarm.name),
      ...s.resources("alicloud_cms_metric_rule_template").flatMap((template) => alertTemplatesOf(template).map((rule) => rule.rule_name)),
      ...s.resources("alicloud_log_alert").map((alert) => alert.alert_name),
    ].map((name) => String(name).replace(`seckill-${envName}-`, ""));
    expect(declared.sort()).toEqual(ALARM_GUIDE.map((alarm) => alarm.id).sort());
    for (const alert of s.resources("alicloud_log_alert")) {
      const guide = ALARM_GUIDE.find((alarm) => `seckill-${envName}-${alarm.id}` === alert.alert_name)!;
      expect(guide.source).toBe("sls");
      expect(alert.policy_configuration).toMatchObject({ alert_policy_id: SLS_DYNAMIC_ALERT_POLICY });
      expect((alert.policy_configuration as { action_policy_id?: string }).action_policy_id).toBe(
        s.config.observability.slsAlertActionPolicyId,
      );
    }
  });

  test("the pipeline alerts read the figures of the order writer's line from the app logstore", () => {
    const app = s.ref(s.stack.observability.appLogstore);
    const queries = s
      .resources("alicloud_log_alert")
      .flatMap((alert) => (alert.query_list as { store: string; query: string }[]).map((query) => ({ name: alert.alert_name, ...query })));
    const pipeline = queries.filter((query) => query.store === app);
    expect(pipeline.map((query) => query.name).sort()).toEqual(
      ["dead-letters", "writer-backlog", "writer-lag"].map((id) => `seckill-${envName}-${id}`),
    );
    for (const query of pipeline) expect(query.query.startsWith(`msg: "${PIPELINE_LOG_MESSAGE}" | `)).toBe(true);
    // No line at all means no order writer is running.
    const lag = s.resources("alicloud_log_alert").find((alert) => alert.alert_name === `seckill-${envName}-writer-lag`)!;
    expect(lag).toMatchObject({ no_data_fire: true, no_data_severity: 8 });
  });

  test("a dashboard of the sale", () => {
    const dashboard = s.one("alicloud_log_dashboard");
    expect(dashboard.project_name).toBe(projectRef());
    const charts = JSON.parse(dashboard.char_list as string) as { title: string }[];
    expect(charts.map((chart) => chart.title)).toEqual(["Orders per second by answer", "5xx per minute", "Order pipeline", "Top errors"]);
  });
});

describe("Tair alarms follow the architecture", () => {
  it.each([
    [1, "Standard"],
    [4, "Sharding"],
  ])("with %i shard(s), the %s* metrics", async (shards, prefix) => {
    const s = synthesize(await configFromTfvars(`${MINIMAL_TFVARS}tair_shard_count = ${shards}\n`));
    const tair = s.resources("alicloud_cms_alarm").filter((alarm) => alarm.project === "acs_kvstore");
    expect(tair.map((alarm) => alarm.metric).sort()).toEqual([`${prefix}ConnectionUsage`, `${prefix}CpuUsage`, `${prefix}MemoryUsage`]);
  });
});

describe("the documented metric list", () => {
  it("has no ALB metric for requests a rate limit turned away, nor a percentile: those come from the access log", () => {
    const alb = Object.keys(DOCUMENTED_METRICS.acs_alb.metrics);
    expect(alb.filter((metric) => /throttl|limit|percentile|p9\d/i.test(metric))).toEqual([]);
    expect(ALARM_GUIDE.filter((alarm) => alarm.id === "throttled" || alarm.id === "p99-response").map((alarm) => alarm.source)).toEqual([
      "sls",
      "sls",
    ]);
  });

  it("names its source for every namespace", () => {
    for (const namespace of Object.values(DOCUMENTED_METRICS)) expect(namespace.source.length).toBeGreaterThan(40);
  });
});

describe("alarm contacts", () => {
  it("carry the environment in their account-wide name, and a name too long for CloudMonitor fails synth", async () => {
    const s = synthesize(
      await configFromTfvars(
        `${MINIMAL_TFVARS}alarm_contacts = [{ name = "oncall", email = "oncall@example.com", phone = "+8613800000000" }]\n`,
      ),
    );
    expect(s.one("alicloud_cms_alarm_contact")).toMatchObject({
      alarm_contact_name: "oncall.test",
      channels_mail: "oncall@example.com",
      channels_sms: "+8613800000000",
    });
    const long = await configFromTfvars(`${MINIMAL_TFVARS}alarm_contacts = [{ name = "${"x".repeat(38)}", email = "a@example.com" }]\n`);
    expect(() => synthesize(long)).toThrow(/longer than CloudMonitor's 40 characters/);
  });
});
