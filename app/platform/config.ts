import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { formatIssues } from "../../contract/config-issues";
import { LOG_LEVELS, type LogLevel } from "../../contract/log-levels";
import type { ServiceEnvVar } from "../../contract/service-env";
import { DEFAULT_USER_TOKEN_MAX_TTL_SECONDS, type PreviousUserTokenSecret } from "../http/auth";
import type { NacosConnection } from "./nacos";
import type { RocketMqConnection } from "../orders/rocketmq-client";

export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls: boolean;
  /** Prepended to every key, so several deployments (or test runs) can share one Redis. */
  readonly keyPrefix: string;
  /** REDIS_MODE: `cluster` treats host:port as a seed node of a Redis Cluster (Tair direct connection). */
  readonly mode: "standalone" | "cluster";
}

export interface MysqlConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface RocketMqOrderQueue {
  readonly connection: RocketMqConnection;
  /** The order topic the relay publishes to (other systems may subscribe too). */
  readonly topic: string;
  /** Where order state changes go for other systems (see order-events.ts). */
  readonly eventsTopic: string;
  /** The order writer's consumer group; its retry limit and dead-letter topic are set on the broker. */
  readonly consumerGroup: string;
}

export interface Config {
  readonly port: number;
  readonly redis: RedisConnection;
  /** REDIS_REPLICA_ACK=1: an order is answered 202 only once a replica has it (WAIT 1 <timeoutMs>). */
  readonly redisReplicaAck: { readonly timeoutMs: number } | undefined;
  /** ORDER_BATCH_WAIT_US: how long an order may wait for others to share its script call (0: the same event-loop turn). */
  readonly orderBatchWaitMicros: number;
  readonly mysql: MysqlConnection;
  readonly adminToken: string;
  readonly userTokenSecret: string;
  /** Accepted alongside userTokenSecret while the shop's login moves to a new secret, until the overlap ends. */
  readonly userTokenPreviousSecret: PreviousUserTokenSecret | undefined;
  /** How far ahead a buyer token's expiry may lie. */
  readonly userTokenMaxTtlSeconds: number;
  /** Key of the payment provider's callback signatures; undefined: the callback is not served. */
  readonly paymentWebhookSecret: string | undefined;
  readonly workers: number;
  readonly orderQueue: "redis" | "rocketmq";
  /** Present exactly when orderQueue is "rocketmq". */
  readonly rocketmq: RocketMqOrderQueue | undefined;
  /** Live settings and registration; undefined without NACOS_SERVER_ADDR (environment defaults, no registration). */
  readonly nacos: NacosConnection | undefined;
  readonly logLevel: LogLevel;
  /** The sale page's directory, served at `/`; undefined on the ECS fleet, where the CDN serves the page. */
  readonly webRoot: string | undefined;
}

/** Where the secrets come from: the environment, or OOS encrypted parameters read with the instance RAM role. */
export type SecretsSource =
  | { readonly source: "env" }
  | {
      readonly source: "oos";
      readonly region: string;
      readonly role: string;
      /** Parameter names are this plus the names in SECRET_PARAMETERS. */
      readonly prefix: string;
      readonly endpoint: URL;
      readonly metadataHost: string;
    };

export class ServiceConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ServiceConfigError";
  }
}

const DEFAULT_KEY_PREFIX = "seckill:";
/** Braces would change the Redis Cluster hash slot of every key, so the prefix may not contain them. */
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{0,64}$/;
const DATABASE_NAME_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
const MIN_SECRET_LENGTH = 32;

const requiredString = z.string({
  error: (issue) => (issue.input === undefined ? "is required" : "must be a string"),
});

const secret = requiredString.min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`);
/** An optional secret: unset or empty (what the stacks write when there is none) means none. */
const optionalSecret = z
  .string()
  .optional()
  .transform((raw) => (raw === "" ? undefined : raw))
  .pipe(z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional());

function integerIn<Fallback extends number | undefined>(min: number, max: number, fallback: Fallback) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === "") return fallback;
      const value = Number(raw);
      if (!/^\d+$/.test(raw) || value < min || value > max) {
        ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}, got "${raw}"` });
        return z.NEVER;
      }
      return value;
    });
}

