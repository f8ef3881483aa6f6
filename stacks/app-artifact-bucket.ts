import { AssetType, Fn, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { DataAlicloudAccount } from "../.gen/providers/alicloud/data-alicloud-account";
import { OssBucket } from "../.gen/providers/alicloud/oss-bucket";
import { OssBucketAcl } from "../.gen/providers/alicloud/oss-bucket-acl";
import { OssBucketObject } from "../.gen/providers/alicloud/oss-bucket-object";
import { OssBucketPolicy } from "../.gen/providers/alicloud/oss-bucket-policy";
import { OssBucketPublicAccessBlock } from "../.gen/providers/alicloud/oss-bucket-public-access-block";
import type { AppArtifact } from "../build/app-artifact";

export interface AppArtifactBucketProps {
  /** The service build to upload (appArtifact(), run once by main.ts). */
  readonly artifact: AppArtifact;
  /** Environment name; the bucket's name and tags carry it. */
  readonly envName: string;
  /** The instances' VPC: the only network the artifact can be read from. */
  readonly vpcId: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The app artifact (our bundle and its production dependencies) in a private OSS bucket. Instances
 * read the object anonymously through the region's internal endpoint, and only from the stack's VPC (bucket policy
 * condition acs:SourceVpc): no credentials on the instance, no NAT traffic, nothing readable from outside the VPC.
 */
export class AppArtifactBucket extends Construct {
  /** For UserDataProps.artifactUrl. Referencing it makes the instances wait for the object and the policy. */
  public readonly artifactUrl: string;
  public readonly bucketName: string;

  constructor(scope: Construct, id: string, props: AppArtifactBucketProps) {
    super(scope, id);
    const { artifact } = props;
    const tags = { Environment: props.envName, ...props.tags };
    // Bucket names are global: the account id keeps them unique without a random suffix.
    const account = new DataAlicloudAccount(this, "account");
    const bucket = new OssBucket(this, "bucket", {
      bucket: `seckill-${props.envName}-app-${account.id}`,
      storageClass: "Standard",
      serverSideEncryptionRule: { sseAlgorithm: "AES256" },
      // Build output only: destroying the environment may delete it.
      forceDestroy: true,
      tags,
      // The ACL is owned by alicloud_oss_bucket_acl below (the provider's documented pattern).
      lifecycle: { ignoreChanges: ["acl"] },
    });
    this.bucketName = bucket.bucket;
    new OssBucketAcl(this, "acl", { bucket: bucket.bucket, acl: "private" });
    // A statement whose condition names a fixed VPC is not public access, so blocking public access stays on.
    new OssBucketPublicAccessBlock(this, "public-access-block", { bucket: bucket.bucket, blockPublicAccess: true });
    const policy = new OssBucketPolicy(this, "vpc-read", {
      bucket: bucket.bucket,
      policy: Fn.jsonencode({
        Version: "1",
        Statement: [
          {
            Effect: "Allow",
            Principal: ["*"],
            Action: ["oss:GetObject"],
            Resource: [`acs:oss:*:${account.id}:${bucket.bucket}/*`],
            Condition: { StringEquals: { "acs:SourceVpc": [props.vpcId] } },
          },
        ],
      }),
    });
    const file = new TerraformAsset(this, "artifact", { path: artifact.path, type: AssetType.FILE });
    const object = new OssBucketObject(this, "artifact-object", {
      bucket: bucket.bucket,
      key: artifact.objectKey,
      source: file.path,
      contentType: "application/gzip",
      dependsOn: [policy],
    });
    // The bucket name comes from the object (which waits for the policy), so whatever uses the URL waits until the
    // artifact can be read.
    this.artifactUrl = `https://${object.bucket}.${bucket.intranetEndpoint}/${artifact.objectKey}`;
  }
}
