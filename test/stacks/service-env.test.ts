/**
 * The stack and the service agree on the service's environment: what the stack sets, with every apply-time value
 * replaced by a sample of what Terraform fills in, is a configuration the service starts with.
 */
import { loadConfig, loadSecretsSource } from "../../app/platform/config";
import { SECRET_PARAMETERS, SERVICE_ENV_VARS } from "../../contract/service-env";
import { configFromTfvars, expressionsOf, MINIMAL_TFVARS, synthesize, type Synthesized } from "./support/synth";

/** What Terraform puts where the stack's expressions are, by the attribute the expression reads. */
const SAMPLES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\.(connection_domain|connection_string|intranet_domain)\}$/, "r-bp1example.redis.rds.aliyuncs.com"],
  [/\.port\}$/, "6379"],
  [/\.endpoint_url if /, "rmq-cn-example.cn-hangzhou.rmq.aliyuncs.com:8080"],
  [/\.(account_name|db_name)\}$/, "seckill"],
  [/\.(id|topic_name|consumer_group_id)\}$/, "rmq-cn-example_orders"],
];

/** The value as Terraform would hand it to the instance: each `${…}` expression replaced by its sample. */
function withSamples(s: Synthesized, value: string): string {
  let resolved = s.ref(value);
  for (const expression of expressionsOf(resolved)) {
    const sample = SAMPLES.find(([pattern]) => pattern.test(`\${${expression}}`));
    if (!sample) throw new Error(`no sample value for the apply-time expression \${${expression}}`);
    resolved = resolved.replace(`\${${expression}}`, sample[1]);
  }
  return resolved;
}

describe.each(["dev", "prod"])("the service environment of envs/%s.tfvars", (envName) => {
  let s: Synthesized;
  beforeAll(async () => {
    const { readFile } = await import("node:fs/promises");
    s = synthesize(await configFromTfvars(await readFile(`envs/${envName}.tfvars`, "utf8"), envName));
  });

  it("sets only variables of the contract", () => {
    for (const name of Object.keys(s.stack.serviceEnv)) expect(SERVICE_ENV_VARS).toContain(name);
  });

  it("is accepted by the service once Terraform has filled in its values and the secret store its secrets", () => {
    const env = Object.fromEntries(Object.entries(s.stack.serviceEnv).map(([name, value]) => [name, withSamples(s, value)]));
    expect(loadSecretsSource(env)).toMatchObject({
      source: "oos",
      region: s.config.region,
      role: `seckill-${envName}-ecs`,
      prefix: `seckill/${envName}/`,
    });
    const fromTheStore = Object.fromEntries(
      Object.values(SECRET_PARAMETERS).map((name) => [name, "S4mple-secret-of-forty-eight-characters-0123456"]),
    );
    const config = loadConfig({ ...env, ...fromTheStore });
    expect(config.orderQueue).toBe("rocketmq");
    expect(config.rocketmq?.connection.endpoints).toBe("rmq-cn-example.cn-hangzhou.rmq.aliyuncs.com:8080");
    expect(config.redis.host).toBe("r-bp1example.redis.rds.aliyuncs.com");
    expect(config.nacos?.group).toBe(envName);
  });
});

it("reaches a Tair of several shards through its proxy (REDIS_MODE=standalone): the provider has no direct-connection argument", async () => {
  const s = synthesize(await configFromTfvars(`${MINIMAL_TFVARS}\ntair_shard_count = 4\n`));
  expect(s.stack.serviceEnv.REDIS_MODE).toBe("standalone");
  const [tair] = s.resources("alicloud_redis_tair_instance");
  expect(tair).toMatchObject({ shard_count: 4 });
  expect(Object.keys(tair).filter((argument) => /direct|proxy|connection_mode/.test(argument))).toEqual([]);
});

it("the samples stand for real values only: an unknown expression fails the test rather than passing unchecked", async () => {
  const s = synthesize(await configFromTfvars(MINIMAL_TFVARS));
  expect(() => withSamples(s, `http://${s.stack.ingress.dnsName}`)).toThrow("no sample value for the apply-time expression");
});