function parseUrl(raw: string, protocols: readonly string[], ctx: z.RefinementCtx): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: "custom", message: "is not a valid URL" });
    return undefined;
  }
  if (!protocols.includes(url.protocol)) {
    ctx.addIssue({ code: "custom", message: `must start with ${protocols.map((p) => `${p}//`).join(" or ")}` });
    return undefined;
  }
  if (!url.hostname) {
    ctx.addIssue({ code: "custom", message: "must name a host" });
    return undefined;
  }
  return url;
}

const redisUrl = requiredString.transform((raw, ctx): Omit<RedisConnection, "mode"> => {
  const url = parseUrl(raw, ["redis:", "rediss:"], ctx);
  if (!url) return z.NEVER;
  const unknownParams = [...url.searchParams.keys()].filter((key) => key !== "keyPrefix");
  if (unknownParams.length > 0) {
    ctx.addIssue({ code: "custom", message: `only the keyPrefix query parameter is supported, got ${unknownParams.join(", ")}` });
    return z.NEVER;
  }
  const keyPrefix = url.searchParams.get("keyPrefix") ?? DEFAULT_KEY_PREFIX;
  if (!KEY_PREFIX_PATTERN.test(keyPrefix)) {
    ctx.addIssue({ code: "custom", message: "keyPrefix may only contain letters, digits and : _ . - (at most 64)" });
    return z.NEVER;
  }
  const dbPath = url.pathname.replace(/^\//, "");
  if (dbPath !== "" && !/^\d{1,2}$/.test(dbPath)) {
    ctx.addIssue({ code: "custom", message: `the path must be a database number, got "/${dbPath}"` });
    return z.NEVER;
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: dbPath === "" ? 0 : Number(dbPath),
    tls: url.protocol === "rediss:",
    keyPrefix,
  };
});

const mysqlUrl = requiredString.transform((raw, ctx): MysqlConnection => {
  const url = parseUrl(raw, ["mysql:"], ctx);
  if (!url) return z.NEVER;
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!DATABASE_NAME_PATTERN.test(database)) {
    ctx.addIssue({ code: "custom", message: "must name the database as mysql://user:pass@host:port/db (letters, digits, _)" });
    return z.NEVER;
  }
  if (!url.username) {
    ctx.addIssue({ code: "custom", message: "must name a user as mysql://user:pass@host:port/db" });
    return z.NEVER;
  }
  if (url.search) {
    ctx.addIssue({ code: "custom", message: "query parameters are not supported" });
    return z.NEVER;
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  };
});

const hasPage = (dir: string) => existsSync(join(dir, "index.html"));

/** WEB_ROOT, else web/ under the working directory (a repository checkout) when it holds the page. */
const webRoot = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === "") {
      const checkout = join(process.cwd(), "web");
      return hasPage(checkout) ? checkout : undefined;
    }
    if (!hasPage(resolve(raw))) {
      ctx.addIssue({ code: "custom", message: `must be a directory holding index.html, got "${raw}"` });
      return z.NEVER;
    }
    return resolve(raw);
  });

/** host:port, as the stack's outputs give the RocketMQ VPC endpoint and the MSE Nacos address. */
const hostPort = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === "") return undefined;
    const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      ctx.addIssue({ code: "custom", message: `must be host:port, got "${raw}"` });
      return z.NEVER;
    }
    return raw;
  });

/** An optional name of at most `max` characters from `pattern`'s alphabet (described for the error message). */
function optionalName(pattern: RegExp, alphabet: string, max = 64) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === "") return undefined;
      if (raw.length > max || !pattern.test(raw)) {
        ctx.addIssue({ code: "custom", message: `must be 1 to ${max} characters of ${alphabet}, got "${raw}"` });
        return z.NEVER;
      }
      return raw;
    });
}

/** An ISO 8601 time with its zone (what OOS answers as UpdatedDate), as epoch milliseconds. */
const optionalTime = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === "") return undefined;
    const ms = Date.parse(raw);
    if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(ms)) {
      ctx.addIssue({ code: "custom", message: `must be an ISO 8601 time with a zone such as 2026-12-07T18:00:00Z, got "${raw}"` });
      return z.NEVER;
    }
    return ms;
  });

