/**
 * `npm run preflight -- <env> [--stack seckill-<env>]`: what to know before `cdktf deploy`, read from the synthesized
 * stack (cdktf.out/stacks/seckill-<env>/cdk.tf.json, from `npm run synth`) and envs/<env>.tfvars, as a table:
 * - replaces: the tfvars keys marked "Replaces" in terraform.tfvars.example whose value differs from the deployed
 *   stack's (its replacing_settings output; only with --stack, which reads the outputs as `npm run smoke` does);
 * - sale window: whether one is open now (synth then refuses a plan) and when the next one starts;
 * - image: the pinned image and its age;
 * - hourly cost: an estimate of what will run, at rest and during the biggest sale window (scripts/lib/price-table.ts).
 * Exit code 0 when every row is ok, 1 when one needs a look (a replacement, an open window, an old image), 2 for bad
 * usage.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TerraformJson } from "../contract/terraform-json";
import { resourcesOfType } from "../contract/terraform-json";
import { EnvConfig, loadEnvConfig } from "../stacks/config";
import { tfvarsDocs, tfvarsSchema } from "../stacks/config/schema";
import { frozenWindow, launchTime, windowTimes } from "../stacks/sale-schedule";
import { parseFlags, runMain, UsageError } from "./lib/cli";
import { imageBuildDate } from "./lib/ecs-images";
import { hourlyCost, PRICE_TABLE } from "./lib/price-table";
import { stackOutputs } from "./lib/stack-outputs";

const USAGE = `Usage: npm run preflight -- <env> [--stack seckill-<env>]

Before "cdktf deploy": what the synthesized stack of envs/<env>.tfvars would replace, whether a sale window is open,
how old the pinned image is, and what the stack costs per hour (an estimate). Run "npm run synth" first.

  --stack seckill-<env>   compare with the outputs of this deployed stack (what a deploy would replace)`;

/** An image older than this many days is flagged: Alibaba patches the system images monthly. */
export const IMAGE_AGE_WARN_DAYS = 120;
const DAY_MS = 24 * 60 * 60_000;

export interface PreflightRequest {
  readonly envName: string;
  /** The deployed stack to compare with, when given. */
  readonly stack?: string;
}

/** The request in `args` (`<env> [--stack name]`), undefined after --help; a UsageError names what is wrong. */
export function preflightRequestFrom(args: readonly string[]): PreflightRequest | undefined {
  // The environment is the one argument that is neither a flag nor a flag's value.
  const isPositional = (arg: string, index: number) => !arg.startsWith("-") && args[index - 1] !== "--stack";
  const positional = args.filter(isPositional);
  const flags = parseFlags(
    USAGE,
    { stack: { type: "string" } },
    args.filter((arg, index) => !isPositional(arg, index)),
  );
  if (!flags) return undefined;
  if (positional.length !== 1) throw new UsageError(`name one environment (envs/<env>.tfvars), got ${positional.length}\n\n${USAGE}`);
  if (flags.stack !== undefined && !/^seckill-[a-z][a-z0-9]{1,11}$/.test(flags.stack)) {
    throw new UsageError(`--stack must name a stack "seckill-<env>", got "${flags.stack}"`);
  }
  return { envName: positional[0], stack: flags.stack };
}

export type RowStatus = "ok" | "LOOK";

export interface PreflightRow {
  readonly check: "replaces" | "sale window" | "image" | "hourly cost";
  readonly status: RowStatus;
  readonly detail: string;
}

export interface PreflightInput {
  readonly config: EnvConfig;
  /** The synthesized stack (cdk.tf.json). */
  readonly synthesized: TerraformJson;
  /** The deployed stack's outputs and its name, when compared with one. */
  readonly deployed?: { readonly stack: string; readonly outputs: Readonly<Record<string, unknown>> };
  readonly now: Date;
}

/** The four rows for one environment. */
export function preflightRows(input: PreflightInput): PreflightRow[] {
  return [replacementRow(input), saleWindowRow(input), imageRow(input), costRow(input)];
}

function replacementRow({ synthesized, deployed }: PreflightInput): PreflightRow {
  const planned = synthesized.output?.replacing_settings?.value as Record<string, unknown> | undefined;
  if (!planned) throw new UsageError("the synthesized stack has no replacing_settings output: run npm run synth");
  if (!deployed) {
    return { check: "replaces", status: "ok", detail: `not compared (no --stack); keys that replace: ${Object.keys(planned).join(", ")}` };
  }
  const before = deployed.outputs.replacing_settings as Record<string, unknown> | undefined;
  if (!before) {
    return {
      check: "replaces",
      status: "LOOK",
      detail: `${deployed.stack} has no replacing_settings output (deployed before it existed): compare the plan by hand`,
    };
  }
  const changed = Object.keys(planned).filter((key) => JSON.stringify(planned[key]) !== JSON.stringify(before[key]));
  if (changed.length === 0) return { check: "replaces", status: "ok", detail: `nothing: every "Replaces" key equals ${deployed.stack}'s` };
  const replaces = (key: string) => tfvarsDocs.get(tfvarsSchema.shape[key as keyof typeof tfvarsSchema.shape])?.replaces ?? "resources";
  return {
    check: "replaces",
    status: "LOOK",
    detail: changed
      .map((key) => `${key} ${JSON.stringify(before[key])} → ${JSON.stringify(planned[key])} replaces ${replaces(key)}`)
      .join("; "),
  };
}

