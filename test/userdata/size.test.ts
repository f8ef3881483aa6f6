import { join } from "node:path";
import { App, TerraformStack, TerraformVariable } from "cdktf";
import { EnvConfig, loadAllEnvConfigs } from "../../stacks/config";
import { logtailInstallerUrl } from "../../stacks/observability";
import { APPLY_TIME_VALUE_BOUND, renderUserData, USER_DATA_LIMIT_BYTES, UserDataProps, userDataSizeBound } from "../../userdata";

/** What the stack fills in from other resources at apply time: all of it here, so the bound is the largest. */
const SERVICE_ENV_KEYS = [
  "REDIS_URL",
  "MYSQL_URL",
  "SECKILL_SECRETS_SOURCE",
  "SECKILL_SECRETS_REGION",
  "SECKILL_SECRETS_ROLE",
  "SECKILL_SECRETS_PREFIX",
  "ORDER_QUEUE",
  "ROCKETMQ_ENDPOINTS",
  "ROCKETMQ_NAMESPACE",
  "ROCKETMQ_TOPIC",
  "ROCKETMQ_EVENTS_TOPIC",
  "ROCKETMQ_CONSUMER_GROUP",
  "NACOS_SERVER_ADDR",
  "NACOS_GROUP",
  "WORKERS",
  "LOG_LEVEL",
];

/** The environment's props, every service value and the bucket name a Terraform token. */
function propsWithTokens(config: EnvConfig): UserDataProps {
  const stack = new TerraformStack(new App(), `size-${config.envName}`);
  const token = (name: string) => new TerraformVariable(stack, name, { type: "string" }).stringValue;
  const bucket = token("bucket");
  return {
    envName: config.envName,
    appPort: config.compute.appPort,
    runtimeUrl: `https://${bucket}.oss-${config.region}-internal.aliyuncs.com/seckill/node-v24.21.0-linux-x64-${"6".repeat(64)}.tgz`,
    runtimeSha256: "6".repeat(64),
    artifactUrl: `https://${bucket}.oss-${config.region}-internal.aliyuncs.com/seckill/app-${"5".repeat(64)}.tgz`,
    artifactSha256: "5".repeat(64),
    region: config.region,
    logtailInstallerUrl: logtailInstallerUrl(config.region),
    logtailIdentity: `seckill-${config.envName}-app`,
    serviceEnv: Object.fromEntries(SERVICE_ENV_KEYS.map((key) => [key, token(key)])),
  };
}

describe("user data size", () => {
  let configs: EnvConfig[];
  beforeAll(async () => {
    configs = await loadAllEnvConfigs(join(__dirname, "../../envs"));
  });

  it("covers every shipped environment", () => {
    expect(configs.map((config) => config.envName)).toEqual(expect.arrayContaining(["dev", "prod"]));
  });

  it(`stays within ECS's ${USER_DATA_LIMIT_BYTES} bytes for every environment, each apply-time value ${APPLY_TIME_VALUE_BOUND} characters long`, () => {
    for (const config of configs) {
      const bound = userDataSizeBound(propsWithTokens(config));
      console.log(
        `${config.envName}: at most ${bound} of ${USER_DATA_LIMIT_BYTES} bytes (gzip, before base64); margin ${USER_DATA_LIMIT_BYTES - bound} bytes`,
      );
      expect(bound).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
    }
  });

  it("refuses at synth time to render user data that could exceed the limit", () => {
    const props = propsWithTokens(configs[0]);
    const stack = new TerraformStack(new App(), "many-secrets");
    const manySecrets = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`SECRET_${i}`, new TerraformVariable(stack, `secret${i}`, { type: "string" }).stringValue]),
    );
    expect(() => renderUserData({ ...props, serviceEnv: { ...props.serviceEnv, ...manySecrets } })).toThrow(
      new RegExp(`user data of ${configs[0].envName} can reach \\d+ bytes gzipped, over ECS's 16384`),
    );
  });
});
