import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

jest.setTimeout(120_000);

const repository = join(__dirname, "../..");

function userdataCommand(...args: string[]) {
  const run = spawnSync("npm", ["run", "--silent", "userdata", "--", ...args], { cwd: repository, encoding: "buffer" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr.toString("utf8") };
}

describe("npm run userdata -- <env>", () => {
  const dev = userdataCommand("dev");
  const script = dev.stdout.toString("utf8");

  it("prints the environment's boot script", () => {
    expect(dev.status).toBe(0);
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain('seckill node bootstrap for "dev"');
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
  });

  it("marks every value Terraform fills in at apply time", () => {
    expect(script).toMatch(/^ {2}'REDIS_URL=redis:\/\/<<terraform: [^>]+>>:<<terraform: [^>]+>>'$/m);
    // Where the secrets are, never a secret: no generated password, no variable.
    expect(script).toMatch(/^ {2}'SECKILL_SECRETS_PREFIX=seckill\/dev\/'$/m);
    expect(script).not.toMatch(/random_password|var\./);
    expect(script).toMatch(/^ARTIFACT_URL='https:\/\/<<terraform: alicloud_oss_bucket_object\.[^>]+\.bucket>>\./m);
    expect(script).not.toContain("TfToken");
  });

  it("reports the bounded size and the margin to ECS's limit on stderr", () => {
    expect(dev.stderr).toMatch(/^seckill-dev: script \d+ bytes; user data at most \d+ bytes gzipped .* ECS limit 16384, margin \d+$/m);
  });

  it("writes the gzip bytes themselves with --raw", () => {
    const raw = userdataCommand("dev", "--raw");
    expect(raw.status).toBe(0);
    expect(gunzipSync(raw.stdout).toString("utf8")).toBe(script);
  });

  it("names the environments there are when asked for one that is not", () => {
    const unknown = userdataCommand("nosuchenv");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no environment "nosuchenv": envs/nosuchenv.tfvars does not exist (environments: dev, prod)');
  });
});