/** An optional http(s) URL. */
const optionalHttpUrl = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === "") return undefined;
    return parseUrl(raw, ["https:", "http:"], ctx) ?? z.NEVER;
  });

const rocketMqName = optionalName(/^[A-Za-z0-9_%-]+$/, "letters, digits, _ % -");
const nacosName = optionalName(/^[A-Za-z0-9_.:-]+$/, "letters, digits, _ . : -", 128);
const regionName = optionalName(/^[a-z]{2,}(-[a-z0-9]+)+$/, "a region id such as cn-hangzhou");
const ramRoleName = optionalName(/^[A-Za-z0-9.-]+$/, "letters, digits, . -");
const parameterPrefix = optionalName(/^([A-Za-z0-9_-]+\/)+$/, "/-separated names of letters, digits, _ -, ending with /", 160);
const metadataHost = optionalName(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "host or host:port");
const optionalPassword = z
  .string()
  .optional()
  .transform((raw) => (raw === "" ? undefined : raw));

/** One rule per variable of the contract: a variable the stacks set but the service ignores does not compile. */
const variables = {
  PORT: integerIn(1, 65535, 8080),
  REDIS_URL: redisUrl,
  REDIS_REPLICA_ACK: z.enum(["0", "1"], { error: 'must be "0" or "1"' }).default("0"),
  REDIS_REPLICA_ACK_TIMEOUT_MS: integerIn(1, 1000, 50),
  REDIS_MODE: z.enum(["standalone", "cluster"], { error: 'must be "standalone" or "cluster"' }).default("standalone"),
  ORDER_BATCH_WAIT_US: integerIn(0, 1000, 0),
  MYSQL_URL: mysqlUrl,
  REDIS_PASSWORD: optionalPassword,
  MYSQL_PASSWORD: optionalPassword,
  SECKILL_ADMIN_TOKEN: secret,
  SECKILL_USER_TOKEN_SECRET: secret,
  SECKILL_USER_TOKEN_SECRET_PREVIOUS: optionalSecret,
  SECKILL_USER_TOKEN_SECRET_ROTATED_AT: optionalTime,
  SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS: integerIn(0, 7 * 86_400, undefined),
  SECKILL_USER_TOKEN_MAX_TTL_SECONDS: integerIn(60, 7 * 86_400, DEFAULT_USER_TOKEN_MAX_TTL_SECONDS),
  SECKILL_SECRETS_SOURCE: z.enum(["env", "oos"], { error: 'must be "env" or "oos"' }).default("env"),
  SECKILL_SECRETS_REGION: regionName,
  SECKILL_SECRETS_ROLE: ramRoleName,
  SECKILL_SECRETS_PREFIX: parameterPrefix,
  SECKILL_SECRETS_ENDPOINT: optionalHttpUrl,
  SECKILL_SECRETS_METADATA_HOST: metadataHost,
  SECKILL_PAYMENT_WEBHOOK_SECRET: optionalSecret,
  WORKERS: integerIn(1, 256, availableParallelism()),
  ORDER_QUEUE: z.enum(["redis", "rocketmq"], { error: 'must be "redis" or "rocketmq"' }).default("redis"),
  ROCKETMQ_ENDPOINTS: hostPort,
  ROCKETMQ_NAMESPACE: rocketMqName,
  ROCKETMQ_TOPIC: rocketMqName,
  ROCKETMQ_EVENTS_TOPIC: rocketMqName,
  ROCKETMQ_CONSUMER_GROUP: rocketMqName,
  ROCKETMQ_USERNAME: z.string().optional(),
  ROCKETMQ_PASSWORD: z.string().optional(),
  NACOS_SERVER_ADDR: hostPort,
  NACOS_GROUP: nacosName,
  NACOS_NAMESPACE: nacosName,
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  WEB_ROOT: webRoot,
} satisfies Record<ServiceEnvVar, z.ZodType>;

type Variables = z.output<z.ZodObject<typeof variables>>;

function needsFor(vars: Partial<Variables>, ctx: z.RefinementCtx) {
  return (variable: keyof Variables, because: string) => {
    if (vars[variable] === undefined) ctx.addIssue({ code: "custom", path: [variable], message: `is required ${because}` });
  };
}

