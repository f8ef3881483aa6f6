import { AssetType, Fn, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { DataAlicloudAccount } from "../.gen/providers/alicloud/data-alicloud-account";
import { OssBucket } from "../.gen/providers/alicloud/oss-bucket";
import { OssBucketAcl } from "../.gen/providers/alicloud/oss-bucket-acl";
import { OssBucketObject } from "../.gen/providers/alicloud/oss-bucket-object";
import { OssBucketPolicy } from "../.gen/providers/alicloud/oss-bucket-policy";
import { OssBucketPublicAccessBlock } from "../.gen/providers/alicloud/oss-bucket-public-access-block";
import type { AppArtifact } from "../build/app-artifact";
import type { NodeRuntime } from "../build/node-runtime";

export interface AppArtifactBucketProps {
  /** The service build to upload (appArtifact(), run once by main.ts). */
  readonly artifact: AppArtifact;
  /** The Node.js runtime to upload next to it (nodeRuntime(), run once by main.ts). */
  readonly runtime: NodeRuntime;
  /** The bucket's region: instances read it through that region's internal endpoint. */
  readonly region: string;
  /** Environment name; the bucket's name and tags carry it. */
  readonly envName: string;
  /** The instances' VPC: the only network the artifact can be read from. */
  readonly vpcId: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * What an instance installs, in a private OSS bucket: the app artifact (our bundle and its production dependencies)
 * and the Node.js runtime. Instances read the objects anonymously through the region's internal endpoint,
 * `<bucket>.oss-<region>-internal.aliyuncs.com` (alibabacloud.com/help/en/oss/user-guide/oss-domain-names), and only
 * from the stack's VPC (bucket policy condition acs:SourceVpc): no credentials on the instance, no internet, nothing
 * readable from outside the VPC.
 */
export class AppArtifactBucket extends Construct {
  /** For UserDataProps.artifactUrl. Referencing it makes the instances wait for the object and the policy. */
  public readonly artifactUrl: string;
  /** For UserDataProps.runtimeUrl, likewise. */
  public readonly runtimeUrl: string;
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
    const upload = (id: string, file: AppArtifact) => {
      const asset = new TerraformAsset(this, id, { path: file.path, type: AssetType.FILE });
      const object = new OssBucketObject(this, `${id}-object`, {
        bucket: bucket.bucket,
        key: file.objectKey,
        source: asset.path,
        contentType: "application/gzip",
        dependsOn: [policy],
      });
      // The bucket name comes from the object (which waits for the policy), so whatever uses the URL waits until the
      // object can be read.
      return `https://${object.bucket}.oss-${props.region}-internal.aliyuncs.com/${file.objectKey}`;
    };
    this.artifactUrl = upload("artifact", artifact);
    this.runtimeUrl = upload("runtime", props.runtime);
  }
}
