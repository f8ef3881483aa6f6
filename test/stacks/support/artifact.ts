/**
 * Stand-ins for the service build and the Node.js runtime, so stack tests synthesize without building the service or
 * fetching Node (the boot test uses the real ones).
 */
import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { AppArtifact } from "../../../build/app-artifact";
import { NODE_VERSION, type NodeRuntime } from "../../../build/node-runtime";

function fixtureFile(text: string): AppArtifact {
  const content = gzipSync(text);
  const sha256 = createHash("sha256").update(content).digest("hex");
  // Named by content, so every test process shares one file and none leaves another behind.
  const path = join(tmpdir(), `seckill-fixture-app-${sha256.slice(0, 16)}.tgz`);
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, content);
    renameSync(partial, path);
  }
  return { path, sha256, objectKey: `seckill/app-${sha256}.tgz` };
}

export const FIXTURE_ARTIFACT = fixtureFile("seckill stack test fixture: not an app\n");

const runtimeFile = fixtureFile("seckill stack test fixture: not a Node.js runtime\n");
export const FIXTURE_RUNTIME: NodeRuntime = {
  ...runtimeFile,
  version: NODE_VERSION,
  objectKey: `seckill/node-v${NODE_VERSION}-linux-x64-${runtimeFile.sha256}.tgz`,
};

/** SeckillStackProps made of the stand-ins. */
export const FIXTURE_BUILD = { artifact: FIXTURE_ARTIFACT, runtime: FIXTURE_RUNTIME };
