/**
 * Reads envs/<env>.tfvars files (HCL, through @cdktf/hcl2json) and validates them into {@link EnvConfig}.
 *
 * The tfvars files are read at synth time, so every value must be a literal; a bad value fails synth with the
 * file, the key, the value and what is allowed. terraform.tfvars.example documents every key.
 */
import { readFile, readdir } from "node:fs/promises";
import * as path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { z } from "zod";
import { ConfigIssue, formatIssues } from "../../contract/config-issues";
import { EnvConfig, toEnvConfig } from "./env-config";
import { tfvarsSchemaWithRules } from "./rules";
import { TFVARS_DEFAULTS, saleWindowSchema, stateBackendSchema, tfvarsSchema } from "./schema";

/** A tfvars file that fails validation; `problems` has one line per bad key. */
export class TfvarsError extends Error {
  constructor(
    readonly sourceFile: string,
    readonly problems: readonly string[],
  ) {
    super(`${sourceFile}: invalid configuration\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "TfvarsError";
  }
}

export const ENV_NAME = /^[a-z][a-z0-9]{1,11}$/;

/** The value at a path of parsed tfvars (undefined where the file has none). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, segment) => (value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[segment] : undefined),
    input,
  );
}

/**
 * Every key as the rules judged it: the file's own value, or the schema's default where the file has none. A broken
 * rule may be about a default (rocketmq_spec after rocketmq_series changed), and its problem line shows that value.
 */
function withDefaults(raw: unknown): unknown {
  return raw !== null && typeof raw === "object" && !Array.isArray(raw) ? { ...TFVARS_DEFAULTS, ...raw } : raw;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** zod reports every unknown key of an object in one issue; each gets its own, suggesting the key it may be a typo of. */
function unknownKeyIssues(issue: z.core.$ZodIssueUnrecognizedKeys): ConfigIssue[] {
  const shape =
    issue.path.length === 0 ? tfvarsSchema.shape : issue.path[0] === "state_backend" ? stateBackendSchema.shape : saleWindowSchema.shape;
  return issue.keys.map((key) => {
    const closest = Object.keys(shape).find((known) => editDistance(known, key) <= 2);
    return {
      path: [...issue.path, key],
      message: closest ? `no such key (did you mean "${closest}"?)` : "no such key (terraform.tfvars.example lists every key)",
    };
  });
}

/** tfvars are read at synth time: hcl2json hands expressions back as "${...}" strings, which would be taken literally. */
function expressionIssues(value: unknown, path: readonly PropertyKey[] = []): ConfigIssue[] {
  if (typeof value === "string" && value.includes("${")) {
    return [{ path, message: "a literal value (tfvars are read at synth time; expressions, variables and functions are not evaluated)" }];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => expressionIssues(item, [...path, index]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => expressionIssues(item, [...path, key]));
  }
  return [];
}

/** What the operator tells a synth besides the files: the sale window a deploy may go ahead in anyway. */
export interface SynthOptions {
  readonly deployDuringSale?: string;
}

/** Validates parsed tfvars (as @cdktf/hcl2json returns them) against the schema and its rules; throws {@link TfvarsError}. */
export function validateEnvConfig(
  raw: unknown,
  options: { readonly envName: string; readonly sourceFile: string; readonly now: Date; readonly deployDuringSale?: string },
): EnvConfig {
  const { envName, sourceFile, now, deployDuringSale } = options;
  if (!ENV_NAME.test(envName)) {
    throw new TfvarsError(sourceFile, [
      `environment name ${JSON.stringify(envName)} (from the file name): expected 2-12 characters of a-z and 0-9, starting with a letter`,
    ]);
  }
  const judged = withDefaults(raw);
  const problemLines = (issues: readonly ConfigIssue[]) => formatIssues(issues, { valueAt: (path) => valueAt(judged, path) });
  const literalIssues = expressionIssues(raw);
  if (literalIssues.length > 0) throw new TfvarsError(sourceFile, problemLines(literalIssues));
  const parsed = tfvarsSchemaWithRules(now).safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((issue) => (issue.code === "unrecognized_keys" ? unknownKeyIssues(issue) : [issue]));
    throw new TfvarsError(sourceFile, problemLines(issues));
  }
  return toEnvConfig(parsed.data, envName, sourceFile, now, deployDuringSale);
}

/** Reads and validates one tfvars file; the environment name comes from the file name. */
export async function loadEnvConfig(file: string, now: Date = new Date(), options: SynthOptions = {}): Promise<EnvConfig> {
  const sourceFile = path.relative(process.cwd(), file) || file;
  const envName = path.basename(file, ".tfvars");
  let raw: Record<string, unknown>;
  try {
    raw = await parse(sourceFile, await readFile(file, "utf8"));
  } catch (error) {
    throw new TfvarsError(sourceFile, [`not valid HCL: ${(error as Error).message}`]);
  }
  return validateEnvConfig(raw, { envName, sourceFile, now, deployDuringSale: options.deployDuringSale });
}

/** Every `<dir>/*.tfvars`, in name order. */
export async function loadAllEnvConfigs(dir: string, now: Date = new Date(), options: SynthOptions = {}): Promise<EnvConfig[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".tfvars")).sort();
  if (files.length === 0) throw new Error(`${dir}: no <env>.tfvars files found`);
  return Promise.all(files.map((name) => loadEnvConfig(path.join(dir, name), now, options)));
}
