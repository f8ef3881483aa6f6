import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./cli";

/**
 * The outputs of a deployed stack, by name. Asks Terraform (`terraform output -json` in the
 * stack's synthesized directory, which works for the OSS backend too once `cdktf deploy` has
 * initialized it); falls back to reading a local state file directly.
 */
export function stackOutputs(stack: string, projectDir = process.cwd()): Record<string, unknown> {
  const stacksDir = path.join(projectDir, "cdktf.out", "stacks");
  const stackDir = path.join(stacksDir, stack);
  const manifest = path.join(stackDir, "cdk.tf.json");
  if (!existsSync(manifest)) {
    const known = existsSync(stacksDir) ? readdirSync(stacksDir).join(", ") : "none";
    throw new UsageError(
      `no synthesized stack "${stack}" in cdktf.out/stacks (found: ${known}): ` +
        `run "npm run synth", deploy with "cdktf deploy ${stack}", or pass --url`,
    );
  }

  const terraform = process.env.TERRAFORM_BINARY_NAME || "terraform";
  const run = spawnSync(terraform, ["output", "-no-color", "-json"], { cwd: stackDir, encoding: "utf8", timeout: 120_000 });
  if (run.status === 0) {
    const outputs = JSON.parse(run.stdout) as Record<string, { value: unknown }>;
    if (Object.keys(outputs).length > 0) return unwrap(outputs);
  }
  const terraformSaid = run.error ? `${terraform} is not runnable (${run.error.message})` : terraformError(run.stderr) || "no outputs";

  const statePath = localStatePath(manifest);
  if (statePath && existsSync(statePath)) {
    const state = JSON.parse(readFileSync(statePath, "utf8")) as { outputs?: Record<string, { value: unknown }> };
    if (state.outputs && Object.keys(state.outputs).length > 0) return unwrap(state.outputs);
  }
  throw new UsageError(
    `cannot read the outputs of ${stack}: "${terraform} output" says: ${terraformSaid}. ` +
      `Outputs exist once "cdktf deploy ${stack}" has run; with the OSS state backend this machine also needs ` +
      `ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY (or a profile) and an initialized directory ` +
      `("${terraform} -chdir=cdktf.out/stacks/${stack} init"). Or pass --url.`,
  );
}

function unwrap(outputs: Record<string, { value: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]));
}

function localStatePath(manifest: string): string | undefined {
  const config = JSON.parse(readFileSync(manifest, "utf8")) as { terraform?: { backend?: { local?: { path?: string } } } };
  const local = config.terraform?.backend?.local;
  if (!local) return undefined;
  return path.resolve(path.dirname(manifest), local.path ?? "terraform.tfstate");
}

/** Terraform's own diagnosis, e.g. "Error: Backend initialization required". */
function terraformError(text: string): string {
  const lines = text
    .split("\n")
    .map((line) => line.replace(/[│╷╵]/g, "").trim())
    .filter((line) => line !== "");
  return lines.find((line) => line.startsWith("Error:")) ?? lines[lines.length - 1] ?? "";
}

/**
 * What the smoke test needs from a deployed `seckill-<env>` stack: its public URL and secrets
 * and the order endpoint's per-IP rate limit, all from its outputs.
 */
export class DeployedStack {
  private outputsRead?: Record<string, unknown>;

  constructor(
    readonly name: string,
    private readonly projectDir = process.cwd(),
  ) {}

  get outputs(): Record<string, unknown> {
    this.outputsRead ??= stackOutputs(this.name, this.projectDir);
    return this.outputsRead;
  }

  /** Where shoppers reach the service: the `public_url` output. */
  publicUrl(): string {
    const value = this.outputs.public_url;
    if (typeof value !== "string" || value === "") {
      throw new UsageError(
        `stack ${this.name} has no "public_url" output (outputs: ${Object.keys(this.outputs).join(", ") || "none"}); pass --url`,
      );
    }
    return value;
  }

  /** A string output such as the sensitive `admin_token`, or undefined. */
  output(name: string): string | undefined {
    const value = this.outputs[name];
    return typeof value === "string" && value !== "" ? value : undefined;
  }

  /** The order endpoint's per-client-IP ALB limit, as deployed: the `order_rate_limit_per_ip_qps` output. */
  orderRateLimitPerIp(): { perIpQps: number; source: string } {
    const value = this.outputs.order_rate_limit_per_ip_qps;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new UsageError(
        `stack ${this.name} has no "order_rate_limit_per_ip_qps" output (deployed before it existed?): deploy again or pass --rate-limit-qps`,
      );
    }
    return { perIpQps: value, source: `the ${this.name} output order_rate_limit_per_ip_qps` };
  }
}