const SECRETS_SOURCE_VARIABLES = {
  SECKILL_SECRETS_SOURCE: variables.SECKILL_SECRETS_SOURCE,
  SECKILL_SECRETS_REGION: variables.SECKILL_SECRETS_REGION,
  SECKILL_SECRETS_ROLE: variables.SECKILL_SECRETS_ROLE,
  SECKILL_SECRETS_PREFIX: variables.SECKILL_SECRETS_PREFIX,
  SECKILL_SECRETS_ENDPOINT: variables.SECKILL_SECRETS_ENDPOINT,
  SECKILL_SECRETS_METADATA_HOST: variables.SECKILL_SECRETS_METADATA_HOST,
};

const secretsSourceEnvironment = z.object(SECRETS_SOURCE_VARIABLES).superRefine((vars, ctx) => {
  if (vars.SECKILL_SECRETS_SOURCE !== "oos") return;
  const needs = needsFor(vars, ctx);
  for (const variable of ["SECKILL_SECRETS_REGION", "SECKILL_SECRETS_ROLE", "SECKILL_SECRETS_PREFIX"] as const)
    needs(variable, "when SECKILL_SECRETS_SOURCE=oos");
});

/** Reads where the secrets come from (SECKILL_SECRETS_*); throws ServiceConfigError naming every bad variable. */
export function loadSecretsSource(env: NodeJS.ProcessEnv = process.env): SecretsSource {
  const parsed = secretsSourceEnvironment.safeParse(env);
  if (!parsed.success) throw new ServiceConfigError(formatIssues(parsed.error.issues));
  const vars = parsed.data;
  if (vars.SECKILL_SECRETS_SOURCE === "env") return { source: "env" };
  const region = vars.SECKILL_SECRETS_REGION!;
  return {
    source: "oos",
    region,
    role: vars.SECKILL_SECRETS_ROLE!,
    prefix: vars.SECKILL_SECRETS_PREFIX!,
    // OOS's VPC endpoint: the instances reach it with no way out to the internet.
    endpoint: vars.SECKILL_SECRETS_ENDPOINT ?? new URL(`https://oos-vpc.${region}.aliyuncs.com`),
    metadataHost: vars.SECKILL_SECRETS_METADATA_HOST ?? "100.100.100.200",
  };
}

const environment = z.object(variables).superRefine((vars, ctx) => {
  const needs = needsFor(vars, ctx);
  if (vars.ORDER_QUEUE === "rocketmq") {
    for (const variable of ["ROCKETMQ_ENDPOINTS", "ROCKETMQ_TOPIC", "ROCKETMQ_EVENTS_TOPIC", "ROCKETMQ_CONSUMER_GROUP"] as const)
      needs(variable, "when ORDER_QUEUE=rocketmq");
  }
  if (vars.REDIS_MODE === "cluster" && vars.REDIS_URL.db !== 0) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message: "must not name a database with REDIS_MODE=cluster (a cluster has only database 0)",
    });
  }
  if (vars.REDIS_MODE === "cluster" && vars.REDIS_REPLICA_ACK === "1") {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_REPLICA_ACK"],
      message: "is not supported with REDIS_MODE=cluster (a WAIT would reach one shard, not the one that took the unit)",
    });
  }
  if (vars.ROCKETMQ_USERNAME) needs("ROCKETMQ_PASSWORD", "with ROCKETMQ_USERNAME");
  if (vars.ROCKETMQ_PASSWORD) needs("ROCKETMQ_USERNAME", "with ROCKETMQ_PASSWORD");
  if (vars.NACOS_SERVER_ADDR) needs("NACOS_GROUP", "with NACOS_SERVER_ADDR");
  if (vars.SECKILL_USER_TOKEN_SECRET_PREVIOUS !== undefined)
    needs("SECKILL_USER_TOKEN_SECRET_ROTATED_AT", "with SECKILL_USER_TOKEN_SECRET_PREVIOUS");
  if (vars.REDIS_PASSWORD !== undefined && vars.REDIS_URL?.password !== undefined) {
    ctx.addIssue({ code: "custom", path: ["REDIS_PASSWORD"], message: "is set while REDIS_URL carries a password too: keep one" });
  }
  if (vars.MYSQL_PASSWORD !== undefined && vars.MYSQL_URL?.password) {
    ctx.addIssue({ code: "custom", path: ["MYSQL_PASSWORD"], message: "is set while MYSQL_URL carries a password too: keep one" });
  }
  if (vars.SECKILL_USER_TOKEN_SECRET_PREVIOUS !== undefined && vars.SECKILL_USER_TOKEN_SECRET_PREVIOUS === vars.SECKILL_USER_TOKEN_SECRET) {
    ctx.addIssue({
      code: "custom",
      path: ["SECKILL_USER_TOKEN_SECRET_PREVIOUS"],
      message: "must differ from SECKILL_USER_TOKEN_SECRET (it is the secret being rotated out)",
    });
  }
});

