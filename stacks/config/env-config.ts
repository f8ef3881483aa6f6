/** The typed model of one environment that the stacks build from, and how parsed tfvars map onto it. */
import type { StaticSiteDomain } from "../static-site";
import { DEFAULT_IMAGE_ID, Tfvars, tfvarsDocs, tfvarsSchema, vswitchCidrs } from "./schema";

// The schema declares the choices; a value added there needs no second edit here.
export type ScalingMetric = Tfvars["scaling_metric"];
export type DataStoreBilling = Tfvars["data_store_billing"];
/** README, "Acknowledged means replicated". */
export type TairReplicaAck = NonNullable<Tfvars["tair_replica_ack"]>;
export type RocketMqSeries = Tfvars["rocketmq_series"];
export type RocketMqSubSeries = Tfvars["rocketmq_sub_series"];
export type MseEdition = Tfvars["mse_edition"];
export type LogLevel = Tfvars["log_level"];

export interface NetworkConfig {
  readonly vpcCidr: string;
  /** One CIDR per zone, in zone order. */
  readonly appVswitchCidrs: readonly string[];
  readonly albVswitchCidrs: readonly string[];
  readonly dataVswitchCidrs: readonly string[];
  /** A NAT gateway and EIP, the instances' way out; the fleet itself needs none. */
  readonly natGateway: boolean;
  /** Bandwidth cap of the NAT gateway's EIP (pay by traffic), Mbit/s. */
  readonly natBandwidthMbps: number;
}

export interface RateLimit {
  /** Requests per second for the whole rule (ALB TrafficLimit `qps`). */
  readonly qps: number;
  /** Requests per second per client IP (ALB TrafficLimit `per_ip_qps`), always below `qps`. */
  readonly perIpQps: number;
}

export interface IngressConfig {
  readonly albEdition: Tfvars["alb_edition"];
  /** Certificate (SSL Certificates Service) for an HTTPS :443 listener; :80 then redirects. */
  readonly certificateId?: string;
  /** The HTTPS listener's ALB system TLS policy (TLS 1.2 and later). */
  readonly tlsSecurityPolicy: Tfvars["tls_security_policy"];
  /** The only sources the ALB forwards the admin plane from; empty: from none. */
  readonly adminCidrs: readonly string[];
  readonly orderRateLimit: RateLimit;
  readonly readRateLimit: RateLimit;
  /** Every path the order and read limits do not cover: the admin plane and the catch-all rule. */
  readonly defaultRateLimit: RateLimit;
  /** CNAME `<recordName>.<domainName>` → the ALB, when both are set. */
  readonly dns?: { readonly domainName: string; readonly recordName: string };
}

export interface SalePageConfig {
  /** Publish the page through CDN on `<recordName>.<dns_domain_name>`; without it the page is only uploaded. */
  readonly domain?: StaticSiteDomain;
}

export interface SaleWindow {
  readonly name: string;
  readonly startsAt: Date;
  readonly endsAt: Date;
  /** Instances the group is pre-warmed to (min and desired) for this sale. */
  readonly instances: number;
}

export interface ComputeConfig {
  readonly appPort: number;
  /** The image every new instance boots from (tfvars image_id, or the default outside production). */
  readonly imageId: string;
  /** Tried in order when a type is out of stock in a zone. */
  readonly instanceTypes: readonly string[];
  readonly systemDiskCategory: string;
  readonly systemDiskSizeGib: number;
  readonly minInstances: number;
  readonly desiredInstances: number;
  readonly maxInstances: number;
  readonly scalingMetric: ScalingMetric;
  /** Target of the tracking rule: ALB QPS per backend, or average CPU %. */
  readonly scalingTargetValue: number;
  readonly instanceWarmupSeconds: number;
  readonly saleWindows: readonly SaleWindow[];
  readonly prewarmLeadMinutes: number;
  readonly scaleInDelayMinutes: number;
}

export interface CacheConfig {
  readonly instanceClass: string;
  readonly shardCount: number;
  readonly replicaAck: TairReplicaAck;
}

export interface DatabaseConfig {
  readonly nodeClass: string;
  readonly nodeCount: number;
  readonly hotStandby: boolean;
}

export interface DataStoreConfig {
  readonly billing: DataStoreBilling;
  /** Only used with Subscription billing. */
  readonly subscriptionMonths: number;
  /** Sources besides the app vSwitches (bastion, DMS) allowed into Tair and PolarDB. */
  readonly extraWhitelist: readonly string[];
}

export interface MessagingConfig {
  readonly series: RocketMqSeries;
  readonly subSeries: RocketMqSubSeries;
  readonly msgProcessSpec: string;
  readonly messageRetentionHours: number;
}

