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
import { EnvConfig, toEnvConfig } from "./env-config";
import { Problem, crossFieldProblems } from "./rules";
import { saleWindowSchema, stateBackendSchema, tfvarsSchema } from "./schema";

/** A tfvars file that fails validation; `problems` has one line per bad key. */
export class ConfigError extends Error {
  constructor(
    readonly sourceFile: string,
    readonly problems: readonly string[],
  ) {
    super(`${sourceFile}: invalid configuration\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export const ENV_NAME = /^[a-z][a-z0-9]{1,11}$/;

function describe(problem: Problem): string {
  const shown = problem.value === undefined ? "(missing)" : JSON.stringify(problem.value);
  return `${problem.key} = ${shown}: expected ${problem.allowed}`;
}

function keyPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>(
    (acc, segment) => (typeof segment === "number" ? `${acc}[${segment}]` : acc ? `${acc}.${String(segment)}` : String(segment)),
    "",
  );
}

function valueAt(raw: unknown, segments: readonly PropertyKey[]): unknown {
  return segments.reduce<unknown>(
    (value, segment) => (value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[segment] : undefined),
    raw,
  );
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

function unknownKeyProblem(raw: unknown, parent: readonly PropertyKey[], key: string, knownKeys: readonly string[]): Problem {
  const closest = knownKeys.find((known) => editDistance(known, key) <= 2);
  return {
    key: keyPath([...parent, key]),
    value: valueAt(raw, [...parent, key]),
    allowed: closest ? `no such key (did you mean "${closest}"?)` : "no such key (terraform.tfvars.example lists every key)",
  };
}

/** tfvars are read at synth time: hcl2json hands expressions back as "${...}" strings, which would be taken literally. */
function expressionProblems(value: unknown, segments: PropertyKey[] = []): Problem[] {
  if (typeof value === "string" && value.includes("${")) {
    return [
      {
        key: keyPath(segments),
        value,
        allowed: "a literal value (tfvars are read at synth time; expressions, variables and functions are not evaluated)",
      },
    ];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => expressionProblems(item, [...segments, index]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => expressionProblems(item, [...segments, key]));
  }
  return [];
}

function schemaProblems(raw: unknown, issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    if (issue.code === "unrecognized_keys") {
      const shape =
        issue.path.length === 0
          ? tfvarsSchema.shape
          : issue.path[0] === "state_backend"
            ? stateBackendSchema.shape
            : saleWindowSchema.shape;
      return issue.keys.map((key) => unknownKeyProblem(raw, issue.path, key, Object.keys(shape)));
    }
    return [{ key: keyPath(issue.path), value: valueAt(raw, issue.path), allowed: issue.message }];
  });
}

/** Validates parsed tfvars (as @cdktf/hcl2json returns them) against the rules above; throws {@link ConfigError}. */
export function validateEnvConfig(
  raw: unknown,
  options: { readonly envName: string; readonly sourceFile: string; readonly now: Date },
): EnvConfig {
  const { envName, sourceFile, now } = options;
  if (!ENV_NAME.test(envName)) {
    throw new ConfigError(sourceFile, [
      `environment name ${JSON.stringify(envName)} (from the file name): expected 2-12 characters of a-z and 0-9, starting with a letter`,
    ]);
  }
  const literalProblems = expressionProblems(raw);
  if (literalProblems.length > 0) throw new ConfigError(sourceFile, literalProblems.map(describe));
  const parsed = tfvarsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(sourceFile, schemaProblems(raw, parsed.error.issues).map(describe));
  const tfvars = parsed.data;
  const problems = crossFieldProblems(tfvars, now);
  if (problems.length > 0) throw new ConfigError(sourceFile, problems.map(describe));
  return toEnvConfig(tfvars, envName, sourceFile, now);
}

/** Reads and validates one tfvars file; the environment name comes from the file name. */
export async function loadEnvConfig(file: string, now: Date = new Date()): Promise<EnvConfig> {
  const sourceFile = path.relative(process.cwd(), file) || file;
  const envName = path.basename(file, ".tfvars");
  let raw: Record<string, unknown>;
  try {
    raw = await parse(sourceFile, await readFile(file, "utf8"));
  } catch (error) {
    throw new ConfigError(sourceFile, [`not valid HCL: ${(error as Error).message}`]);
  }
  return validateEnvConfig(raw, { envName, sourceFile, now });
}

/** Every `<dir>/*.tfvars`, in name order. */
export async function loadAllEnvConfigs(dir: string, now: Date = new Date()): Promise<EnvConfig[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".tfvars")).sort();
  if (files.length === 0) throw new Error(`${dir}: no <env>.tfvars files found`);
  return Promise.all(files.map((name) => loadEnvConfig(path.join(dir, name), now)));
}
