/**
 * userdata/boot.sh checked by shellcheck and bash, and run in a throwaway root with stand-in downloads: the steps
 * around Node.js and the service, in seconds. boot.integration.test.ts runs it with the real ones and starts the service.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderBootScript } from "../../userdata";
import { runBootScript, standInDownloads, TEST_PROPS, UNIT_FILE } from "./support/boot";

const BOOT_SH = join(__dirname, "../../userdata/boot.sh");

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "seckill-boot-script-"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const shellcheckAvailable = spawnSync("shellcheck", ["--version"]).status === 0;
if (!shellcheckAvailable) console.log("skipped: shellcheck of userdata/boot.sh (shellcheck is not installed; apt-get install shellcheck)");

(shellcheckAvailable ? describe : describe.skip)("shellcheck", () => {
  it("finds nothing in userdata/boot.sh", () => {
    const check = spawnSync("shellcheck", [BOOT_SH], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("finds nothing in the rendered script, its header and an escaped quote included", () => {
    const script = renderBootScript({ ...TEST_PROPS, serviceEnv: { APP_NOTE: "it's" } });
    const check = spawnSync("shellcheck", ["-"], { input: script, encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});

describe("the rendered boot script", () => {
  it("is a script bash accepts (bash -n)", () => {
    const check = spawnSync("bash", ["-n"], { input: renderBootScript(TEST_PROPS), encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  it("says which step failed, leaves the service stopped, and exits non-zero", () => {
    const broken = renderBootScript({ ...TEST_PROPS, runtimeUrl: `file://${work}/no-such-runtime.tgz` });
    mkdirSync(join(work, "failing"));
    const root = join(work, "failing", "root");
    const run = runBootScript(broken, root);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/seckill-boot: FAILED in step: node\.js \(exit \d+, line \d+\)/);
    expect(run.stderr).toContain("seckill-boot: step: leave the health check failing");
    expect(run.stdout).toContain(`skipped under ${root}: systemctl disable --now --quiet seckill.service`);
    expect(run.stdout).not.toContain("step: service code");
  });
});

describe("the systemd unit the script writes", () => {
  const systemdAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
  if (!systemdAnalyze) console.log("skipped: systemd-analyze verify of both unit variants (systemd-analyze is not installed)");

  /** Runs the script for `port` with stand-in downloads and returns the root it installed into. */
  const installFor = (port: number): string => {
    const dir = join(work, `port-${port}`);
    mkdirSync(dir);
    const root = join(dir, "root");
    const run = runBootScript(renderBootScript({ ...TEST_PROPS, appPort: port, ...standInDownloads(join(dir, "downloads")) }), root);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    return root;
  };
  const roots: Record<number, string> = {};
  beforeAll(() => {
    for (const port of [8080, 80]) roots[port] = installFor(port);
  });

  it("needs no capability for a port from 1024 up, only CAP_NET_BIND_SERVICE below", () => {
    const unit = (port: number) => readFileSync(join(roots[port], UNIT_FILE), "utf8");
    expect(unit(8080)).toContain("\nCapabilityBoundingSet=\n");
    expect(unit(8080)).not.toContain("AmbientCapabilities");
    expect(unit(80)).toContain("\nAmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n");
    expect(unit(80)).toContain("\nDescription=seckill flash-sale service (test)\n");
  });

  (systemdAnalyze ? it.each([8080, 80]) : it.skip.each([8080, 80]))("passes systemd-analyze verify for port %i", (port) => {
    // --root resolves ExecStart inside the root (the stand-in node); systemd's own units come from this machine.
    const root = roots[port];
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    const verify = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, UNIT_FILE], { encoding: "utf8" });
    expect(verify.stderr + verify.stdout).toBe("");
    expect(verify.status).toBe(0);
  });
});