export interface RegistryConfig {
  readonly edition: MseEdition;
  readonly specification: string;
  readonly instanceCount: number;
}

export interface AppConfig {
  readonly logLevel: LogLevel;
  /** Worker processes per instance; unset = one per CPU. */
  readonly workers?: number;
}

/** Someone CloudMonitor alarms reach, through at least one channel. */
export interface AlarmContact {
  readonly name: string;
  readonly email?: string;
  readonly phone?: string;
  readonly dingtalkWebhook?: string;
}

/** Alarm thresholds (tfvars alarm_*), each in the unit its key documents. */
export interface AlarmThresholds {
  readonly usagePercent: number;
  readonly backend5xxPerSecond: number;
  readonly rejectedConnectionsPerSecond: number;
  readonly p99ResponseMs: number;
  readonly throttledPerMinute: number;
  readonly polardbReplicaLagSeconds: number;
  readonly writerLagSeconds: number;
  readonly orderBacklog: number;
}

export interface ObservabilityConfig {
  readonly logRetentionDays: number;
  readonly alarmContacts: readonly AlarmContact[];
  /** The SLS action policy that delivers the log alerts; unset, they stay in the SLS Alert Center. */
  readonly slsAlertActionPolicyId?: string;
  readonly thresholds: AlarmThresholds;
}

export interface StateBackendConfig {
  readonly bucket: string;
  readonly prefix: string;
  readonly region: string;
  readonly tablestoreEndpoint?: string;
  readonly tablestoreTable?: string;
}

export interface EnvConfig {
  /** From the file name: envs/<envName>.tfvars. */
  readonly envName: string;
  /** The tfvars file, as given to the loader. */
  readonly sourceFile: string;
  /** The clock the sale windows were checked against; the sale schedule is planned from it. */
  readonly synthTime: Date;
  /** The sale window the operator allows this deploy in anyway (stacks/sale-schedule.ts), if any. */
  readonly deployDuringSale?: string;
  readonly region: string;
  readonly zones: readonly string[];
  readonly production: boolean;
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly network: NetworkConfig;
  readonly ingress: IngressConfig;
  readonly salePage: SalePageConfig;
  readonly compute: ComputeConfig;
  readonly cache: CacheConfig;
  readonly database: DatabaseConfig;
  readonly dataStores: DataStoreConfig;
  readonly messaging: MessagingConfig;
  readonly registry: RegistryConfig;
  readonly app: AppConfig;
  readonly observability: ObservabilityConfig;
  readonly stateBackend?: StateBackendConfig;
  /**
   * Every key whose change replaces resources (its doc says `replaces`), with the value in effect: defaults and carved
   * CIDRs included. The stack outputs it, so `npm run preflight --stack` can compare a new synth with what is deployed.
   */
  readonly replacingSettings: Readonly<Record<string, unknown>>;
}

function replacingSettings(tfvars: Tfvars, cidrs: ReturnType<typeof vswitchCidrs>): Record<string, unknown> {
  const effective: Record<string, unknown> = {
    ...tfvars,
    app_vswitch_cidrs: cidrs.app,
    alb_vswitch_cidrs: cidrs.alb,
    data_vswitch_cidrs: cidrs.data,
  };
  return Object.fromEntries(
    Object.entries(tfvarsSchema.shape)
      .filter(([, schema]) => tfvarsDocs.get(schema)?.replaces !== undefined)
      .map(([key]) => [key, effective[key]]),
  );
}

