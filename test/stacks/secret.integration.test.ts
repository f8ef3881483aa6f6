/**
 * Data-store passwords: the generated one and the TF_VAR override must both be what Tair and PolarDB accept (8-32
 * characters of letters, digits and !@#$%^&*()_+-=, from at least three of those four classes). The override's
 * validation is judged by terraform itself: the synthesized variable alone, planned with each value (no provider,
 * no cloud). Skipped, and said so, where terraform is not installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing, TerraformStack } from "cdktf";
import { Secret } from "../../stacks/secret";

const terraformAvailable = spawnSync("terraform", ["version"]).status === 0;
if (!terraformAvailable) console.log("skipped: terraform judging the password override's validation (terraform is not installed)");

function synthesizedSecret(): { variable: Record<string, unknown>; generated: Record<string, unknown> } {
  const stack = new TerraformStack(Testing.app(), "secret");
  new Secret(stack, "password", { kind: "password", description: "Database password", overrideVariable: "db_password" });
  const json = JSON.parse(Testing.synth(stack));
  return { variable: json.variable.db_password, generated: Object.values(json.resource.random_password)[0] as Record<string, unknown> };
}

test("the generated password draws on all four classes, with symbols the data stores accept", () => {
  const { generated } = synthesizedSecret();
  expect(generated).toMatchObject({ length: 24, special: true, min_upper: 2, min_lower: 2, min_numeric: 2, min_special: 2 });
  expect(generated.override_special).toMatch(/^[!@#$%^&*()_+=-]+$/);
});

(terraformAvailable ? describe : describe.skip)("the TF_VAR override, judged by terraform", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "seckill-secret-"));
    const config = {
      variable: { db_password: synthesizedSecret().variable },
      output: { password: { value: "${var.db_password}", sensitive: true } },
    };
    writeFileSync(join(work, "main.tf.json"), JSON.stringify(config));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const plan = (value: string) => {
    const result = spawnSync("terraform", ["plan", "-input=false", "-no-color"], {
      cwd: work,
      env: { ...process.env, TF_VAR_db_password: value, TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" },
      encoding: "utf8",
    });
    return { accepted: result.status === 0, output: `${result.stdout}${result.stderr}` };
  };

  test.each([
    ["unset (the generated password is used)", ""],
    ["upper, lower and digits", "Abcd1234"],
    ["lower, digits and symbols", "abc-_123"],
    ["every class at the 32-character maximum", "Aa1!@#$%^&*()_+-=Aa1!@#$%^&*()_+"],
  ])("accepts %s", (_case, value) => {
    expect(plan(value)).toMatchObject({ accepted: true });
  });

  test.each([
    ["one class", "abcdefgh"],
    ["two classes", "abcdEFGH"],
    ["fewer than 8 characters", "Abc1-"],
    ["more than 32 characters", `Aa1-${"x".repeat(29)}`],
    ["a character outside the allowed set", "Abcd 1234"],
  ])("refuses %s, saying what is allowed", (_case, value) => {
    const { accepted, output } = plan(value);
    expect(accepted).toBe(false);
    expect(output.replace(/\s+/g, " ")).toContain("db_password must be 8 to 32 characters");
  });
});
