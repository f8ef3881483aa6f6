/** A stand-in for the service build, so stack tests synthesize without building the service (one test builds it). */
import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { AppArtifact } from "../../../build/app-artifact";

function fixtureArtifact(): AppArtifact {
  const content = gzipSync("seckill stack test fixture: not an app\n");
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

export const FIXTURE_ARTIFACT = fixtureArtifact();
