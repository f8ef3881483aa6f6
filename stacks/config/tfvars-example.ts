/**
 * terraform.tfvars.example, rendered from the schema: every key under its section, with its description, default,
 * unit and what changing it replaces. `npm run tfvars:example` writes it; a test fails when the committed file differs.
 */
import { z } from "zod";
import { TFVARS_DEFAULTS, TFVARS_SECTIONS, TfvarsKeyDoc, tfvarsDocs, tfvarsSchema } from "./schema";

/** Comment lines are wrapped to this many columns, "# " included. */
const WIDTH = 120;

const HEADER = [
  "Every key an environment file may set, with its default and unit. Generated from stacks/config/schema.ts by " +
    "`npm run tfvars:example`: change the schema, not this file.",
  "Copy what you need into envs/<env>.tfvars (file name = environment name: 2-12 characters of a-z and 0-9); " +
    "`npm run synth` turns each envs/<env>.tfvars into the stack seckill-<env>. Values are read at synth time, so they " +
    "must be literals (no var.*, no functions). A bad value stops synth with the file, the key, the value and what is " +
    "allowed. Keys marked (required) have no default. Every other key is shown set to its default, or commented out " +
    'with an example value when its default depends on other keys or leaves a feature off ("Default: …" says which). ' +
    "A unit follows its value.",
  "Secrets never go here: the Tair and PolarDB passwords and the app tokens are generated (random_password) and are " +
    "sensitive outputs. To use your own database passwords, set TF_VAR_tair_password / TF_VAR_polardb_password when you " +
    "run cdktf deploy: 8-32 characters of letters, digits and !@#$%^&*()_+-=, from at least three of those four classes " +
    "(what Tair and PolarDB accept; terraform checks it before anything is created).",
  '"Replaces …" below marks keys whose change makes Terraform destroy and recreate that resource (the provider marks ' +
    "the argument ForceNew): its data goes with it. Choose them before the first deploy.",
];

/** The text of terraform.tfvars.example. */
export function renderTfvarsExample(): string {
  const keyLines = new Map(Object.keys(TFVARS_SECTIONS).map((section) => [section, [] as string[]]));
  for (const [key, schema] of Object.entries(tfvarsSchema.shape)) {
    const doc = tfvarsDocs.get(schema);
    if (!doc) throw new Error(`tfvars key ${key} has no documentation: register it in tfvarsDocs (after .default() or .optional())`);
    keyLines.get(doc.section)!.push(...renderKey(key, schema, doc));
  }
  const header = HEADER.map((paragraph) => comment(paragraph).join("\n")).join("\n#\n");
  const sections = Object.entries(TFVARS_SECTIONS).map(([section, { heading, ...prose }]) =>
    [`# ${"-".repeat(64)} ${heading}`, ...("intro" in prose ? comment(prose.intro) : []), ...keyLines.get(section)!].join("\n"),
  );
  return `${[header, ...sections].join("\n\n")}\n`;
}

function renderKey(key: string, schema: z.ZodType, doc: TfvarsKeyDoc): string[] {
  const required = !schema.safeParse(undefined).success;
  const hasDefault = key in TFVARS_DEFAULTS;
  // Every key is shown with a value: one without a default needs an example, and a note on what unset means.
  if (!hasDefault && doc.example === undefined) throw new Error(`tfvars key ${key} has no default, so it needs an example`);
  if (!hasDefault && !required && doc.whenUnset === undefined) throw new Error(`tfvars key ${key} is optional: say what unset means`);
  if (hasDefault && doc.whenUnset !== undefined) throw new Error(`tfvars key ${key} has a default, so whenUnset would contradict it`);
  const notes = [
    required ? "(required)" : undefined,
    doc.description,
    doc.whenUnset === undefined ? undefined : `Default: ${doc.whenUnset}.`,
    doc.replaces === undefined ? undefined : `Replaces ${doc.replaces}.`,
  ];
  const lines = comment(notes.filter((note) => note !== undefined).join(" "));
  if (hasDefault) {
    lines.push(...assignment(key, TFVARS_DEFAULTS[key], doc.unit));
    if (doc.example !== undefined) lines.push(...commentedOut(assignment(key, doc.example, doc.unit)));
  } else if (required) {
    lines.push(...assignment(key, doc.example, doc.unit));
  } else {
    lines.push(...commentedOut(assignment(key, doc.example, doc.unit)));
  }
  return lines;
}

/** `key = value # unit`, on one line when it fits, else a list or object with one item per line. */
function assignment(key: string, value: unknown, unit?: string): string[] {
  const line = unit === undefined ? `${key} = ${hcl(value)}` : `${key} = ${hcl(value)} # ${unit}`;
  if (`# ${line}`.length <= WIDTH) return [line];
  if (Array.isArray(value)) return [`${key} = [`, ...value.map((item) => `  ${hcl(item)},`), "]"];
  if (isObject(value)) {
    const width = Math.max(...Object.keys(value).map((name) => hclKey(name).length));
    return [`${key} = {`, ...Object.entries(value).map(([name, item]) => `  ${hclKey(name).padEnd(width)} = ${hcl(item)}`), "}"];
  }
  return [line];
}

/** A value in HCL syntax, on one line. Strings as JSON: HCL reads the same escapes. */
function hcl(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(hcl).join(", ")}]`;
  if (isObject(value)) {
    const entries = Object.entries(value).map(([name, item]) => `${hclKey(name)} = ${hcl(item)}`);
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  return JSON.stringify(value);
}

function hclKey(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? name : JSON.stringify(name);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function commentedOut(lines: readonly string[]): string[] {
  return lines.map((line) => `# ${line}`);
}

/** Prose as comment lines of at most {@link WIDTH} columns; a `code span` is never broken, and a longer word gets a line of its own. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.match(/(?:`[^`]*`|[^\s`])+/g) ?? []) {
    if (line !== "#" && `${line} ${word}`.length > WIDTH) {
      lines.push(line);
      line = "#";
    }
    line = `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}
