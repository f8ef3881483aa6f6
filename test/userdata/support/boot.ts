import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { NODE_VERSION } from "../../../userdata";

/** Where boot.sh installs the service's files, as the instance sees them (a test run puts them under its root). */
export const ENV_FILE = "/etc/seckill/seckill.env";
export const UNIT_FILE = "/etc/systemd/system/seckill.service";
export const SYSCTL_FILE = "/etc/sysctl.d/90-seckill.conf";

/** Props with every value literal, as a test renders them. */
export const TEST_PROPS = {
  envName: "test",
  appPort: 8080,
  nodeMirror: "https://mirrors.aliyun.com/nodejs-release",
  artifactUrl: "https://seckill-test-app-1234567890123456.oss-cn-hangzhou-internal.aliyuncs.com/seckill/app.tgz",
  artifactSha256: "5".repeat(64),
  serviceEnv: {
    REDIS_URL: "redis://127.0.0.1:6379",
    MYSQL_URL: "mysql://root:@127.0.0.1:3306/seckill",
    SECKILL_ADMIN_TOKEN: "a".repeat(32),
    SECKILL_USER_TOKEN_SECRET: "b".repeat(32),
  },
};

export interface ScriptRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * Runs a rendered boot script as cloud-init does (a file executed by bash, nothing on stdin), installing under
 * `root` (SECKILL_BOOT_ROOT) instead of /. The script file is written next to `root`.
 */
export function runBootScript(script: string, root: string): ScriptRun {
  const file = join(dirname(root), "user-data.sh");
  writeFileSync(file, script, { mode: 0o700 });
  const started = process.hrtime.bigint();
  const run = spawnSync("bash", [file], {
    env: { ...process.env, SECKILL_BOOT_ROOT: root },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: 120_000,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, seconds };
}

/** Path → type, mode, content hash or link target, for every entry under `root`: what "same state" compares. */
export function treeState(root: string): Record<string, string> {
  const state: Record<string, string> = {};
  const visit = (relative: string) => {
    const absolute = join(root, relative);
    const stat = lstatSync(absolute);
    const mode = (stat.mode & 0o7777).toString(8);
    if (stat.isSymbolicLink()) {
      state[relative] = `link ${readlinkSync(absolute)}`;
    } else if (stat.isDirectory()) {
      state[relative] = `dir ${mode}`;
      for (const child of readdirSync(absolute)) visit(join(relative, child));
    } else {
      state[relative] = `file ${mode} ${sha256Of(absolute)}`;
    }
  };
  visit(".");
  return state;
}

const NODE_DIST = `node-v${NODE_VERSION}-linux-x64`;

/** A Node.js NODE_VERSION release of `nodeBinary`, laid out as a mirror serves it, in `dir`. Returns the mirror's file:// URL. */
export function nodeMirror(dir: string, nodeBinary: string): string {
  const release = join(dir, `v${NODE_VERSION}`);
  const staging = join(dir, "staging");
  mkdirSync(join(staging, NODE_DIST, "bin"), { recursive: true });
  mkdirSync(release, { recursive: true });
  cpSync(nodeBinary, join(staging, NODE_DIST, "bin/node"));
  const tarball = join(release, `${NODE_DIST}.tar.xz`);
  execFileSync("tar", ["-cJf", tarball, "-C", staging, NODE_DIST], { env: { ...process.env, XZ_OPT: "-0 -T0" } });
  rmSync(staging, { recursive: true, force: true });
  writeFileSync(join(release, "SHASUMS256.txt"), `${sha256Of(tarball)}  ${NODE_DIST}.tar.xz\n`);
  return `file://${dir}`;
}

/**
 * Downloads that let the boot script run through in seconds: a "node" that only tells its version, and an app
 * artifact holding a main.js that does nothing. For the steps around them, not for starting the service.
 */
export function standInDownloads(dir: string): { nodeMirror: string; artifactUrl: string; artifactSha256: string } {
  mkdirSync(join(dir, "app"), { recursive: true });
  const fakeNode = join(dir, "node");
  writeFileSync(fakeNode, `#!/bin/sh\necho v${NODE_VERSION}\n`, { mode: 0o755 });
  writeFileSync(join(dir, "app", "main.js"), "// stand-in\n");
  const artifact = join(dir, "app.tgz");
  execFileSync("tar", ["-czf", artifact, "-C", join(dir, "app"), "main.js"]);
  return { nodeMirror: nodeMirror(join(dir, "mirror"), fakeNode), artifactUrl: `file://${artifact}`, artifactSha256: sha256Of(artifact) };
}

function sha256Of(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}
