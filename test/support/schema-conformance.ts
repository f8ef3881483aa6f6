/**
 * Checks synthesized Terraform JSON (`Testing.synth(stack)` or a cdk.tf.json) against the vendored
 * alicloud provider schema, the way `terraform validate` would judge the configuration's shape:
 * unknown resource types, arguments and blocks; missing required arguments and blocks; literal
 * values of the wrong type; block counts outside min/max items; arguments the provider only computes.
 * Terraform expressions (strings with an unescaped `${` or `%{`) are accepted for any attribute type.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TerraformJson } from "../../contract/terraform-json";

type CtyType = string | [string, CtyType] | ["object", Record<string, CtyType>];

interface SchemaAttribute {
  type: CtyType;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
}

interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, SchemaBlockType>;
}

interface SchemaBlockType {
  nesting_mode: "single" | "list" | "set" | "map";
  block: SchemaBlock;
  min_items?: number;
  max_items?: number;
}

interface ProviderSchema {
  provider: { block: SchemaBlock };
  resource_schemas: Record<string, { block: SchemaBlock }>;
  data_source_schemas: Record<string, { block: SchemaBlock }>;
}

const PROVIDER_SOURCE = "registry.terraform.io/aliyun/alicloud";
const PROVIDER_PREFIX = "alicloud_";
const SCHEMA_FILE = join(__dirname, "..", "..", "provider-schema", "alicloud@~%3E%201.289.json");

/** Terraform meta-arguments, valid on every resource / data source / provider configuration. */
const RESOURCE_META_ARGUMENTS = new Set(["count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection", "//"]);
const DATA_META_ARGUMENTS = new Set(["count", "for_each", "depends_on", "provider", "lifecycle", "//"]);
const PROVIDER_META_ARGUMENTS = new Set(["alias", "version", "//"]);

let vendored: ProviderSchema | undefined;

export function loadVendoredSchema(): ProviderSchema {
  vendored ??= JSON.parse(readFileSync(SCHEMA_FILE, "utf8")).provider_schemas[PROVIDER_SOURCE] as ProviderSchema;
  return vendored;
}

/** Every way `synth` (a JSON string or parsed object) breaks the provider schema; empty when it conforms. */
export function schemaViolations(synth: string | object, schema: ProviderSchema = loadVendoredSchema()): string[] {
  const config = (typeof synth === "string" ? JSON.parse(synth) : synth) as TerraformJson;
  const violations: string[] = [];
  const report = (path: string, message: string) => violations.push(`${path}: ${message}`);

  for (const [kind, schemas, meta] of [
    ["resource", schema.resource_schemas, RESOURCE_META_ARGUMENTS],
    ["data", schema.data_source_schemas, DATA_META_ARGUMENTS],
  ] as const) {
    for (const [type, instances] of Object.entries(config[kind] ?? {})) {
      if (!type.startsWith(PROVIDER_PREFIX)) continue; // other providers bring their own bindings
      const typeSchema = schemas[type];
      for (const [name, body] of Object.entries(instances)) {
        const path = `${kind}.${type}.${name}`;
        if (!typeSchema) report(path, `unknown ${kind === "data" ? "data source" : "resource"} type ${type}`);
        else checkBlock(typeSchema.block, body, path, meta, report);
      }
    }
  }

  const providerConfigs = config.provider?.alicloud;
  const usesProvider =
    providerConfigs !== undefined ||
    (["resource", "data"] as const).some((kind) => Object.keys(config[kind] ?? {}).some((t) => t.startsWith(PROVIDER_PREFIX)));
  for (const [i, body] of (Array.isArray(providerConfigs) ? providerConfigs : providerConfigs ? [providerConfigs] : []).entries()) {
    checkBlock(schema.provider.block, body, `provider.alicloud[${i}]`, PROVIDER_META_ARGUMENTS, report);
  }
  const source = config.terraform?.required_providers?.alicloud?.source;
  if (usesProvider && source !== "aliyun/alicloud") {
    // cdktf writes required_providers only for stacks with an AlicloudProvider; without it Terraform looks for hashicorp/alicloud.
    report(
      "terraform.required_providers.alicloud",
      `source is ${JSON.stringify(source)}, not "aliyun/alicloud" (does the stack declare an AlicloudProvider?)`,
    );
  }
  return violations;
}

type Report = (path: string, message: string) => void;

