import { Construct } from "constructs";
import { PolardbAccount } from "../.gen/providers/alicloud/polardb-account";
import { PolardbAccountPrivilege } from "../.gen/providers/alicloud/polardb-account-privilege";
import { PolardbCluster } from "../.gen/providers/alicloud/polardb-cluster";
import { PolardbDatabase } from "../.gen/providers/alicloud/polardb-database";
import type { DatabaseConfig, DataStoreConfig } from "./config";
import type { Subnet } from "./network";
import { Secret } from "./secret";

export const DATABASE_NAME = "seckill";
export const DATABASE_USER = "seckill_app";
/** PolarDB whitelist group names allow only lowercase letters and digits. */
export const WHITELIST_GROUP = "seckillapp";
/**
 * Every cluster has a `default` whitelist group (127.0.0.1: no one). The provider reads it back into
 * db_cluster_ip_array and never deletes it, so leaving it out of the configuration plans a change on every run.
 */
export const CLOSED_DEFAULT_GROUP = { dbClusterIpArrayName: "default", securityIps: ["127.0.0.1"] };

export interface DatabaseProps extends DatabaseConfig, DataStoreConfig {
  readonly envName: string;
  readonly vpcId: string;
  /** The primary goes to the first; the hot standby (when on) to the second. */
  readonly dataSubnets: readonly Subnet[];
  /** The only sources allowed in, with `extraWhitelist`: the app vSwitch CIDRs. */
  readonly appCidrs: readonly string[];
  readonly deletionProtection: boolean;
}

/** PolarDB for MySQL 8.0: orders, the source of truth after the sale. One database, one read-write account on it. */
export class Database extends Construct {
  public readonly clusterId: string;
  /** The private cluster endpoint (read/write splitting; the provider falls back to the primary endpoint). */
  public readonly host: string;
  public readonly port: string;
  public readonly databaseName: string;
  public readonly username: string;
  public readonly password: string;
  /** Depend on this before the app starts: the account can then use the database. */
  public readonly grant: PolardbAccountPrivilege;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const name = `seckill-${props.envName}`;
    const subscription = props.billing === "Subscription";
    this.password = new Secret(this, "password", {
      kind: "password",
      description: "PolarDB password of the app account",
      overrideVariable: "polardb_password",
    }).value;

    const cluster = new PolardbCluster(this, "cluster", {
      description: `${name}-polardb`,
      dbType: "MySQL",
      dbVersion: "8.0",
      creationCategory: "Normal",
      dbNodeClass: props.nodeClass,
      dbNodeCount: props.nodeCount,
      payType: subscription ? "PrePaid" : "PostPaid",
      period: subscription ? props.subscriptionMonths : undefined,
      // A lapsed prepaid cluster is released with its data: renew month by month until ops decide otherwise.
      renewalStatus: subscription ? "AutoRenewal" : undefined,
      autoRenewPeriod: subscription ? 1 : undefined,
      vpcId: props.vpcId,
      vswitchId: props.dataSubnets[0].vswitchId,
      zoneId: props.dataSubnets[0].zoneId,
      hotStandbyCluster: props.hotStandby ? "ON" : "OFF",
      standbyAz: props.hotStandby ? props.dataSubnets[1].zoneId : undefined,
      // The top-level security_ips is deprecated since provider 1.130.0.
      dbClusterIpArray: [
        { dbClusterIpArrayName: WHITELIST_GROUP, securityIps: [...props.appCidrs, ...props.extraWhitelist] },
        CLOSED_DEFAULT_GROUP,
      ],
      // Terraform cannot delete a prepaid cluster at all, and on one provider 1.289.0 answers a deletion_lock by
      // skipping the rest of the update, endpoint read included: the lock is for pay-as-you-go clusters.
      deletionLock: subscription ? undefined : props.deletionProtection ? 1 : 0,
      backupRetentionPolicyOnClusterDeletion: props.deletionProtection ? "LATEST" : "NONE",
      // Creation takes about 50 minutes, the provider's default for both (resource_alicloud_polardb_cluster.go:29-30). Create
      // waits for Running under the *update* timeout (:599) and only then sets deletion_lock (:654, :1055): a timeout there
      // taints a running cluster that never got its lock.
      timeouts: { create: "120m", update: "120m" },
    });
    this.clusterId = cluster.id;
    this.host = cluster.connectionString;
    this.port = cluster.port;

    const database = new PolardbDatabase(this, "database", {
      dbClusterId: cluster.id,
      dbName: DATABASE_NAME,
      characterSetName: "utf8mb4",
      dbDescription: `seckill ${props.envName} orders`,
    });
    const account = new PolardbAccount(this, "account", {
      dbClusterId: cluster.id,
      accountName: DATABASE_USER,
      accountPassword: this.password,
      accountType: "Normal",
      accountDescription: `seckill ${props.envName} app`,
    });
    this.grant = new PolardbAccountPrivilege(this, "grant", {
      dbClusterId: cluster.id,
      accountName: account.accountName,
      accountPrivilege: "ReadWrite",
      dbNames: [database.dbName],
    });
    this.databaseName = database.dbName;
    this.username = account.accountName;
  }
}
