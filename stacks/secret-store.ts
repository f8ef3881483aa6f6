import { Construct } from "constructs";
import { DataAlicloudAccount } from "../.gen/providers/alicloud/data-alicloud-account";
import { OosSecretParameter } from "../.gen/providers/alicloud/oos-secret-parameter";
import { RamPolicy } from "../.gen/providers/alicloud/ram-policy";
import { RamRolePolicyAttachment } from "../.gen/providers/alicloud/ram-role-policy-attachment";
import { SECRET_PARAMETERS, secretParameterPrefix, type SecretParameter } from "../contract/service-env";

/** The secrets only the store changes after they are created: rotated with a new version, then a rolling restart. */
export const ROTATED_IN_THE_STORE: readonly SecretParameter[] = ["admin-token", "user-token-secret"];

/** What the instances may do with the parameters (besides reading the KMS secrets OOS keeps them in). */
export const SECRET_READ_ACTIONS = ["oos:GetSecretParameter", "oos:GetSecretParameters"] as const;

export interface SecretStoreProps {
  readonly envName: string;
  readonly region: string;
  /** Every SECRET_PARAMETERS entry's value (generated or from TF_VAR_*; apply-time tokens). */
  readonly values: Readonly<Record<SecretParameter, string>>;
  /** What each secret is for, as the parameter's description. */
  readonly descriptions: Readonly<Record<SecretParameter, string>>;
  /** The instance RAM role that reads them. */
  readonly readerRoleName: string;
}

/**
 * The environment's secrets as OOS encrypted parameters (`seckill/<env>/<name>`, KMS-encrypted with OOS's default
 * key: no KMS instance to pay for), and one RAM policy on the instance role that reads exactly those.
 *
 * The names have no leading slash: the ARNs below are then the documented form (`secretparameter/<name>`, and the
 * KMS secret OOS keeps the value in, `secret/oos/<name>`, as Alibaba Cloud's own example policy grants them).
 *
 * The provider reads a parameter back without WithDecryption (service_alicloud_oos_v2.go, DescribeOosSecretParameter)
 * and sets `value` from the answer (resource_alicloud_oos_secret_parameter.go:184), so Terraform would write the
 * generated value back over a rotated one: the secrets rotated in the store ignore changes of their value.
 */
export class SecretStore extends Construct {
  /** SECKILL_SECRETS_PREFIX. */
  public readonly prefix: string;
  /** The parameters, for what must exist before an instance boots. */
  public readonly parameters: OosSecretParameter[];
  /** The role's read permission, for the same reason. */
  public readonly readPermission: RamRolePolicyAttachment;

  constructor(scope: Construct, id: string, props: SecretStoreProps) {
    super(scope, id);
    this.prefix = secretParameterPrefix(props.envName);
    const names = Object.keys(SECRET_PARAMETERS) as SecretParameter[];
    this.parameters = names.map(
      (name) =>
        new OosSecretParameter(this, name, {
          secretParameterName: `${this.prefix}${name}`,
          type: "Secret",
          value: props.values[name],
          description: `seckill ${props.envName}: ${props.descriptions[name]} (${SECRET_PARAMETERS[name]})`,
          lifecycle: ROTATED_IN_THE_STORE.includes(name) ? { ignoreChanges: ["value"] } : undefined,
        }),
    );

    const account = new DataAlicloudAccount(this, "account");
    const arn = (service: "oos" | "kms", resource: string) => `acs:${service}:${props.region}:${account.id}:${resource}`;
    const policy = new RamPolicy(this, "read-policy", {
      policyName: `seckill-${props.envName}-read-secrets`,
      description: `The seckill ${props.envName} instances read their secrets (${this.prefix}*) at start`,
      policyDocument: JSON.stringify({
        Version: "1",
        Statement: [
          {
            Effect: "Allow",
            Action: [...SECRET_READ_ACTIONS],
            Resource: names.map((name) => arn("oos", `secretparameter/${this.prefix}${name}`)),
          },
          // OOS reads the value with the caller's KMS permission (GetSecretParameter(s): "permission to call KMS GetSecretValue").
          {
            Effect: "Allow",
            Action: ["kms:GetSecretValue"],
            Resource: names.map((name) => arn("kms", `secret/oos/${this.prefix}${name}`)),
          },
        ],
      }),
      force: true,
    });
    this.readPermission = new RamRolePolicyAttachment(this, "read-policy-attachment", {
      policyName: policy.policyName,
      policyType: "Custom",
      roleName: props.readerRoleName,
    });
  }
}
