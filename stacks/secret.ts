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

/** What Tair and PolarDB accept as a password: 8-32 of these characters, from at least three of the four classes. */
const PASSWORD_CHARACTERS = "^[A-Za-z0-9!@#$%^&*()_+=-]{8,32}$";
const PASSWORD_CLASSES = ["[A-Z]", "[a-z]", "[0-9]", "[!@#$%^&*()_+=-]"];

/** Terraform validation of an override: empty (use the generated secret) or a password the data stores accept. */
function overrideCondition(value: string): string {
  const classesUsed = `length([for pattern in ${JSON.stringify(PASSWORD_CLASSES)} : pattern if can(regex(pattern, ${value}))])`;
  return `\${${value} == "" || (can(regex("${PASSWORD_CHARACTERS}", ${value})) && ${classesUsed} >= 3)}`;
}

/** A generated secret (`random_password`), optionally replaced by a sensitive variable ops set themselves. */
export class Secret extends Construct {
  /** The secret; sensitive wherever Terraform shows it. */
  public readonly value: string;

  constructor(scope: Construct, id: string, props: SecretProps) {
    super(scope, id);
    const generated =
      props.kind === "password"
        ? new Password(this, "generated", {
            length: 24,
            special: true,
            overrideSpecial: "-_",
            minUpper: 2,
            minLower: 2,
            minNumeric: 2,
            minSpecial: 2,
          })
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
          condition: overrideCondition(`var.${props.overrideVariable}`),
          errorMessage: `${props.overrideVariable} must be 8 to 32 characters (letters, digits, !@#$%^&*()_+-=) with at least three of: upper-case letters, lower-case letters, digits, those symbols.`,
        },
      ],
    });
    variable.overrideLogicalId(props.overrideVariable);
    this.value = Fn.coalesce([variable.stringValue, generated.result]);
  }
}