export function toEnvConfig(tfvars: Tfvars, envName: string, sourceFile: string, now: Date, deployDuringSale?: string): EnvConfig {
  const cidrs = vswitchCidrs(tfvars);
  const backend = tfvars.state_backend;
  return {
    envName,
    sourceFile,
    synthTime: now,
    deployDuringSale,
    region: tfvars.region,
    zones: tfvars.zones,
    production: tfvars.production,
    deletionProtection: tfvars.deletion_protection ?? tfvars.production,
    tags: tfvars.tags,
    network: {
      vpcCidr: tfvars.vpc_cidr,
      appVswitchCidrs: cidrs.app,
      albVswitchCidrs: cidrs.alb,
      dataVswitchCidrs: cidrs.data,
      natGateway: tfvars.nat_gateway,
      natBandwidthMbps: tfvars.nat_bandwidth_mbps,
    },
    ingress: {
      albEdition: tfvars.alb_edition,
      certificateId: tfvars.certificate_id,
      tlsSecurityPolicy: tfvars.tls_security_policy,
      adminCidrs: tfvars.admin_cidrs ?? [],
      orderRateLimit: { qps: tfvars.order_rate_limit_qps, perIpQps: tfvars.order_rate_limit_per_ip_qps },
      readRateLimit: { qps: tfvars.read_rate_limit_qps, perIpQps: tfvars.read_rate_limit_per_ip_qps },
      defaultRateLimit: { qps: tfvars.default_rate_limit_qps, perIpQps: tfvars.default_rate_limit_per_ip_qps },
      dns:
        tfvars.dns_domain_name && tfvars.dns_record_name
          ? { domainName: tfvars.dns_domain_name, recordName: tfvars.dns_record_name }
          : undefined,
    },
    salePage: {
      domain:
        tfvars.dns_domain_name && tfvars.sale_page_record_name
          ? {
              domainName: tfvars.dns_domain_name,
              recordName: tfvars.sale_page_record_name,
              cdnScope: tfvars.sale_page_cdn_scope ?? "domestic",
              certificateId: tfvars.sale_page_certificate_id,
            }
          : undefined,
    },
    compute: {
      appPort: tfvars.app_port,
      imageId: tfvars.image_id ?? DEFAULT_IMAGE_ID,
      instanceTypes: tfvars.instance_types,
      systemDiskCategory: tfvars.system_disk_category,
      systemDiskSizeGib: tfvars.system_disk_size_gib,
      minInstances: tfvars.min_instances,
      desiredInstances: tfvars.desired_instances ?? tfvars.min_instances,
      maxInstances: tfvars.max_instances,
      scalingMetric: tfvars.scaling_metric,
      scalingTargetValue: tfvars.scaling_target_value ?? (tfvars.scaling_metric === "cpu" ? 60 : 1000),
      instanceWarmupSeconds: tfvars.instance_warmup_seconds,
      saleWindows: tfvars.sale_windows.map((window) => ({
        name: window.name,
        startsAt: new Date(window.starts_at),
        endsAt: new Date(window.ends_at),
        instances: window.instances,
      })),
      prewarmLeadMinutes: tfvars.prewarm_lead_minutes,
      scaleInDelayMinutes: tfvars.scale_in_delay_minutes,
    },
    cache: {
      instanceClass: tfvars.tair_instance_class,
      shardCount: tfvars.tair_shard_count,
      replicaAck: tfvars.tair_replica_ack ?? (tfvars.tair_shard_count === 1 ? "wait" : "semisync"),
    },
    database: { nodeClass: tfvars.polardb_node_class, nodeCount: tfvars.polardb_node_count, hotStandby: tfvars.polardb_hot_standby },
    dataStores: {
      billing: tfvars.data_store_billing,
      subscriptionMonths: tfvars.subscription_months,
      extraWhitelist: tfvars.data_store_extra_whitelist,
    },
    messaging: {
      series: tfvars.rocketmq_series,
      subSeries: tfvars.rocketmq_sub_series,
      msgProcessSpec: tfvars.rocketmq_spec,
      messageRetentionHours: tfvars.rocketmq_message_retention_hours,
    },
    registry: { edition: tfvars.mse_edition, specification: tfvars.mse_specification, instanceCount: tfvars.mse_instance_count },
    app: { logLevel: tfvars.log_level, workers: tfvars.workers },
    observability: {
      logRetentionDays: tfvars.log_retention_days,
      alarmContacts: tfvars.alarm_contacts.map((contact) => ({
        name: contact.name,
        email: contact.email,
        phone: contact.phone,
        dingtalkWebhook: contact.dingtalk_webhook,
      })),
      slsAlertActionPolicyId: tfvars.sls_alert_action_policy_id,
      thresholds: {
        usagePercent: tfvars.alarm_usage_percent,
        backend5xxPerSecond: tfvars.alarm_backend_5xx_per_second,
        rejectedConnectionsPerSecond: tfvars.alarm_rejected_connections_per_second,
        p99ResponseMs: tfvars.alarm_p99_response_ms,
        throttledPerMinute: tfvars.alarm_throttled_per_minute,
        polardbReplicaLagSeconds: tfvars.alarm_polardb_replica_lag_seconds,
        writerLagSeconds: tfvars.alarm_writer_lag_seconds,
        orderBacklog: tfvars.alarm_order_backlog,
      },
    },
    replacingSettings: replacingSettings(tfvars, cidrs),
    stateBackend: backend && {
      bucket: backend.bucket,
      prefix: backend.prefix ?? `seckill/${envName}`,
      region: backend.region ?? tfvars.region,
      tablestoreEndpoint: backend.tablestore_endpoint,
      tablestoreTable: backend.tablestore_table,
    },
  };
}
