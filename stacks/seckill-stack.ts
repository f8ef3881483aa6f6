import { Construct, IConstruct } from "constructs";
import { Aspects, IAspect, OssBackend, TerraformOutput, TerraformResource, TerraformStack } from "cdktf";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { secretParameterPrefix, type SecretParameter, type ServiceEnvironment } from "../contract/service-env";
import { AlicloudProvider } from "../.gen/providers/alicloud/provider";
import type { AppArtifact } from "../build/app-artifact";
import type { NodeRuntime } from "../build/node-runtime";
import { renderUserData, type UserDataProps } from "../userdata";
import { AppArtifactBucket } from "./app-artifact-bucket";
import { Cache } from "./cache";
import { Compute, instanceRoleName } from "./compute";
import type { EnvConfig } from "./config";
import { Database } from "./database";
import { GuardRails } from "./guard-rails";
import { Ingress } from "./ingress";
import { Messaging } from "./messaging";
import { Network } from "./network";
import { Observability } from "./observability";
import { Registry } from "./registry";
import { Secret } from "./secret";
import { SecretStore } from "./secret-store";
import { StaticSite, pageOrigin } from "./static-site";

/** Tags every taggable resource carries (resource-specific tags win, then tfvars `tags`). */
class DefaultTags implements IAspect {
  constructor(private readonly tags: Readonly<Record<string, string>>) {}

  public visit(node: IConstruct): void {
    if (node instanceof TerraformResource && "tagsInput" in node) {
      const taggable = node as TerraformResource & { tags: Record<string, string>; tagsInput?: Record<string, string> };
      taggable.tags = { ...this.tags, ...taggable.tagsInput };
    }
  }
}

export interface SeckillStackProps {
  /** The service build the instances run (appArtifact(), built once by main.ts for every stack). */
  readonly artifact: AppArtifact;
  /** The Node.js runtime the instances install (nodeRuntime(), fetched once by main.ts). */
  readonly runtime: NodeRuntime;
}

/**
 * One environment of the flash-sale architecture (stack `seckill-<env>`), read top to bottom like the diagram:
 * sale page (OSS behind CDN) calling the ALB (rate limits, CORS) → auto-scaled ECS fleet → Tair (stock) → RocketMQ
 * (order events) → PolarDB (orders), with MSE Nacos for live settings, all inside one VPC that has no way out to the
 * internet unless tfvars add a NAT gateway.
 */
export class SeckillStack extends TerraformStack {
  public readonly network: Network;
  public readonly ingress: Ingress;
  public readonly salePage: StaticSite;
  public readonly cache: Cache;
  public readonly database: Database;
  public readonly messaging: Messaging;
  public readonly registry: Registry;
  public readonly compute: Compute;
  /** What the secret store holds (Terraform expressions): never in the user data, only in the store and the state. */
  public readonly secretValues: Readonly<Record<SecretParameter, string>>;
  public readonly observability: Observability;
  /** The environment every app instance gets through its user data (values are Terraform expressions). */
  public readonly serviceEnv: ServiceEnvironment;
  /**
   * What every app instance's user data is rendered from (renderUserData's input, serviceEnv among it); values
   * Terraform only knows at apply time are tokens. `npm run userdata` prints the script from it.
   */
  public readonly userDataProps: UserDataProps;