/** A Terraform template: `${...}` or `%{...}` that is not escaped as `$${` / `%%{`. */
function isExpression(value: unknown): boolean {
  return typeof value === "string" && /(^|[^$])\$\{|(^|[^%])%\{/.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkBlock(block: SchemaBlock, body: unknown, path: string, meta: ReadonlySet<string>, report: Report): void {
  if (!isObject(body)) {
    report(path, `expected a block (object), got ${describe(body)}`);
    return;
  }
  const attributes = block.attributes ?? {};
  const blockTypes = block.block_types ?? {};
  const dynamicBlocks = isObject(body.dynamic) ? body.dynamic : {};

  for (const [key, value] of Object.entries(body)) {
    if (meta.has(key) || key === "dynamic") continue;
    const attribute = attributes[key];
    const blockType = blockTypes[key];
    if (attribute) {
      if (attribute.computed && !attribute.optional && !attribute.required)
        report(`${path}.${key}`, "is computed by the provider and cannot be set");
      else if (value !== null) checkValue(attribute.type, value, `${path}.${key}`, report);
    } else if (blockType) {
      checkNestedBlocks(blockType, value, `${path}.${key}`, key in dynamicBlocks, report);
    } else report(`${path}.${key}`, "unknown argument or block");
  }

  for (const [key, value] of Object.entries(dynamicBlocks)) {
    const blockType = blockTypes[key];
    if (!blockType) report(`${path}.dynamic.${key}`, "unknown block");
    else if (isObject(value) && isObject(value.content))
      checkBlock(blockType.block, value.content, `${path}.dynamic.${key}.content`, new Set(), report);
  }

  for (const [key, attribute] of Object.entries(attributes)) {
    if (attribute.required && (body[key] === undefined || body[key] === null)) report(`${path}.${key}`, "required argument is missing");
  }
  for (const [key, blockType] of Object.entries(blockTypes)) {
    if ((blockType.min_items ?? 0) > 0 && body[key] === undefined && !(key in dynamicBlocks)) {
      report(`${path}.${key}`, `required block is missing (min_items ${blockType.min_items})`);
    }
  }
}

function checkNestedBlocks(blockType: SchemaBlockType, value: unknown, path: string, alsoDynamic: boolean, report: Report): void {
  if (blockType.nesting_mode === "single") {
    if (Array.isArray(value)) report(path, "is a single block: give one object, not an array");
    else checkBlock(blockType.block, value, path, new Set(), report);
    return;
  }
  if (blockType.nesting_mode === "map") {
    if (!isObject(value)) report(path, `expected a map of blocks, got ${describe(value)}`);
    else for (const [label, body] of Object.entries(value)) checkBlock(blockType.block, body, `${path}.${label}`, new Set(), report);
    return;
  }
  // Terraform's JSON syntax reads one object as a single block of a list or set (cdktf emits
  // blocks with max_items 1 that way) and an array as any number of blocks.
  if (!Array.isArray(value) && !isObject(value)) {
    report(path, `expected a block (object) or an array of blocks, got ${describe(value)}`);
    return;
  }
  const bodies = Array.isArray(value) ? value : [value];
  bodies.forEach((body, i) => checkBlock(blockType.block, body, Array.isArray(value) ? `${path}[${i}]` : path, new Set(), report));
  if (alsoDynamic) return;
  if (blockType.min_items && bodies.length < blockType.min_items)
    report(path, `needs at least ${blockType.min_items} block(s), got ${bodies.length}`);
  if (blockType.max_items && bodies.length > blockType.max_items)
    report(path, `allows at most ${blockType.max_items} block(s), got ${bodies.length}`);
}

function checkValue(type: CtyType, value: unknown, path: string, report: Report): void {
  if (isExpression(value)) return;
  const mismatch = () => report(path, `expected ${typeName(type)}, got ${describe(value)}`);
  const primitive = { string: "string", number: "number", bool: "boolean" }[type as string];
  if (primitive) {
    // Terraform would convert some literals (80 to "80"); we hold literals to their declared type.
    if (typeof value !== primitive) mismatch();
    return;
  }
  if (type === "dynamic") return;
  if (!Array.isArray(type)) throw new Error(`${path}: unsupported schema type ${JSON.stringify(type)}`);
  const [kind, elem] = type;
  if (kind === "list" || kind === "set") {
    if (!Array.isArray(value)) return mismatch();
    value.forEach((v, i) => checkValue(elem as CtyType, v, `${path}[${i}]`, report));
  } else if (kind === "map") {
    if (!isObject(value)) return mismatch();
    for (const [k, v] of Object.entries(value)) checkValue(elem as CtyType, v, `${path}.${k}`, report);
  } else if (kind === "object") {
    if (!isObject(value)) return mismatch();
    const fields = elem as Record<string, CtyType>;
    for (const [k, v] of Object.entries(value)) {
      if (!(k in fields)) report(`${path}.${k}`, "unknown object attribute");
      else checkValue(fields[k], v, `${path}.${k}`, report);
    }
    for (const k of Object.keys(fields)) if (!(k in value)) report(`${path}.${k}`, "object attribute is missing");
  } else throw new Error(`${path}: unsupported schema type ${JSON.stringify(type)}`);
}

function typeName(type: CtyType): string {
  if (typeof type === "string") return type;
  if (type[0] === "object") return "object";
  return `${type[0]} of ${typeName(type[1] as CtyType)}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
