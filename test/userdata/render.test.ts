import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TerraformStack, TerraformVariable, Testing } from "cdktf";
import { NODE_VERSION, renderBootScript, UserDataProps } from "../../userdata";
import { TEST_PROPS } from "./support/boot";

const bootSh = readFileSync(join(__dirname, "../../userdata/boot.sh"), "utf8");

/** The rendered script's header: the lines between the shebang and the first line of boot.sh after its own shebang. */
function headerOf(script: string): string {
  const body = bootSh.slice(bootSh.indexOf("\n") + 1);
  expect(script.endsWith(body)).toBe(true);
  return script.slice(0, script.length - body.length);
}

describe("renderBootScript", () => {
  const script = renderBootScript(TEST_PROPS);
  const header = headerOf(script);

  it("is userdata/boot.sh as it is, with the values assigned between its shebang and the rest", () => {
    expect(header.startsWith("#!/bin/bash\n")).toBe(true);
    expect(header.slice("#!/bin/bash\n".length).split("\n").filter(Boolean)).toEqual([
      '# seckill node bootstrap for "test", rendered by userdata/: the inputs of userdata/boot.sh, then the script.',
      "# No secrets: the service reads them at start from the store SECKILL_SECRETS_* names, with the instance's RAM role.",
      "ENV_NAME='test'",
      "APP_PORT='8080'",
      `NODE_VERSION='${NODE_VERSION}'`,
      `RUNTIME_URL='${TEST_PROPS.runtimeUrl}'`,
      `RUNTIME_SHA256='${TEST_PROPS.runtimeSha256}'`,
      `ARTIFACT_URL='${TEST_PROPS.artifactUrl}'`,
      `ARTIFACT_SHA256='${TEST_PROPS.artifactSha256}'`,
      `LOGTAIL_INSTALLER_URL='${TEST_PROPS.logtailInstallerUrl}'`,
      "LOGTAIL_REGION='cn-hangzhou'",
      `LOGTAIL_IDENTITY='${TEST_PROPS.logtailIdentity}'`,
      "SERVICE_ENV=(",
      "  'NODE_ENV=production'",
      "  'PORT=8080'",
      "  'REDIS_URL=redis://127.0.0.1:6379'",
      "  'MYSQL_URL=mysql://root@127.0.0.1:3306/seckill'",
      "  'SECKILL_SECRETS_SOURCE=oos'",
      "  'SECKILL_SECRETS_REGION=cn-hangzhou'",
      "  'SECKILL_SECRETS_ROLE=seckill-test-ecs'",
      "  'SECKILL_SECRETS_PREFIX=seckill/test/'",
      ")",
    ]);
  });

  it("quotes every value for bash, a single quote in a value included", () => {
    const quoting = renderBootScript({ ...TEST_PROPS, serviceEnv: { APP_NOTE: `it's $HOME \`id\` \${PATH} "x" \\` } });
    expect(headerOf(quoting)).toContain(`\n  'APP_NOTE=it'\\''s $HOME \`id\` \${PATH} "x" \\'\n`);
  });

  it("shows each apply-time value as the caller asks, in place and quoted like any value", () => {
    const stack = new TerraformStack(Testing.app(), "tokens");
    const host = new TerraformVariable(stack, "host", { type: "string" }).stringValue;
    const shown = renderBootScript({ ...TEST_PROPS, serviceEnv: { REDIS_URL: `redis://${host}:6379` } }, (token) =>
      token === host ? "<<host's>>" : "<<unexpected>>",
    );
    expect(headerOf(shown)).toContain("\n  'REDIS_URL=redis://<<host'\\''s>>:6379'\n");
  });

  it("lets a serviceEnv PORT equal to appPort through, once", () => {
    const env = headerOf(renderBootScript({ ...TEST_PROPS, serviceEnv: { PORT: "8080" } }));
    expect(env.match(/'PORT=/g)).toHaveLength(1);
  });

  const badProps: Array<[string, Partial<UserDataProps>, RegExp]> = [
    ["an env name with capitals", { envName: "Prod" }, /envName "Prod"/],
    ["port 0", { appPort: 0 }, /appPort 0/],
    ["a fractional port", { appPort: 80.5 }, /appPort 80.5/],
    ["port 65536", { appPort: 65536 }, /appPort 65536/],
    ["a lower-case variable name", { serviceEnv: { redis_url: "x" } }, /serviceEnv key "redis_url"/],
    ["a value with a line break", { serviceEnv: { LOG_LEVEL: "info\nFOO=bar" } }, /serviceEnv LOG_LEVEL contains a line break/],
    ["a PORT that is not appPort", { serviceEnv: { PORT: "9090" } }, /serviceEnv PORT "9090" differs from appPort 8080/],
    ["a secret", { serviceEnv: { SECKILL_ADMIN_TOKEN: "a".repeat(32) } }, /serviceEnv SECKILL_ADMIN_TOKEN is a secret/],
    ["a database password", { serviceEnv: { MYSQL_PASSWORD: "pw" } }, /serviceEnv MYSQL_PASSWORD is a secret/],
    ["the buyer-token key being rotated out", { serviceEnv: { SECKILL_USER_TOKEN_SECRET_PREVIOUS: "p".repeat(32) } }, /is a secret/],
    ["a runtime URL with a quote", { runtimeUrl: "https://bucket'/node.tgz" }, /runtimeUrl/],
    ["a runtime URL without a scheme", { runtimeUrl: "bucket.oss-cn-hangzhou-internal.aliyuncs.com/node.tgz" }, /runtimeUrl/],
    ["a runtime SHA-256 that is not 64 hex digits", { runtimeSha256: "abc" }, /runtimeSha256 "abc"/],
    ["an artifact URL with a space", { artifactUrl: "https://bucket/a b.tgz" }, /artifactUrl/],
    ["an artifact SHA-256 that is not 64 hex digits", { artifactSha256: "abc" }, /artifactSha256 "abc"/],
  ];
  it.each(badProps)("refuses %s, naming the problem", (_name, change, message) => {
    expect(() => renderBootScript({ ...TEST_PROPS, ...change })).toThrow(message);
  });
});