  constructor(scope: Construct, config: EnvConfig, props: SeckillStackProps) {
    super(scope, `seckill-${config.envName}`);
    const envName = config.envName;
    new AlicloudProvider(this, "alicloud", { region: config.region });
    new RandomProvider(this, "random");
    if (config.stateBackend) {
      new OssBackend(this, {
        bucket: config.stateBackend.bucket,
        prefix: config.stateBackend.prefix,
        key: "terraform.tfstate",
        region: config.stateBackend.region,
        encrypt: true,
        tablestoreEndpoint: config.stateBackend.tablestoreEndpoint,
        tablestoreTable: config.stateBackend.tablestoreTable,
      });
    }

    const network = (this.network = new Network(this, "network", {
      envName,
      zones: config.zones,
      appPort: config.compute.appPort,
      ...config.network,
    }));
    const appCidrs = network.appSubnets.map((subnet) => subnet.cidr);
    const dataTier = { envName, vpcId: network.vpcId, dataSubnets: network.dataSubnets, appCidrs };

    const observability = (this.observability = new Observability(this, "observability", {
      envName,
      region: config.region,
      ...config.observability,
    }));

    const salePageDomain = config.salePage.domain;
    const ingress = (this.ingress = new Ingress(this, "ingress", {
      envName,
      vpcId: network.vpcId,
      albSubnets: network.albSubnets,
      appPort: config.compute.appPort,
      deletionProtection: config.deletionProtection,
      ...config.ingress,
      salePageOrigin: salePageDomain && pageOrigin(salePageDomain),
      accessLog: { project: observability.projectName, logstore: observability.albAccessLogstore },
    }));
    // The crowd loads the page from CDN (or, without a domain, it waits in its bucket); only its API calls reach the ALB.
    const salePage = (this.salePage = new StaticSite(this, "sale-page", {
      envName,
      apiBaseUrl: ingress.publicUrl,
      domain: salePageDomain,
    }));
    const cache = (this.cache = new Cache(this, "cache", { ...dataTier, ...config.cache, ...config.dataStores }));
    const database = (this.database = new Database(this, "database", {
      ...dataTier,
      ...config.database,
      ...config.dataStores,
      deletionProtection: config.deletionProtection,
    }));
    const messaging = (this.messaging = new Messaging(this, "messaging", { ...dataTier, ...config.messaging }));
    const registry = (this.registry = new Registry(this, "registry", { ...dataTier, region: config.region, ...config.registry }));

    const appSecrets = new Construct(this, "app-secrets");
    const adminToken = new Secret(appSecrets, "admin-token", { kind: "token", description: "Admin API bearer token" }).value;
    const userTokenSecret = new Secret(appSecrets, "user-token-secret", { kind: "token", description: "HMAC key of buyer tokens" }).value;
    const paymentWebhookSecret = new Secret(appSecrets, "payment-webhook-secret", {
      kind: "token",
      description: "HMAC key the payment provider signs its callbacks with",
    }).value;
    this.secretValues = {
      "admin-token": adminToken,
      "user-token-secret": userTokenSecret,
      "redis-password": cache.password,
      "mysql-password": database.password,
      "payment-webhook-secret": paymentWebhookSecret,
    };
    this.serviceEnv = {
      PORT: String(config.compute.appPort),
      // No secret here, nor a reference to one: the service reads them from the store at start (SecretStore).
      REDIS_URL: `redis://${cache.host}:${cache.port}`,
      // alicloud_redis_tair_instance (provider v1.289.0) has no argument for Tair's direct-connection mode, so every
      // instance it makes, one shard or many, is reached through Tair's proxy, which routes each hash-tagged command.
      REDIS_MODE: "standalone",
      ...(config.cache.replicaAck === "wait" ? { REDIS_REPLICA_ACK: "1" } : {}),
      MYSQL_URL: `mysql://${database.username}@${database.host}:${database.port}/${database.databaseName}`,
      SECKILL_SECRETS_SOURCE: "oos",
      SECKILL_SECRETS_REGION: config.region,
      SECKILL_SECRETS_ROLE: instanceRoleName(envName),
      SECKILL_SECRETS_PREFIX: secretParameterPrefix(envName),
      ...(config.app.workers !== undefined ? { WORKERS: String(config.app.workers) } : {}),
      ORDER_QUEUE: "rocketmq",
      ROCKETMQ_ENDPOINTS: messaging.vpcEndpoint,
      ROCKETMQ_NAMESPACE: messaging.instanceId,
      ROCKETMQ_TOPIC: messaging.orderTopic,
      ROCKETMQ_EVENTS_TOPIC: messaging.orderEventsTopic,
      ROCKETMQ_CONSUMER_GROUP: messaging.orderWriterGroup,
      NACOS_SERVER_ADDR: registry.serverAddr,
      NACOS_GROUP: envName,
      LOG_LEVEL: config.app.logLevel,
    };

    const appArtifacts = new AppArtifactBucket(this, "app-artifacts", {
      artifact: props.artifact,
      runtime: props.runtime,
      region: config.region,
      envName,
      vpcId: network.vpcId,
    });
    this.userDataProps = {
      envName,
      appPort: config.compute.appPort,
      runtimeUrl: appArtifacts.runtimeUrl,
      runtimeSha256: props.runtime.sha256,
      artifactUrl: appArtifacts.artifactUrl,
      artifactSha256: props.artifact.sha256,
      serviceEnv: this.serviceEnv,
      region: config.region,
      logtailInstallerUrl: observability.logtailInstallerUrl,
      logtailIdentity: observability.machineGroupIdentity,
    };
    this.compute = new Compute(this, "compute", {
      envName,
      ...config.compute,
      appSubnets: network.appSubnets,
      appSecurityGroupId: network.appSecurityGroupId,
      serverGroupId: ingress.serverGroupId,
      userData: renderUserData(this.userDataProps),
      now: config.synthTime,
      deployDuringSale: config.deployDuringSale,
      bootDependsOn: [database.grant],
      egress: network.egress,
      instanceTags: observability.fleetInstanceTags,
    });

    const secretStore = new SecretStore(this, "secret-store", {
      envName,
      region: config.region,
      values: this.secretValues,
      descriptions: {
        "admin-token": "admin API bearer token",
        "user-token-secret": "HMAC key of buyer tokens",
        "redis-password": "Tair password",
        "mysql-password": "PolarDB app account password",
        "payment-webhook-secret": "HMAC key the payment provider signs its callbacks with",
      },
      readerRoleName: this.compute.instanceRoleName,
    });
    // An instance reads its secrets at start: they, and its role's right to read them, exist before it boots.
    this.compute.bootAfter(...secretStore.parameters, secretStore.readPermission);
    observability.watch({
      loadBalancerId: ingress.loadBalancerId,
      tairInstanceId: cache.instanceId,
      tairShardCount: config.cache.shardCount,
      polardbClusterId: database.clusterId,
      rocketmqInstanceId: messaging.instanceId,
      orderWriterGroup: messaging.orderWriterGroup,
    });

    const output = (id: string, value: string, description: string, sensitive = false) =>
      new TerraformOutput(this, id, { value, description, sensitive });
    output("public_url", ingress.publicUrl, "Where shoppers, the sale page and the smoke test reach the service");
    output("alb_dns_name", ingress.dnsName, "The ALB's DNS name (CNAME target)");
    new TerraformOutput(this, "order_rate_limit_per_ip_qps", {
      value: config.ingress.orderRateLimit.perIpQps,
      description: "The ALB's per-client-IP limit on POST /api/sales/*/orders, requests per second (the smoke test pushes past it)",
    });
    new TerraformOutput(this, "order_rate_limit_qps", {
      value: config.ingress.orderRateLimit.qps,
      description:
        "The ALB's limit on POST /api/sales/*/orders for the whole fleet, requests per second (npm run watch shows how close orders run to it)",
    });
    output("sale_page_bucket", salePage.bucketName, "Private OSS bucket holding the sale page");
    if (salePage.pageUrl) output("sale_page_url", salePage.pageUrl, "Where shoppers open the sale page (append ?sale=<id>)");
    if (salePage.cdnCname)
      output("sale_page_cdn_cname", salePage.cdnCname, "The sale page CDN domain's CNAME target (its DNS record points here)");
    output("scaling_group_id", this.compute.scalingGroupId, "ESS scaling group of the app fleet");
    new TerraformOutput(this, "replacing_settings", {
      value: config.replacingSettings,
      description: "The tfvars values whose change replaces resources, as deployed (npm run preflight -- <env> --stack compares them)",
    });
    if (network.egressIp) output("nat_egress_ip", network.egressIp, "Public address the instances reach the internet from (nat_gateway)");
    output("redis_host", cache.host, "Tair private endpoint");
    output("redis_port", cache.port, "Tair port");
    output("mysql_host", database.host, "PolarDB private cluster endpoint");
    output("mysql_port", database.port, "PolarDB port");
    output("mysql_database", database.databaseName, "Database of the orders");
    output("mysql_user", database.username, "App account (ReadWrite on mysql_database only)");
    output("rocketmq_endpoint", messaging.vpcEndpoint, "RocketMQ VPC endpoint (host:port)");
    output("rocketmq_namespace", messaging.instanceId, "RocketMQ namespace (instance id)");
    output("rocketmq_topic", messaging.orderTopic, "Order events topic");
    output("rocketmq_dead_letter_topic", messaging.deadLetterTopic, "Order events the writer gave up on");
    output("rocketmq_consumer_group", messaging.orderWriterGroup, "Order writer consumer group");
    output("log_project", observability.projectName, "SLS project of the fleet's journal (logstore app) and the ALB access log");
    output("nacos_server_addr", registry.serverAddr, "MSE Nacos intranet address");
    output("secrets_prefix", secretStore.prefix, "Name prefix of the OOS encrypted parameters holding the secrets");
    output("redis_password", cache.password, "Tair password", true);
    output("mysql_password", database.password, "PolarDB app account password", true);
    const rotatedNote = "as generated; after a rotation the OOS parameter holds the current one";
    output("admin_token", adminToken, `SECKILL_ADMIN_TOKEN (admin API bearer token), ${rotatedNote}`, true);
    output(
      "user_token_secret",
      userTokenSecret,
      `SECKILL_USER_TOKEN_SECRET (HMAC key the shop's login signs buyer tokens with), ${rotatedNote}`,
      true,
    );
    output(
      "payment_webhook_secret",
      paymentWebhookSecret,
      "SECKILL_PAYMENT_WEBHOOK_SECRET (HMAC key the payment provider signs callbacks with)",
      true,
    );

    Aspects.of(this).add(new DefaultTags({ Project: "seckill", Environment: envName, ManagedBy: "cdktf", ...config.tags }));
    this.node.addValidation(
      new GuardRails(this, {
        vpcCidr: config.network.vpcCidr,
        listenerPorts: ingress.listenerPorts,
        production: config.production,
        dataStoreBilling: config.dataStores.billing,
        remoteState: config.stateBackend !== undefined,
      }),
    );
  }
}
