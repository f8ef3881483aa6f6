import { DefaultTokenResolver, StringConcat, Testing, TerraformStack, Tokenization } from "cdktf";
import { AppArtifactBucket } from "../../stacks/app-artifact-bucket";
import { FIXTURE_ARTIFACT } from "./support/artifact";

describe("AppArtifactBucket", () => {
  const stack = new TerraformStack(Testing.app(), "artifact");
  const store = new AppArtifactBucket(stack, "artifact", { artifact: FIXTURE_ARTIFACT, envName: "dev", vpcId: "vpc-test123" });
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
    expect(object.key).toBe(`seckill/app-${FIXTURE_ARTIFACT.sha256}.tgz`);
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
