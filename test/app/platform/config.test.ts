import { loadConfig, loadSecretsSource } from "../../../app/platform/config";
import { problemsOf } from "../support/config-problems";

const valid = {
  REDIS_URL: "redis://127.0.0.1:6379",
  MYSQL_URL: "mysql://seckill:p%40ss@db.internal:3307/seckill",
  SECKILL_ADMIN_TOKEN: "a".repeat(32),
  SECKILL_USER_TOKEN_SECRET: "s".repeat(32),
};

describe("loadConfig", () => {
  it("reads a complete environment and applies the documented defaults", () => {
    const config = loadConfig(valid);
    expect(config.port).toBe(8080);
    expect(config.orderQueue).toBe("redis");
    expect(config.logLevel).toBe("info");
    expect(config.workers).toBeGreaterThanOrEqual(1);
    expect(config.redis).toEqual({
      host: "127.0.0.1",
      port: 6379,
      db: 0,
      tls: false,
      keyPrefix: "seckill:",
      username: undefined,
      password: undefined,
      mode: "standalone",
    });
    expect(config.orderBatchWaitMicros).toBe(0);
    expect(config.mysql).toEqual({ host: "db.internal", port: 3307, user: "seckill", password: "p@ss", database: "seckill" });
    expect(config.userTokenPreviousSecret).toBeUndefined();
    expect(config.userTokenMaxTtlSeconds).toBe(86_400);
    expect(config.redisReplicaAck).toBeUndefined();
  });

  it("reads the buyer-token key being rotated out, accepted for the overlap after the rotation, and the tokens' maximum lifetime", () => {
    const rotation = { SECKILL_USER_TOKEN_SECRET_PREVIOUS: "p".repeat(32), SECKILL_USER_TOKEN_SECRET_ROTATED_AT: "2026-12-07T18:00:00Z" };
    const rotatedAtMs = Date.parse("2026-12-07T18:00:00Z");
    const config = loadConfig({ ...valid, ...rotation, SECKILL_USER_TOKEN_MAX_TTL_SECONDS: "7200" });
    // The overlap defaults to the tokens' maximum lifetime: no token signed before the rotation is cut short.
    expect(config.userTokenPreviousSecret).toEqual({ secret: "p".repeat(32), acceptedUntilMs: rotatedAtMs + 7200_000 });
    expect(config.userTokenMaxTtlSeconds).toBe(7200);
    expect(loadConfig({ ...valid, ...rotation, SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS: "600" }).userTokenPreviousSecret).toEqual({
      secret: "p".repeat(32),
      acceptedUntilMs: rotatedAtMs + 600_000,
    });
    expect(loadConfig({ ...valid, SECKILL_USER_TOKEN_SECRET_PREVIOUS: "" }).userTokenPreviousSecret).toBeUndefined();
    expect(problemsOf({ ...valid, SECKILL_USER_TOKEN_SECRET_PREVIOUS: "p".repeat(32) })).toEqual([
      "SECKILL_USER_TOKEN_SECRET_ROTATED_AT is required with SECKILL_USER_TOKEN_SECRET_PREVIOUS",
    ]);
  });

  it("reads where the secrets are: the environment by default, or OOS through its VPC endpoint and the instance metadata service", () => {
    expect(loadSecretsSource({})).toEqual({ source: "env" });
    expect(
      loadSecretsSource({
        SECKILL_SECRETS_SOURCE: "oos",
        SECKILL_SECRETS_REGION: "cn-hangzhou",
        SECKILL_SECRETS_ROLE: "seckill-prod-ecs",
        SECKILL_SECRETS_PREFIX: "seckill/prod/",
      }),
    ).toEqual({
      source: "oos",
      region: "cn-hangzhou",
      role: "seckill-prod-ecs",
      prefix: "seckill/prod/",
      endpoint: new URL("https://oos-vpc.cn-hangzhou.aliyuncs.com"),
      metadataHost: "100.100.100.200",
    });
  });

  it("takes the data stores' passwords from REDIS_PASSWORD and MYSQL_PASSWORD when the URLs carry none", () => {
    const config = loadConfig({
      ...valid,
      MYSQL_URL: "mysql://seckill@db.internal:3307/seckill",
      REDIS_PASSWORD: "r-pass",
      MYSQL_PASSWORD: "m-pass",
    });
    expect(config.redis.password).toBe("r-pass");
    expect(config.mysql.password).toBe("m-pass");
    expect(problemsOf({ ...valid, MYSQL_PASSWORD: "m-pass" })).toEqual([
      "MYSQL_PASSWORD is set while MYSQL_URL carries a password too: keep one",
    ]);
  });

  it("waits for a replica with REDIS_REPLICA_ACK=1, 50 ms unless REDIS_REPLICA_ACK_TIMEOUT_MS says otherwise", () => {
    expect(loadConfig({ ...valid, REDIS_REPLICA_ACK: "1" }).redisReplicaAck).toEqual({ timeoutMs: 50 });
    expect(loadConfig({ ...valid, REDIS_REPLICA_ACK: "1", REDIS_REPLICA_ACK_TIMEOUT_MS: "200" }).redisReplicaAck).toEqual({
      timeoutMs: 200,
    });
    expect(loadConfig({ ...valid, REDIS_REPLICA_ACK: "0" }).redisReplicaAck).toBeUndefined();
  });

  it("follows a Redis Cluster from the REDIS_URL seed with REDIS_MODE=cluster, where no database or WAIT applies", () => {
    expect(loadConfig({ ...valid, REDIS_MODE: "cluster" }).redis).toMatchObject({ host: "127.0.0.1", port: 6379, mode: "cluster" });
    expect(problemsOf({ ...valid, REDIS_MODE: "sharded" })).toEqual(['REDIS_MODE must be "standalone" or "cluster"']);
    expect(problemsOf({ ...valid, REDIS_MODE: "cluster", REDIS_URL: "redis://127.0.0.1:6379/2" })).toEqual([
      "REDIS_URL must not name a database with REDIS_MODE=cluster (a cluster has only database 0)",
    ]);
    expect(problemsOf({ ...valid, REDIS_MODE: "cluster", REDIS_REPLICA_ACK: "1" })).toEqual([
      "REDIS_REPLICA_ACK is not supported with REDIS_MODE=cluster (a WAIT would reach one shard, not the one that took the unit)",
    ]);
  });

  it("lets an order wait up to ORDER_BATCH_WAIT_US (at most 1000) for others to share its script call", () => {
    expect(loadConfig({ ...valid, ORDER_BATCH_WAIT_US: "250" }).orderBatchWaitMicros).toBe(250);
    expect(problemsOf({ ...valid, ORDER_BATCH_WAIT_US: "1001" })).toEqual([
      'ORDER_BATCH_WAIT_US must be an integer from 0 to 1000, got "1001"',
    ]);
  });

  it("takes the Redis key prefix, database and TLS from REDIS_URL", () => {
    const config = loadConfig({ ...valid, REDIS_URL: "rediss://:secret@r-abc.redis.rds.aliyuncs.com:6380/2?keyPrefix=shop1:" });
    expect(config.redis).toMatchObject({
      host: "r-abc.redis.rds.aliyuncs.com",
      port: 6380,
      db: 2,
      tls: true,
      password: "secret",
      keyPrefix: "shop1:",
    });
  });

  it("names every missing required variable", () => {
    const problems = problemsOf({});
    expect(problems).toEqual(
      expect.arrayContaining([
        "REDIS_URL is required",
        "MYSQL_URL is required",
        "SECKILL_ADMIN_TOKEN is required",
        "SECKILL_USER_TOKEN_SECRET is required",
      ]),
    );
  });

  it.each([
    ["PORT", "0"],
    ["PORT", "80a"],
    ["PORT", "70000"],
    ["WORKERS", "0"],
    ["WORKERS", "two"],
    ["REDIS_URL", "http://127.0.0.1:6379"],
    ["REDIS_URL", "not a url"],
    ["REDIS_URL", "redis://127.0.0.1:6379?keyPrefix={sale}"],
    ["REDIS_URL", "redis://127.0.0.1:6379?enableOfflineQueue=false"],
    ["MYSQL_URL", "mysql://root@127.0.0.1:3306"],
    ["MYSQL_URL", "mysql://127.0.0.1:3306/seckill"],
    ["MYSQL_URL", "postgres://u:p@h:5432/db"],
    ["SECKILL_ADMIN_TOKEN", "short"],
    ["SECKILL_USER_TOKEN_SECRET", "short"],
    ["SECKILL_USER_TOKEN_SECRET_ROTATED_AT", "yesterday"],
    ["SECKILL_USER_TOKEN_SECRET_ROTATED_AT", "2026-12-07 18:00"],
    ["SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS", "-1"],
    ["SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS", "604801"],
    ["SECKILL_SECRETS_SOURCE", "kms"],
    ["SECKILL_USER_TOKEN_MAX_TTL_SECONDS", "59"],
    ["SECKILL_USER_TOKEN_MAX_TTL_SECONDS", "one day"],
    ["ORDER_QUEUE", "kafka"],
    ["LOG_LEVEL", "loud"],
    ["REDIS_REPLICA_ACK", "yes"],
    ["REDIS_REPLICA_ACK_TIMEOUT_MS", "0"],
    ["REDIS_REPLICA_ACK_TIMEOUT_MS", "5000"],
  ])("rejects %s=%s with a message naming the variable", (variable, value) => {
    const problems = problemsOf({ ...valid, [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable} `));
  });

  const rotating = { SECKILL_USER_TOKEN_SECRET_ROTATED_AT: "2026-12-07T18:00:00Z" };
  it.each([
    ["SECKILL_USER_TOKEN_SECRET_PREVIOUS", "short"],
    ["SECKILL_USER_TOKEN_SECRET_PREVIOUS", "s".repeat(32)],
  ])("rejects %s=%s (during a rotation) with a message naming the variable", (variable, value) => {
    const problems = problemsOf({ ...valid, ...rotating, [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable} `));
  });

  it.each([
    ["SECKILL_SECRETS_REGION", "Hangzhou"],
    ["SECKILL_SECRETS_ROLE", "a role"],
    ["SECKILL_SECRETS_PREFIX", "/seckill/prod/"],
    ["SECKILL_SECRETS_ENDPOINT", "ftp://oos"],
    ["SECKILL_SECRETS_METADATA_HOST", "http://100.100.100.200"],
  ])("rejects %s=%s under SECKILL_SECRETS_SOURCE=oos with a message naming the variable", (variable, value) => {
    const oos = {
      SECKILL_SECRETS_SOURCE: "oos",
      SECKILL_SECRETS_REGION: "cn-hangzhou",
      SECKILL_SECRETS_ROLE: "seckill-prod-ecs",
      SECKILL_SECRETS_PREFIX: "seckill/prod/",
    };
    expect(() => loadSecretsSource(oos)).not.toThrow();
    const problems = problemsOf({ ...valid, ...oos, [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable} `));
  });
});
