import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderBootScript, UserDataProps } from "../../userdata";
import { systemdUnit } from "../../userdata/boot-script";
import { runBootScript, TEST_PROPS } from "./support/boot";

describe("renderBootScript", () => {
  const script = renderBootScript(TEST_PROPS);

  it("renders a script bash accepts (bash -n)", () => {
    const check = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("starts with a bash shebang and stops on any error, unset variable or failed pipe stage", () => {
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toMatch(/^set -Eeuo pipefail$/m);
  });

  it("says which step failed, and exits non-zero", () => {
    const work = mkdtempSync(join(tmpdir(), "seckill-fail-"));
    try {
      const root = join(work, "root");
      const broken = renderBootScript({ ...TEST_PROPS, nodeMirror: `file://${work}/no-such-mirror` });
      const run = runBootScript(broken, root);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/seckill-boot: FAILED in step: node\.js \(exit \d+, line \d+\)/);
      expect(run.stdout).not.toContain("step: service code");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("adds NODE_ENV=production and PORT from appPort to the service environment", () => {
    const env = script.slice(script.indexOf("<<'SECKILL_ENV'"), script.indexOf("\nSECKILL_ENV\n") + 1);
    expect(env).toContain("\nNODE_ENV=production\n");
    expect(env).toContain("\nPORT=8080\n");
    expect(env).toContain(`\nSECKILL_ADMIN_TOKEN=${"a".repeat(32)}`);
  });

  it("pins Node.js by the release's SHASUMS256.txt and the app artifact by its SHA-256", () => {
    expect(script).toContain("NODE_MIRROR='https://mirrors.aliyun.com/nodejs-release'");
    expect(script).toMatch(/sha256sum -c --quiet -\)\n/);
    expect(script).toMatch(new RegExp(`^ARTIFACT_SHA256=${TEST_PROPS.artifactSha256}$`, "m"));
    expect(script).toContain(`ARTIFACT_URL='${TEST_PROPS.artifactUrl}'`);
  });

  const badProps: Array<[string, Partial<UserDataProps>, RegExp]> = [
    ["an env name with capitals", { envName: "Prod" }, /envName "Prod"/],
    ["port 0", { appPort: 0 }, /appPort 0/],
    ["a fractional port", { appPort: 80.5 }, /appPort 80.5/],
    ["port 65536", { appPort: 65536 }, /appPort 65536/],
    ["a lower-case variable name", { serviceEnv: { redis_url: "x" } }, /serviceEnv key "redis_url"/],
    ["a value with a line break", { serviceEnv: { LOG_LEVEL: "info\nFOO=bar" } }, /serviceEnv LOG_LEVEL contains a line break/],
    ["a PORT that is not appPort", { serviceEnv: { PORT: "9090" } }, /serviceEnv PORT "9090" differs from appPort 8080/],
    ["a Node mirror with a quote", { nodeMirror: "https://mirror'/node" }, /nodeMirror/],
    ["a Node mirror without a scheme", { nodeMirror: "mirrors.aliyun.com/nodejs-release" }, /nodeMirror/],
    ["an artifact URL with a space", { artifactUrl: "https://bucket/a b.tgz" }, /artifactUrl/],
    ["an artifact SHA-256 that is not 64 hex digits", { artifactSha256: "abc" }, /artifactSha256 "abc"/],
  ];
  it.each(badProps)("refuses %s, naming the problem", (_name, change, message) => {
    expect(() => renderBootScript({ ...TEST_PROPS, ...change })).toThrow(message);
  });
});

describe("the systemd unit", () => {
  it("needs no capability for a port from 1024 up, only CAP_NET_BIND_SERVICE below", () => {
    expect(systemdUnit("dev", 8080)).toContain("\nCapabilityBoundingSet=\n");
    expect(systemdUnit("dev", 8080)).not.toContain("AmbientCapabilities");
    expect(systemdUnit("dev", 80)).toContain("\nAmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n");
  });

  const systemdAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
  if (!systemdAnalyze) console.log("skipped: systemd-analyze verify of both unit variants (systemd-analyze is not installed)");
  (systemdAnalyze ? it.each([8080, 80]) : it.skip.each([8080, 80]))("passes systemd-analyze verify for port %i", (port) => {
    // A root holding the unit, a stand-in for its ExecStart binary and this machine's systemd units.
    const root = mkdtempSync(join(tmpdir(), "seckill-unit-"));
    try {
      mkdirSync(join(root, "opt/seckill/node/bin"), { recursive: true });
      cpSync("/usr/bin/true", join(root, "opt/seckill/node/bin/node"));
      mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
      writeFileSync(join(root, "etc/systemd/system/seckill.service"), systemdUnit("dev", port));
      cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
      const verify = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, "/etc/systemd/system/seckill.service"], {
        encoding: "utf8",
      });
      expect(verify.stderr + verify.stdout).toBe("");
      expect(verify.status).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
