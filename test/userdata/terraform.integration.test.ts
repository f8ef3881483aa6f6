/**
 * What Terraform makes of renderUserData's value at apply time, with terraform itself: a stack whose only content
 * is an output holding the value, applied with variables standing in for the resources' attributes (no provider,
 * no cloud). Skipped, and said so, where terraform is not installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { App, Fn, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import { renderBootScript, renderUserData, USER_DATA_LIMIT_BYTES, userDataSizeBound } from "../../userdata";
import { TEST_PROPS } from "./support/boot";

jest.setTimeout(120_000);

const terraformAvailable = spawnSync("terraform", ["version"]).status === 0;
if (!terraformAvailable) console.log("skipped: the Terraform round trip of the user data (terraform is not installed)");

// Values with everything that is special somewhere on the way: HCL templates, JSON, bash, sed, systemd.
const applyTimeValues = {
  redis_host: "r-bp1example.redis.rds.aliyuncs.com",
  db_password: `p"w\\d$\`x\`\${PATH}%{y}'q'`,
  topic: "t".repeat(40),
  bucket: "seckill-test-app-1234567890123456",
};

(terraformAvailable ? describe : describe.skip)("renderUserData through terraform apply", () => {
  let work: string;
  let userData: string;
  let expectedScript: string;
  let sizeBound: number;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "seckill-tf-"));
    const app = new App({ outdir: work });
    const stack = new TerraformStack(app, "userdata");
    const variables = Object.fromEntries(
      Object.keys(applyTimeValues).map((name) => [name, new TerraformVariable(stack, name, { type: "string" }).stringValue]),
    );
    const variable = (name: keyof typeof applyTimeValues) => variables[name];
    const withValues = (value: (name: keyof typeof applyTimeValues) => string, expression: (host: string) => string) => ({
      ...TEST_PROPS,
      artifactUrl: `https://${value("bucket")}.oss-cn-hangzhou-internal.aliyuncs.com/seckill/app.tgz`,
      serviceEnv: {
        ...TEST_PROPS.serviceEnv,
        REDIS_URL: `redis://${value("redis_host")}:6379`,
        MYSQL_URL: `mysql://seckill:${value("db_password")}@pc-example.rwlb.rds.aliyuncs.com:3306/seckill`,
        ROCKETMQ_TOPIC: value("topic"),
        // A token that is itself an expression with quoted strings inside (as the stack's endpoint lookups are).
        ROCKETMQ_ENDPOINTS: expression(value("redis_host")),
        // Literal text that HCL would read as template syntax.
        LOG_LEVEL: "info ${not.an.interpolation} %{ if true }$${x}%%{y} \\n end$",
        // Literal text that ends bash single quotes or HCL strings.
        APP_NOTE: `it's "quoted"\tand tabbed`,
      },
    });
    const propsWithTokens = withValues(variable, (host) => Fn.join(",", [Fn.upper(host), "second:8080"]));
    new TerraformOutput(stack, "user_data", { value: renderUserData(propsWithTokens) });
    sizeBound = userDataSizeBound(propsWithTokens);
    app.synth();
    expectedScript = renderBootScript(
      withValues(
        (name) => applyTimeValues[name],
        (host) => `${host.toUpperCase()},second:8080`,
      ),
    );

    const dir = join(work, "stacks", "userdata");
    const terraform = (...args: string[]) => {
      const run = spawnSync("terraform", args, {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" },
      });
      if (run.status !== 0) throw new Error(`terraform ${args[0]} failed:\n${run.stderr}`);
      return run.stdout;
    };
    terraform("init", "-input=false", "-no-color");
    const vars = Object.entries(applyTimeValues).flatMap(([name, value]) => ["-var", `${name}=${value}`]);
    terraform("apply", "-auto-approve", "-input=false", "-no-color", ...vars);
    userData = terraform("output", "-raw", "user_data");
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("is base64, which the provider passes to ECS unchanged", () => {
    expect(userData).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it("decodes to gzip holding the script with the values Terraform filled in, byte for byte", () => {
    const raw = Buffer.from(userData, "base64");
    expect(raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(raw).toString("utf8")).toBe(expectedScript);
  });

  it("carries userdata/boot.sh byte for byte after the header", () => {
    const bootSh = readFileSync(join(__dirname, "../../userdata/boot.sh"), "utf8");
    const script = gunzipSync(Buffer.from(userData, "base64")).toString("utf8");
    expect(script.endsWith(bootSh.slice(bootSh.indexOf("\n") + 1))).toBe(true);
  });

  it("is no larger than the synth-time bound, and so within ECS's limit before base64", () => {
    const raw = Buffer.from(userData, "base64");
    console.log(
      `terraform's gzip: ${raw.length} bytes (Node's zlib on the same script: ${gzipSync(expectedScript).length}); ` +
        `synth-time bound: ${sizeBound}; limit ${USER_DATA_LIMIT_BYTES}`,
    );
    expect(raw.length).toBeLessThanOrEqual(sizeBound);
    expect(sizeBound).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
  });

  it("keeps the references live in the synthesized Terraform (no value is frozen at synth time)", () => {
    const synthesized = readFileSync(join(work, "stacks", "userdata", "cdk.tf.json"), "utf8");
    for (const name of Object.keys(applyTimeValues)) expect(synthesized).toContain(`var.${name}`);
    expect(synthesized).toContain("base64gzip(join(");
  });
});
