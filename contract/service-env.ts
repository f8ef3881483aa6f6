/**
 * The service's environment: every variable it reads, with what an operator needs to know about it. The stacks
 * set these in the user data (typed by {@link ServiceEnvironment}, so a misspelt name does not compile), the
 * service parses them (app/platform/config.ts must give each one a rule), and the README's table is generated
 * from here (`npm run docs`).
 */
import { LOG_LEVELS } from "./log-levels";

export const SERVICE_ENV = {
  PORT: "HTTP port (default 8080)",
  REDIS_URL: "`redis://[:password@]host:port[/db][?keyPrefix=<prefix>]` (default prefix `seckill:`)",
  REDIS_MODE:
    "`standalone` (default; also Tair in proxy mode, whose proxy routes each hash-tagged script) or `cluster`: `REDIS_URL` names one seed node of a Redis Cluster (Tair direct connection) and the service follows the cluster's slot map",
  ORDER_BATCH_WAIT_US:
    "how long an order may wait, in microseconds (0 to 1000), for more orders of the same sale to share its Redis script call; default 0: only orders that arrive in the same event-loop turn share one",
  REDIS_REPLICA_ACK:
    "`1`: answer an order 202 only once a replica has it (`WAIT 1`), else 503 `outcome_unknown`; needs a connection WAIT reaches (see below). Default `0`",
  REDIS_REPLICA_ACK_TIMEOUT_MS: "how long an order waits for the replica with `REDIS_REPLICA_ACK=1`, 1 to 1000 (default 50)",
  MYSQL_URL: "`mysql://user[:password]@host:port/database`",
  REDIS_PASSWORD: "Tair password, when `REDIS_URL` carries none (what the secret store fills in)",
  MYSQL_PASSWORD: "PolarDB password, when `MYSQL_URL` carries none (what the secret store fills in)",
  SECKILL_ADMIN_TOKEN: "admin API bearer token, at least 32 characters",
  SECKILL_USER_TOKEN_SECRET:
    "HMAC-SHA256 key of buyer tokens (`<userId>.<expiresAt>.<base64url sig>`, expiresAt in epoch seconds), at least 32 characters",
  SECKILL_USER_TOKEN_SECRET_PREVIOUS:
    "the buyer-token key being rotated out (optional, at least 32 characters): tokens it signed stay valid for `SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS` after `SECKILL_USER_TOKEN_SECRET_ROTATED_AT`",
  SECKILL_USER_TOKEN_SECRET_ROTATED_AT:
    "when `SECKILL_USER_TOKEN_SECRET` replaced the previous key (ISO 8601 time); required with `SECKILL_USER_TOKEN_SECRET_PREVIOUS`",
  SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS:
    "how long after a rotation tokens signed with the previous key stay valid, 0 to 604800 (default: `SECKILL_USER_TOKEN_MAX_TTL_SECONDS`, so no token is cut short)",
  SECKILL_USER_TOKEN_MAX_TTL_SECONDS:
    "how far ahead a buyer token's expiry may lie; tokens expiring later are refused (default 86400, one day)",
  SECKILL_SECRETS_SOURCE:
    "`env` (default: the secrets are the variables above) or `oos`: at start the service reads them from OOS encrypted parameters with the instance RAM role",
  SECKILL_SECRETS_REGION: "region of the OOS parameters; required with `SECKILL_SECRETS_SOURCE=oos`",
  SECKILL_SECRETS_ROLE: "the instance RAM role whose STS credentials read them; required with `SECKILL_SECRETS_SOURCE=oos`",
  SECKILL_SECRETS_PREFIX:
    "the parameters' common name prefix (`seckill/<env>/`): `admin-token`, `user-token-secret`, `redis-password`, `mysql-password`, `payment-webhook-secret` follow it; required with `SECKILL_SECRETS_SOURCE=oos`",
  SECKILL_SECRETS_ENDPOINT: "the OOS API endpoint URL (default the VPC endpoint `https://oos-vpc.<region>.aliyuncs.com`)",
  SECKILL_SECRETS_METADATA_HOST:
    "host[:port] of the instance metadata service the role's credentials come from (default `100.100.100.200`; tests point it at a double)",
  SECKILL_PAYMENT_WEBHOOK_SECRET:
    "HMAC-SHA256 key the payment provider signs `POST /payments/callback` with (README: After the order), at least 32 characters; unset: the callback answers 404",
  WORKERS: "HTTP worker processes (default: one per CPU)",
  ORDER_QUEUE: "`redis` (default: the order writer reads the Redis stream) or `rocketmq` (what the stacks set)",
  ROCKETMQ_ENDPOINTS: "RocketMQ endpoint (`host:port`); required with `ORDER_QUEUE=rocketmq`",
  ROCKETMQ_NAMESPACE: "RocketMQ namespace (the instance id on Alibaba Cloud; empty for an open-source cluster)",
  ROCKETMQ_TOPIC: "order topic; required with `ORDER_QUEUE=rocketmq`",
  ROCKETMQ_EVENTS_TOPIC: "order-events topic (confirmed, paid, expired) for other systems; required with `ORDER_QUEUE=rocketmq`",
  ROCKETMQ_CONSUMER_GROUP: "the order writer's consumer group; required with `ORDER_QUEUE=rocketmq`",
  ROCKETMQ_USERNAME: "RocketMQ user, when the instance wants credentials (with `ROCKETMQ_PASSWORD`)",
  ROCKETMQ_PASSWORD: "RocketMQ password (with `ROCKETMQ_USERNAME`)",
  NACOS_SERVER_ADDR: "MSE Nacos address (`host:port`); unset: environment defaults, no registration",
  NACOS_GROUP: "Nacos config group and registration group (the environment name); required with `NACOS_SERVER_ADDR`",
  NACOS_NAMESPACE: "Nacos namespace (default: the public one)",
  LOG_LEVEL: `${LOG_LEVELS.map((level) => `\`${level}\``).join(", ")} (default \`info\`)`,
  WEB_ROOT: "directory of the sale page served at `/` (default: `web/` in the working directory, when present)",
} as const;

export type ServiceEnvVar = keyof typeof SERVICE_ENV;

/** What a deployment sets: any of the variables, each a string (a Terraform expression in the stacks). */
export type ServiceEnvironment = { readonly [Name in ServiceEnvVar]?: string };

export const SERVICE_ENV_VARS = Object.keys(SERVICE_ENV) as ServiceEnvVar[];

/**
 * The secrets a deployment keeps in its secret store (SECKILL_SECRETS_SOURCE=oos): each parameter, named
 * SECKILL_SECRETS_PREFIX plus the key here, fills the variable it maps to. The stacks create exactly these.
 */
export const SECRET_PARAMETERS = {
  "admin-token": "SECKILL_ADMIN_TOKEN",
  "user-token-secret": "SECKILL_USER_TOKEN_SECRET",
  "redis-password": "REDIS_PASSWORD",
  "mysql-password": "MYSQL_PASSWORD",
  "payment-webhook-secret": "SECKILL_PAYMENT_WEBHOOK_SECRET",
} as const satisfies Record<string, ServiceEnvVar>;

export type SecretParameter = keyof typeof SECRET_PARAMETERS;

/** The parameter whose previous version is the buyer-token key being rotated out. */
export const ROTATING_SECRET_PARAMETER: SecretParameter = "user-token-secret";

/** The store's name prefix of an environment's parameters (SECKILL_SECRETS_PREFIX). */
export function secretParameterPrefix(envName: string): string {
  return `seckill/${envName}/`;
}