/** Reads the service configuration; throws ServiceConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    throw new ServiceConfigError(formatIssues(parsed.error.issues));
  }
  const vars = parsed.data;
  const overlapSeconds = vars.SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS ?? vars.SECKILL_USER_TOKEN_MAX_TTL_SECONDS;
  return {
    port: vars.PORT,
    redis: { ...vars.REDIS_URL, password: vars.REDIS_URL.password ?? vars.REDIS_PASSWORD, mode: vars.REDIS_MODE },
    redisReplicaAck: vars.REDIS_REPLICA_ACK === "1" ? { timeoutMs: vars.REDIS_REPLICA_ACK_TIMEOUT_MS } : undefined,
    orderBatchWaitMicros: vars.ORDER_BATCH_WAIT_US,
    mysql: { ...vars.MYSQL_URL, password: vars.MYSQL_URL.password || (vars.MYSQL_PASSWORD ?? "") },
    adminToken: vars.SECKILL_ADMIN_TOKEN,
    userTokenSecret: vars.SECKILL_USER_TOKEN_SECRET,
    userTokenPreviousSecret:
      vars.SECKILL_USER_TOKEN_SECRET_PREVIOUS === undefined
        ? undefined
        : {
            secret: vars.SECKILL_USER_TOKEN_SECRET_PREVIOUS,
            acceptedUntilMs: vars.SECKILL_USER_TOKEN_SECRET_ROTATED_AT! + overlapSeconds * 1000,
          },
    userTokenMaxTtlSeconds: vars.SECKILL_USER_TOKEN_MAX_TTL_SECONDS,
    paymentWebhookSecret: vars.SECKILL_PAYMENT_WEBHOOK_SECRET,
    workers: vars.WORKERS,
    orderQueue: vars.ORDER_QUEUE,
    rocketmq:
      vars.ORDER_QUEUE === "rocketmq"
        ? {
            connection: {
              endpoints: vars.ROCKETMQ_ENDPOINTS!,
              namespace: vars.ROCKETMQ_NAMESPACE ?? "",
              credentials: vars.ROCKETMQ_USERNAME ? { username: vars.ROCKETMQ_USERNAME, password: vars.ROCKETMQ_PASSWORD! } : undefined,
            },
            topic: vars.ROCKETMQ_TOPIC!,
            eventsTopic: vars.ROCKETMQ_EVENTS_TOPIC!,
            consumerGroup: vars.ROCKETMQ_CONSUMER_GROUP!,
          }
        : undefined,
    nacos: vars.NACOS_SERVER_ADDR
      ? { serverAddr: vars.NACOS_SERVER_ADDR, group: vars.NACOS_GROUP!, namespace: vars.NACOS_NAMESPACE }
      : undefined,
    logLevel: vars.LOG_LEVEL,
    webRoot: vars.WEB_ROOT,
  };
}

/** Redis and MySQL alone (REDIS_URL, REDIS_MODE, MYSQL_URL), for operator tools that reach the data tier as the service does. */
export function loadDataTierConfig(env: NodeJS.ProcessEnv = process.env): { redis: RedisConnection; mysql: MysqlConnection } {
  const parsed = z.object({ REDIS_URL: redisUrl, REDIS_MODE: variables.REDIS_MODE, MYSQL_URL: mysqlUrl }).safeParse(env);
  if (!parsed.success) throw new ServiceConfigError(formatIssues(parsed.error.issues));
  return { redis: { ...parsed.data.REDIS_URL, mode: parsed.data.REDIS_MODE }, mysql: parsed.data.MYSQL_URL };
}
