import { Construct } from "constructs";
import { Fn, TerraformVariable } from "cdktf";
import { Password } from "@cdktf/provider-random/lib/password";

export interface SecretProps {
  /** What the secret is for (variable description). */
  readonly description: string;
  /**
   * `password`: 24 characters with upper, lower, digits and `-`/`_` (what Tair and PolarDB accept, and URL-safe);
   * `token`: 48 letters and digits.
   */
  readonly kind: "password" | "token";
  /**
   * Name of a sensitive Terraform variable that replaces the generated value when set (`TF_VAR_<name>`).
   * @default - always generated
   */
  readonly overrideVariable?: string;
}

/** A generated secret (`random_password`), optionally replaced by a sensitive variable ops set themselves. */
export class Secret extends Construct {
  /** The secret; sensitive wherever Terraform shows it. */
  public readonly value: string;

  constructor(scope: Construct, id: string, props: SecretProps) {
    super(scope, id);
    const generated =
      props.kind === "password"
        ? new Password(this, "generated", { length: 24, special: true, overrideSpecial: "-_", minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2 })
        : new Password(this, "generated", { length: 48, special: false });
    if (!props.overrideVariable) {
      this.value = generated.result;
      return;
    }
    const variable = new TerraformVariable(this, "override", {
      type: "string",
      description: `${props.description}. Leave unset to use a generated one.`,
      sensitive: true,
      // Empty means unset: coalesce() below skips it (cdktf cannot render a null default).
      default: "",
      validation: [
        {
          condition: `\${var.${props.overrideVariable} == "" || can(regex("^[A-Za-z0-9!@#$%^&*()_+=-]{8,32}$", var.${props.overrideVariable}))}`,
          errorMessage: `${props.overrideVariable} must be 8 to 32 letters, digits or !@#$%^&*()_+-=.`,
        },
      ],
    });
    variable.overrideLogicalId(props.overrideVariable);
    this.value = Fn.coalesce([variable.stringValue, generated.result]);
  }
}
