import { DefaultTokenResolver, StringConcat, Testing, TerraformStack, Tokenization } from "cdktf";
import { AppArtifactBucket } from "../../stacks/app-artifact-bucket";
import { FIXTURE_ARTIFACT, FIXTURE_RUNTIME } from "./support/artifact";

describe("AppArtifactBucket", () => {
  const stack = new TerraformStack(Testing.app(), "artifact");
  const store = new AppArtifactBucket(stack, "artifact", {
    artifact: FIXTURE_ARTIFACT,
    runtime: FIXTURE_RUNTIME,
    region: "cn-hangzhou",
    envName: "dev",
    vpcId: "vpc-test123",
  });
  const synthesized = JSON.parse(Testing.synth(stack)) as { resource: Record<string, Record<string, Record<string, unknown>>> };
  const only = (type: string) => {
    const resources = Object.values(synthesized.resource[type] ?? {});
    expect(resources).toHaveLength(1);
    return resources[0];
  };
  const objects = () => Object.values(synthesized.resource.alicloud_oss_bucket_object);
  const resolve = (value: string) => Tokenization.resolve(value, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) });

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

  it("uploads the artifact and the Node.js runtime under content-addressed keys, after the policy exists", () => {
    expect(objects().map((object) => object.key)).toEqual([
      `seckill/app-${FIXTURE_ARTIFACT.sha256}.tgz`,
      `seckill/node-v${FIXTURE_RUNTIME.version}-linux-x64-${FIXTURE_RUNTIME.sha256}.tgz`,
    ]);
    for (const object of objects()) {
      expect(String(object.source)).toMatch(/assets\/.*\.tgz$/);
      expect(object.depends_on).toEqual([expect.stringMatching(/^alicloud_oss_bucket_policy\./)]);
    }
  });

  it("gives URLs on the region's internal endpoint that wait for their objects", () => {
    const [artifact, runtime] = objects().map((object) => object.key);
    const onInternalEndpoint = (key: unknown) =>
      new RegExp(`^https://\\$\\{alicloud_oss_bucket_object\\.[\\w-]+\\.bucket\\}\\.oss-cn-hangzhou-internal\\.aliyuncs\\.com/${key}$`);
    expect(resolve(store.artifactUrl)).toMatch(onInternalEndpoint(artifact));
    expect(resolve(store.runtimeUrl)).toMatch(onInternalEndpoint(runtime));
  });
});
