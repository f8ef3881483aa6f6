import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DefaultTokenResolver, StringConcat, Testing, TerraformStack, Tokenization } from "cdktf";
import { list } from "tar";
import { appArtifact, AppArtifactBucket } from "../../userdata";
import { bundleApp, projectRoot } from "../../userdata/app-artifact";

jest.setTimeout(180_000);

const lock = require("../../package-lock.json") as { packages: Record<string, { version: string }> };

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

describe("AppArtifactBucket", () => {
  const stack = new TerraformStack(Testing.app(), "artifact");
  const store = new AppArtifactBucket(stack, "artifact", { envName: "dev", vpcId: "vpc-test123" });
  const synthesized = JSON.parse(Testing.synth(stack)) as { resource: Record<string, Record<string, Record<string, unknown>>> };
  const only = (type: string) => {
    const resources = Object.values(synthesized.resource[type] ?? {});
    expect(resources).toHaveLength(1);
    return resources[0];
  };

  it("keeps the bucket private, encrypted and closed to public access", () => {
    expect(only("alicloud_oss_bucket_acl").acl).toBe("private");
    expect(only("alicloud_oss_bucket_public_access_block").block_public_access).toBe(true);
    expect(only("alicloud_oss_bucket").server_side_encryption_rule).toEqual({ sse_algorithm: "AES256" });
  });

  it("lets anyone read objects only from the stack's VPC, and do nothing else", () => {
    // Terraform's jsonencode() of the policy document (it names resources known only at apply time).
    const policy = String(only("alicloud_oss_bucket_policy").policy);
    expect(policy).toContain('"Condition" = {"StringEquals" = {"acs:SourceVpc" = ["vpc-test123"]}}');
    expect(policy).toContain('"Principal" = ["*"], "Action" = ["oss:GetObject"]');
    expect(policy.match(/"Effect"/g)).toHaveLength(1);
  });

  it("uploads the artifact under its content-addressed key, after the policy exists", () => {
    const object = only("alicloud_oss_bucket_object");
    expect(object.key).toMatch(/^seckill\/app-[0-9a-f]{64}\.tgz$/);
    expect(String(object.source)).toMatch(/assets\/.*\.tgz$/);
    expect(object.depends_on).toEqual([expect.stringMatching(/^alicloud_oss_bucket_policy\./)]);
  });

  it("gives a URL on the region's internal endpoint that waits for the object", () => {
    const url = Tokenization.resolve(store.artifactUrl, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) });
    expect(url).toMatch(
      new RegExp(
        `^https://\\$\\{alicloud_oss_bucket_object\\.[\\w-]+\\.bucket\\}\\.\\$\\{alicloud_oss_bucket\\.[\\w-]+\\.intranet_endpoint\\}/${only("alicloud_oss_bucket_object").key}$`,
      ),
    );
  });
});
