import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

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
      state[relative] = `file ${mode} ${createHash("sha256").update(readFileSync(absolute)).digest("hex")}`;
    }
  };
  visit(".");
  return state;
}
