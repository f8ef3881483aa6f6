/**
 * The secret store of a service started on this machine, as an instance sees it: the data stores want passwords
 * (a Redis ACL user and a MariaDB user of the run's own, on the local servers), and those passwords, the admin token
 * and the buyer-token key are only in the OOS double, which the service reaches with the STS credentials of its
 * role from the metadata double. The service's environment names where they are, never what they are.
 */
import { randomBytes } from "node:crypto";
import Redis from "ioredis";
import mysql from "mysql2/promise";
import type { ServiceEnvironment } from "../../contract/service-env";
import type { Scratch } from "../../scripts/lib/local-services";
import { startOosSecretsDouble, type OosSecretsDouble } from "../doubles/oos-secrets-double";

export const STORE_REGION = "cn-hangzhou";
export const STORE_ROLE = "seckill-local-ecs";
/** A role attached too, allowed to read none of the store. */
export const UNPRIVILEGED_ROLE = "seckill-other-ecs";

export interface LocalSecretStore {
  /** REDIS_URL and MYSQL_URL without passwords, and SECKILL_SECRETS_* pointing at the doubles. */
  readonly env: ServiceEnvironment & { readonly REDIS_URL: string; readonly MYSQL_URL: string };
  readonly adminToken: string;
  readonly userTokenSecret: string;
  /** Every secret value the store holds, for tests that look for a leak. */
  readonly values: readonly string[];
  readonly double: OosSecretsDouble;
  /** Removes the users and stops the doubles. */
  dispose(): Promise<void>;
}

export interface LocalSecretStoreOptions {
  /** The admin token the store holds (default: random). */
  readonly adminToken?: string;
  /** The buyer-token key the store holds (default: random). */
  readonly userTokenSecret?: string;
  /** The parameter prefix under seckill/ (default `seckill/local/`). */
  readonly prefix?: string;
}

export async function startLocalSecretStore(
  scratch: Scratch,
  redisServerUrl: string,
  mysqlServerUrl: string,
  options: LocalSecretStoreOptions = {},
): Promise<LocalSecretStore> {
  const user = `seckill_${randomBytes(4).toString("hex")}`;
  const secret = () => randomBytes(24).toString("base64url");
  const redisPassword = secret();
  const mysqlPassword = secret();
  const adminToken = options.adminToken ?? secret();
  const userTokenSecret = options.userTokenSecret ?? secret();
  const paymentWebhookSecret = secret();
  const prefix = options.prefix ?? "seckill/local/";

  const redis = new Redis(redisServerUrl, { maxRetriesPerRequest: 1 });
  try {
    await redis.call("ACL", "SETUSER", user, "on", `>${redisPassword}`, "~*", "&*", "+@all");
  } finally {
    redis.disconnect();
  }
  const admin = await mysql.createConnection({ uri: mysqlServerUrl, connectTimeout: 2000 });
  try {
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, mysqlPassword]);
    await admin.query(`GRANT ALL ON \`${scratch.database}\`.* TO ?@'%'`, [user]);
  } finally {
    await admin.end();
  }

  const double = await startOosSecretsDouble({
    region: STORE_REGION,
    roles: { [STORE_ROLE]: ["seckill/*"], [UNPRIVILEGED_ROLE]: [] },
    parameters: {
      [`${prefix}admin-token`]: adminToken,
      [`${prefix}user-token-secret`]: userTokenSecret,
      [`${prefix}redis-password`]: redisPassword,
      [`${prefix}mysql-password`]: mysqlPassword,
      [`${prefix}payment-webhook-secret`]: paymentWebhookSecret,
    },
  });
  const redisUrl = new URL(scratch.redisUrl);
  redisUrl.username = user;
  const mysqlUrl = new URL(scratch.mysqlUrl);
  mysqlUrl.username = user;
  mysqlUrl.password = "";
  return {
    env: {
      REDIS_URL: redisUrl.toString(),
      MYSQL_URL: mysqlUrl.toString(),
      SECKILL_SECRETS_SOURCE: "oos",
      SECKILL_SECRETS_REGION: STORE_REGION,
      SECKILL_SECRETS_ROLE: STORE_ROLE,
      SECKILL_SECRETS_PREFIX: prefix,
      SECKILL_SECRETS_ENDPOINT: double.oosEndpoint,
      SECKILL_SECRETS_METADATA_HOST: double.metadataHost,
    },
    adminToken,
    userTokenSecret,
    values: [adminToken, userTokenSecret, redisPassword, mysqlPassword],
    double,
    dispose: async () => {
      await double.close();
      const cleanup = new Redis(redisServerUrl, { maxRetriesPerRequest: 1 });
      try {
        await cleanup.call("ACL", "DELUSER", user);
      } finally {
        cleanup.disconnect();
      }
      const connection = await mysql.createConnection({ uri: mysqlServerUrl, connectTimeout: 2000 });
      try {
        await connection.query("DROP USER IF EXISTS ?@'%'", [user]);
      } finally {
        await connection.end();
      }
    },
  };
}
