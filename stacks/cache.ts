import { Construct } from "constructs";
import { Token } from "cdktf";
import { RedisTairInstance } from "../.gen/providers/alicloud/redis-tair-instance";
import type { CacheConfig, DataStoreConfig } from "./config";
import type { Subnet } from "./network";
import { Secret } from "./secret";

export interface CacheProps extends CacheConfig, DataStoreConfig {
  readonly envName: string;
  readonly vpcId: string;
  /** The primary node goes to the first, its replica to the second. */
  readonly dataSubnets: readonly Subnet[];
  /** The only sources allowed in, with `extraWhitelist`: the app vSwitch CIDRs. */
  readonly appCidrs: readonly string[];
}

/**
 * Tair (Redis 7.0 compatible, memory-enhanced) master-replica across two zones: stock counters, buyers, the order
 * stream. Pay-as-you-go by default: the provider's default is Subscription, which Terraform cannot destroy.
 */
export class Cache extends Construct {
  public readonly instanceId: string;
  public readonly host: string;
  public readonly port: string;
  public readonly password: string;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const name = `seckill-${props.envName}`;
    const subscription = props.billing === "Subscription";
    this.password = new Secret(this, "password", {
      kind: "password",
      description: "Tair password",
      overrideVariable: "tair_password",
    }).value;

    const tair = new RedisTairInstance(this, "tair", {
      tairInstanceName: `${name}-tair`,
      // Memory-optimized, also as a cluster: the provider's docs still say shard_count > 1 needs tair_scm (an older API
      // text), but its own example pairs tair_rdb with shard_count 2, and Tair's cloud-native memory-optimized classes
      // (tair.rdb.*) are per shard, in standard or cluster architecture, their shard count adjustable in place.
      instanceType: "tair_rdb",
      engineVersion: "7.0",
      instanceClass: props.instanceClass,
      shardCount: props.shardCount,
      nodeType: "MASTER_SLAVE",
      paymentType: props.billing,
      period: subscription ? props.subscriptionMonths : undefined,
      // A lapsed prepaid instance is released with its data: renew month by month until ops decide otherwise.
      autoRenew: subscription ? "true" : undefined,
      autoRenewPeriod: subscription ? "1" : undefined,
      vpcId: props.vpcId,
      vswitchId: props.dataSubnets[0].vswitchId,
      zoneId: props.dataSubnets[0].zoneId,
      secondaryZoneId: props.dataSubnets[1].zoneId,
      vpcAuthMode: "Open",
      password: this.password,
      securityIps: [...props.appCidrs, ...props.extraWhitelist].join(","),
      // Stock counters and buyer sets must never be evicted under memory pressure: fail writes instead.
      config: { "maxmemory-policy": "noeviction" },
      // Where the service cannot WAIT for the replica (a cluster, behind proxies), the replica acknowledges every write.
      paramReplMode: props.replicaAck === "semisync" ? "semisync" : undefined,
      // Creation takes up to an hour, the provider's default (resource_alicloud_redis_tair_instance.go:28-29): a create that
      // ran a little long would leave a tainted instance for the next deploy to destroy.
      timeouts: { create: "90m", update: "90m" },
    });
    this.instanceId = tair.id;
    this.host = tair.connectionDomain;
    this.port = Token.asString(tair.port);
  }
}