function saleWindowRow({ config, now }: PreflightInput): PreflightRow {
  const { compute } = config;
  const open = frozenWindow(compute, now);
  if (open) {
    const { scaleInAt } = windowTimes(open, compute);
    return {
      check: "sale window",
      status: "LOOK",
      detail: `${open.name} is open (fleet held at ${open.instances} until ${launchTime(scaleInAt)}): synth refuses a plan (README: "Sale windows")`,
    };
  }
  const next = compute.saleWindows
    .map((window) => ({ window, prewarmAt: windowTimes(window, compute).prewarmAt }))
    .filter(({ prewarmAt }) => prewarmAt > now)
    .sort((a, b) => a.prewarmAt.getTime() - b.prewarmAt.getTime())[0];
  return {
    check: "sale window",
    status: "ok",
    detail: next
      ? `none open; next: ${next.window.name}, pre-warm at ${launchTime(next.prewarmAt)} (in ${duration(next.prewarmAt.getTime() - now.getTime())})`
      : "none open, none ahead",
  };
}

function imageRow({ synthesized, now }: PreflightInput): PreflightRow {
  const imageId = String(resourcesOfType(synthesized, "alicloud_ess_scaling_configuration")[0]?.image_id);
  const built = imageBuildDate(imageId);
  if (!built) return { check: "image", status: "ok", detail: `${imageId} (a custom image: its age is in the ECS console)` };
  const days = Math.floor((now.getTime() - built.getTime()) / DAY_MS);
  const old = days > IMAGE_AGE_WARN_DAYS;
  return {
    check: "image",
    status: old ? "LOOK" : "ok",
    detail: `${imageId}, built ${built.toISOString().slice(0, 10)}, ${days} days old${old ? `: over ${IMAGE_AGE_WARN_DAYS}, bump image_id (npm run synth prints the newest)` : ""}`,
  };
}

function costRow({ config, synthesized, now }: PreflightInput): PreflightRow {
  const { compute } = config;
  const money = (value: number) => `${value.toFixed(1)} ${PRICE_TABLE.currency}/h`;
  const instances = (count: number) => `${count} instance${count === 1 ? "" : "s"}`;
  const atRest = hourlyCost(synthesized, compute.desiredInstances);
  // The biggest sale still to come (or running): one already over costs nothing more.
  const biggest = compute.saleWindows
    .filter((window) => windowTimes(window, compute).scaleInAt > now)
    .sort((a, b) => b.instances - a.instances)[0];
  const during =
    biggest && `, ≈ ${money(hourlyCost(synthesized, biggest.instances).total)} during ${biggest.name} (${instances(biggest.instances)})`;
  const unpriced = atRest.unpriced.length > 0 ? `; not priced: ${atRest.unpriced.join(", ")}` : "";
  return {
    check: "hourly cost",
    status: "ok",
    detail:
      `≈ ${money(atRest.total)} at rest (${instances(compute.desiredInstances)})${during ?? ""}${unpriced}. ` +
      `An ${PRICE_TABLE.label}: price table of ${PRICE_TABLE.asOf} (${PRICE_TABLE.region}), from ${PRICE_TABLE.source}`,
  };
}

function duration(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 48 ? `${Math.floor(hours / 24)} d` : hours >= 1 ? `${hours} h` : `${Math.ceil(ms / 60_000)} min`;
}

/** The rows as a table under a heading naming the environment and where its stack came from. */
export function formatPreflight(heading: string, rows: readonly PreflightRow[]): string {
  const widths = { check: Math.max(5, ...rows.map((row) => row.check.length)), status: 6 };
  const line = (check: string, status: string, detail: string) =>
    `  ${check.padEnd(widths.check)}  ${status.padEnd(widths.status)}  ${detail}`;
  return [heading, line("check", "status", "detail"), ...rows.map((row) => line(row.check, row.status, row.detail))].join("\n");
}

/**
 * Reads the environment, its synthesized stack and (with --stack) the deployed outputs from `projectDir`; the outputs
 * come from `readOutputs` (Terraform, as `npm run smoke` reads them).
 */
export async function runPreflight(
  request: PreflightRequest,
  projectDir: string,
  options: { readonly now?: Date; readonly readOutputs?: (stack: string) => Record<string, unknown> } = {},
): Promise<{ text: string; code: number }> {
  const now = options.now ?? new Date();
  const readOutputs = options.readOutputs ?? ((stack: string) => stackOutputs(stack, projectDir));
  const tfvars = path.join(projectDir, "envs", `${request.envName}.tfvars`);
  if (!existsSync(tfvars)) throw new UsageError(`no environment "${request.envName}": ${tfvars} does not exist`);
  const stackFile = path.join(projectDir, "cdktf.out", "stacks", `seckill-${request.envName}`, "cdk.tf.json");
  if (!existsSync(stackFile)) throw new UsageError(`${path.relative(projectDir, stackFile)} does not exist: run npm run synth first`);
  // The file is read as it is: a window open now must show here, not stop this check the way it stops synth.
  const config = await loadEnvConfig(tfvars, now);
  const synthesized = JSON.parse(readFileSync(stackFile, "utf8")) as TerraformJson;
  const deployed = request.stack ? { stack: request.stack, outputs: readOutputs(request.stack) } : undefined;
  const rows = preflightRows({ config, synthesized, deployed, now });
  const heading = `seckill-${request.envName}  (${path.relative(projectDir, tfvars)} → ${path.relative(projectDir, stackFile)})`;
  return { text: formatPreflight(heading, rows), code: rows.some((row) => row.status !== "ok") ? 1 : 0 };
}

if (require.main === module) {
  runMain(async () => {
    const request = preflightRequestFrom(process.argv.slice(2));
    if (!request) return 0;
    const { text, code } = await runPreflight(request, process.cwd());
    process.stdout.write(`${text}\n`);
    return code;
  });
}
