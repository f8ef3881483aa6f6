import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { list } from "tar";
import { appArtifact, bundleApp } from "../../build/app-artifact";
import { projectRoot } from "../../build/project-root";

jest.setTimeout(180_000);

const lock = JSON.parse(readFileSync(join(projectRoot(), "package-lock.json"), "utf8")) as {
  packages: Record<string, { version: string }>;
};

function entriesOf(archive: string): Map<string, string> {
  const files = new Map<string, string>();
  list({ file: archive, sync: true, onReadEntry: (entry) => files.set(entry.path, entry.type) });
  return files;
}

describe("appArtifact", () => {
  // One bundle for every check: app/ may change while the tests run.
  const bundle = bundleApp();
  const artifact = appArtifact(undefined, bundle);

  it("holds our bundled code as main.js", () => {
    const files = entriesOf(artifact.path);
    expect(files.get("main.js")).toBe("File");
    expect([...files.keys()].filter((path) => !path.startsWith("node_modules"))).toEqual(
      expect.arrayContaining(["main.js", "package.json", "package-lock.json"]),
    );
  });

  it("holds every package the bundle requires, at the project lockfile's version", () => {
    expect(Object.keys(bundle.dependencies)).toEqual(
      expect.arrayContaining(["express", "ioredis", "mysql2", "pino", "prom-client", "zod"]),
    );
    const files = entriesOf(artifact.path);
    for (const [name, version] of Object.entries(bundle.dependencies)) {
      expect(version).toBe(lock.packages[`node_modules/${name}`].version);
      expect(files.has(`node_modules/${name}/package.json`)).toBe(true);
    }
    expect(files.has("package.json")).toBe(true);
    expect(files.has("package-lock.json")).toBe(true);
  });

  it("holds no development tooling and nothing the service does not require", () => {
    const topLevel = new Set(
      [...entriesOf(artifact.path).keys()].map((path) =>
        path
          .split("/")
          .slice(0, path.split("/")[1]?.startsWith("@") ? 3 : 2)
          .join("/"),
      ),
    );
    for (const name of ["typescript", "jest", "esbuild", "cdktf", "constructs", "tar", "autocannon"]) {
      expect(topLevel.has(`node_modules/${name}`)).toBe(false);
    }
  });

  it("is named and pinned by its SHA-256", () => {
    expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(artifact.objectKey).toBe(`seckill/app-${artifact.sha256}.tgz`);
  });

  it("is reproducible: a fresh build from the same code and lockfile has the same bytes", () => {
    const otherRoot = mkdtempSync(join(tmpdir(), "seckill-rebuild-"));
    try {
      copyFileSync(join(projectRoot(), "package-lock.json"), join(otherRoot, "package-lock.json"));
      const rebuilt = appArtifact(otherRoot, bundle);
      expect(rebuilt.path).not.toBe(artifact.path);
      expect(rebuilt.sha256).toBe(artifact.sha256);
    } finally {
      rmSync(otherRoot, { recursive: true, force: true });
    }
  });
});
