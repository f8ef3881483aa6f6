/**
 * Reads terraform-plugin-sdk (v1, as the alicloud provider uses: helper/schema) declarations from
 * Go source and lowers them the way that SDK's helper/schema/core_schema.go does, into the JSON
 * `terraform providers schema -json` prints. Fields that do not shape the schema (ForceNew,
 * ValidateFunc, Default, ...) are skipped; any field or expression not listed here is an error.
 */
import { Expr, GoSyntaxError, Parser, TypeExpr } from "./go-syntax";
import { GoPackage } from "./go-package";

// ---------------------------------------------------------------------------------------------
// The JSON model, field order as terraform's command/jsonprovider emits it.

export type CtyType = "string" | "number" | "bool" | ["list" | "set" | "map", CtyType] | ["object", Record<string, CtyType>];

export interface JsonAttribute {
  type: CtyType;
  description?: string;
  description_kind: "plain";
  deprecated?: true;
  required?: true;
  optional?: true;
  computed?: true;
  sensitive?: true;
}

export interface JsonBlock {
  attributes?: Record<string, JsonAttribute>;
  block_types?: Record<string, JsonBlockType>;
  description?: string;
  description_kind: "plain";
  deprecated?: true;
}

export interface JsonBlockType {
  nesting_mode: "single" | "list" | "set" | "map";
  block: JsonBlock;
  min_items?: number;
  max_items?: number;
}

export interface JsonSchema {
  version: number;
  block: JsonBlock;
}

// ---------------------------------------------------------------------------------------------
// The helper/schema model, as far as it shapes the core schema.

type ValueType = "TypeBool" | "TypeInt" | "TypeFloat" | "TypeString" | "TypeList" | "TypeMap" | "TypeSet";
const VALUE_TYPES: ValueType[] = ["TypeBool", "TypeInt", "TypeFloat", "TypeString", "TypeList", "TypeMap", "TypeSet"];

interface SdkSchema {
  type: ValueType;
  optional: boolean;
  required: boolean;
  computed: boolean;
  sensitive: boolean;
  deprecated: string;
  description: string;
  elem?: { schema: SdkSchema } | { resource: SdkResource } | { valueType: ValueType };
  minItems: number;
  maxItems: number;
  configMode: "auto" | "attr" | "block";
  /** Whether a DefaultFunc is present and returns non-nil with its environment variables unset. */
  defaultFuncGivesValue?: boolean;
}

interface SdkResource {
  schema: Map<string, SdkSchema>;
  timeouts?: Set<"create" | "read" | "update" | "delete" | "default">;
  schemaVersion: number;
  description: string;
  deprecationMessage: string;
}

/** Schema fields that do not change the core schema. */
const SCHEMA_FIELDS_WITHOUT_EFFECT = new Set([
  "ForceNew",
  "ValidateFunc",
  "DiffSuppressFunc",
  "Default",
  "ConflictsWith",
  "Set",
  "StateFunc",
  "AtLeastOneOf",
  "ExactlyOneOf",
  "RequiredWith",
  "Removed",
  "InputDefault",
  "ComputedWhen",
  "PromoteSingle",
]);
const RESOURCE_FIELDS_WITHOUT_EFFECT = new Set([
  "Create",
  "Read",
  "Update",
  "Delete",
  "Exists",
  "Importer",
  "CustomizeDiff",
  "StateUpgraders",
  "MigrateState",
]);

// ---------------------------------------------------------------------------------------------
// Evaluation of Go expressions against the package.

interface Scope {
  bindings: Map<string, Bound>;
}
interface Bound {
  expr: Expr;
  scope: Scope | null;
}

const at = (e: Expr) => `${e.file}:${e.line}`;

export class SchemaReader {
  constructor(private readonly pkg: GoPackage) {}

  private fail(e: Expr, message: string): never {
    throw new GoSyntaxError(`${at(e)}: ${message}`);
  }

  /** Follows &, identifiers and calls of package functions until a value expression remains. */
  private resolve(expr: Expr, scope: Scope | null, depth = 0): Bound {
    if (depth > 50) this.fail(expr, "resolution too deep");
    if (expr.k === "unary" && expr.op === "&") return this.resolve(expr.x, scope, depth + 1);
    if (expr.k === "ident") {
      const bound = scope?.bindings.get(expr.name);
      if (bound) return this.resolve(bound.expr, bound.scope, depth + 1);
      const value = this.pkg.valueExpr(expr.name);
      if (value) return this.resolve(value, null, depth + 1);
      if (this.pkg.values.has(expr.name)) this.fail(expr, `package variable ${expr.name} has no value we can read`);
    }
    if (expr.k === "call" && expr.fn.k === "ident") {
      const fn = this.pkg.funcs.get(expr.fn.name);
      if (fn) {
        if (fn.params.length !== expr.args.length)
          this.fail(expr, `call of ${fn.name} with ${expr.args.length} arguments for ${fn.params.length} parameters`);
        const bindings = new Map<string, Bound>(fn.params.map((p, i) => [p, { expr: expr.args[i], scope }]));
        return this.resolve(this.pkg.returnExpr(fn), { bindings }, depth + 1);
      }
    }
    return { expr, scope };
  }

  private str(e0: Expr, s0: Scope | null): string {
    const { expr: e, scope } = this.resolve(e0, s0);
    switch (e.k) {
      case "string":
        return e.value;
      case "binary":
        if (e.op === "+") return this.str(e.x, scope) + this.str(e.y, scope);
        break;
      case "index": {
        const map = this.resolve(e.x, scope);
        if (map.expr.k === "composite" && isType(map.expr.type, "map")) {
          const key = this.str(e.index, scope);
          const hit = map.expr.elts.find((elt) => elt.key && this.str(elt.key, map.scope) === key);
          return hit ? this.str(hit.value, map.scope) : ""; // a missing key reads as the zero value
        }
        break;
      }
      case "call":
        if (isSelector(e.fn, "fmt", "Sprintf") && e.args.length > 0) return this.sprintf(e, scope);
        if (e.fn.k === "ident" && e.args.length === 1 && (this.pkg.types.has(e.fn.name) || e.fn.name === "string"))
          return this.str(e.args[0], scope);
        break;
      default: // any other expression has no string value the schema could need
        break;
    }
    return this.fail(e, "expected a string we can evaluate");
  }

  private sprintf(e: Expr & { k: "call" }, scope: Scope | null): string {
    const format = this.str(e.args[0], scope);
    let next = 1;
    return format.replace(/%([%sdvq])/g, (_m, verb: string) => {
      if (verb === "%") return "%";
      const arg = e.args[next++];
      if (!arg) this.fail(e, "fmt.Sprintf with too few arguments");
      if (verb === "d") return String(this.int(arg, scope));
      if (verb === "q") return JSON.stringify(this.str(arg, scope));
      const { expr } = this.resolve(arg, scope);
      return expr.k === "int" ? String(expr.value) : this.str(arg, scope);
    });
  }

  private int(e0: Expr, s0: Scope | null): number {
    const { expr: e, scope } = this.resolve(e0, s0);
    if (e.k === "int") return e.value;
    if (e.k === "unary" && e.op === "-") return -this.int(e.x, scope);
    if (
      e.k === "call" &&
      e.fn.k === "ident" &&
      e.args.length === 1 &&
      (this.pkg.types.has(e.fn.name) || /^u?int(8|16|32|64)?$/.test(e.fn.name))
    ) {
      return this.int(e.args[0], scope);
    }
    return this.fail(e, "expected an integer we can evaluate");
  }

  private bool(e0: Expr, s0: Scope | null): boolean {
    const { expr: e } = this.resolve(e0, s0);
    if (e.k === "ident" && (e.name === "true" || e.name === "false")) return e.name === "true";
    return this.fail(e, "expected true or false");
  }

  private valueType(e0: Expr, s0: Scope | null): ValueType {
    const { expr: e } = this.resolve(e0, s0);
    if (e.k === "selector" && e.x.k === "ident" && e.x.name === "schema" && VALUE_TYPES.includes(e.name as ValueType))
      return e.name as ValueType;
    return this.fail(e, "expected a schema.ValueType");
  }

  /** The keyed fields of a struct literal, after checking that every field is one we handle. */
  private fields(e: Expr & { k: "composite" }, scope: Scope | null, known: Set<string>, ignored: Set<string>): Map<string, Bound> {
    const out = new Map<string, Bound>();
    for (const elt of e.elts) {
      if (!elt.key || elt.key.k !== "ident") this.fail(e, "struct literal without field names");
      const name = elt.key.name;
      if (ignored.has(name)) continue;
      if (!known.has(name)) this.fail(elt.key, `field ${name} is not understood`);
      out.set(name, { expr: elt.value, scope });
    }
    return out;
  }

  readSchema(e0: Expr, s0: Scope | null, elided = false): SdkSchema {
    const { expr: e, scope } = this.resolve(e0, s0);
    if (e.k !== "composite" || !(isType(e.type, "schema.Schema") || (elided && e.type === null)))
      this.fail(e, "expected a schema.Schema literal");
    const f = this.fields(
      e,
      scope,
      new Set([
        "Type",
        "Optional",
        "Required",
        "Computed",
        "Sensitive",
        "Deprecated",
        "Description",
        "Elem",
        "MinItems",
        "MaxItems",
        "ConfigMode",
        "DefaultFunc",
      ]),
      SCHEMA_FIELDS_WITHOUT_EFFECT,
    );
    const get = <T>(name: string, read: (b: Bound) => T, fallback: T): T => {
      const b = f.get(name);
      return b ? read(b) : fallback;
    };
    const typeField = f.get("Type");
    if (!typeField) this.fail(e, "schema without Type");
    const s: SdkSchema = {
      type: this.valueType(typeField.expr, typeField.scope),
      optional: get("Optional", (b) => this.bool(b.expr, b.scope), false),
      required: get("Required", (b) => this.bool(b.expr, b.scope), false),
      computed: get("Computed", (b) => this.bool(b.expr, b.scope), false),
      sensitive: get("Sensitive", (b) => this.bool(b.expr, b.scope), false),
      deprecated: get("Deprecated", (b) => this.str(b.expr, b.scope), ""),
      description: get("Description", (b) => this.str(b.expr, b.scope), ""),
      minItems: get("MinItems", (b) => this.int(b.expr, b.scope), 0),
      maxItems: get("MaxItems", (b) => this.int(b.expr, b.scope), 0),
      configMode: get("ConfigMode", (b) => this.configMode(b), "auto"),
    };
    const elem = f.get("Elem");
    if (elem) s.elem = this.readElem(elem);
    const defaultFunc = f.get("DefaultFunc");
    if (defaultFunc) s.defaultFuncGivesValue = this.defaultFuncGivesValue(defaultFunc);
    return s;
  }

  private configMode(b: Bound): "auto" | "attr" | "block" {
    const { expr } = this.resolve(b.expr, b.scope);
    if (isSelector(expr, "schema", "SchemaConfigModeAttr")) return "attr";
    if (isSelector(expr, "schema", "SchemaConfigModeBlock")) return "block";
    if (isSelector(expr, "schema", "SchemaConfigModeAuto")) return "auto";
    return this.fail(expr, "unknown ConfigMode");
  }

  /**
   * core_schema.go calls a Required attribute's DefaultFunc: a non-nil result makes it optional.
   * We evaluate the SDK's env helpers as Terraform sees them with those variables unset.
   */
  private defaultFuncGivesValue(b: Bound): boolean {
    const { expr, scope } = this.resolve(b.expr, b.scope);
    if (
      expr.k === "call" &&
      (isSelector(expr.fn, "schema", "EnvDefaultFunc") || isSelector(expr.fn, "schema", "MultiEnvDefaultFunc")) &&
      expr.args.length === 2
    ) {
      const fallback = this.resolve(expr.args[1], scope).expr;
      return !(fallback.k === "ident" && fallback.name === "nil");
    }
    return this.fail(expr, "DefaultFunc other than schema.EnvDefaultFunc/MultiEnvDefaultFunc");
  }

  private readElem(b: Bound): NonNullable<SdkSchema["elem"]> {
    const { expr, scope } = this.resolve(b.expr, b.scope);
    if (expr.k === "composite" && isType(expr.type, "schema.Schema")) return { schema: this.readSchema(expr, scope) };
    if (expr.k === "composite" && isType(expr.type, "schema.Resource")) return { resource: this.readResource(expr, scope) };
    if (expr.k === "selector") return { valueType: this.valueType(expr, scope) };
    return this.fail(expr, "Elem must be a *schema.Schema, *schema.Resource or ValueType");
  }

  readSchemaMap(e0: Expr, s0: Scope | null): Map<string, SdkSchema> {
    const { expr: e, scope } = this.resolve(e0, s0);
    if (e.k !== "composite" || !isType(e.type, "map[string]*schema.Schema")) this.fail(e, "expected a map[string]*schema.Schema literal");
    const out = new Map<string, SdkSchema>();
    for (const elt of e.elts) {
      if (!elt.key) this.fail(e, "map literal element without key");
      const name = this.str(elt.key, scope);
      if (out.has(name)) this.fail(elt.key, `duplicate key ${name}`);
      out.set(name, this.readSchema(elt.value, scope, true));
    }
    return out;
  }

  readResource(e0: Expr, s0: Scope | null): SdkResource {
    const { expr: e, scope } = this.resolve(e0, s0);
    if (e.k !== "composite" || !isType(e.type, "schema.Resource")) this.fail(e, "expected a schema.Resource literal");
    const f = this.fields(
      e,
      scope,
      new Set(["Schema", "Timeouts", "SchemaVersion", "Description", "DeprecationMessage"]),
      RESOURCE_FIELDS_WITHOUT_EFFECT,
    );
    const schemaField = f.get("Schema");
    const r: SdkResource = {
      schema: schemaField ? this.readSchemaMap(schemaField.expr, schemaField.scope) : new Map(),
      schemaVersion: f.has("SchemaVersion") ? this.int(f.get("SchemaVersion")!.expr, scope) : 0,
      description: f.has("Description") ? this.str(f.get("Description")!.expr, scope) : "",
      deprecationMessage: f.has("DeprecationMessage") ? this.str(f.get("DeprecationMessage")!.expr, scope) : "",
    };
    const timeouts = f.get("Timeouts");
    if (timeouts) r.timeouts = this.readTimeouts(timeouts);
    return r;
  }

  private readTimeouts(b: Bound): NonNullable<SdkResource["timeouts"]> {
    const { expr, scope } = this.resolve(b.expr, b.scope);
    if (expr.k !== "composite" || !isType(expr.type, "schema.ResourceTimeout"))
      this.fail(expr, "expected a schema.ResourceTimeout literal");
    const operations = { Create: "create", Read: "read", Update: "update", Delete: "delete", Default: "default" } as const;
    const f = this.fields(expr, scope, new Set(Object.keys(operations)), new Set());
    const out: NonNullable<SdkResource["timeouts"]> = new Set();
    for (const [name, value] of f) {
      const v = this.resolve(value.expr, value.scope).expr;
      if (!(v.k === "ident" && v.name === "nil")) out.add(operations[name as keyof typeof operations]);
    }
    return out;
  }

  /** The composite literal `name := &schema.Provider{...}` that starts the provider's constructor. */
  readProvider(constructor: string): { schema: Map<string, SdkSchema>; resources: Map<string, Expr>; dataSources: Map<string, Expr> } {
    const fn = this.pkg.funcs.get(constructor);
    if (!fn || fn.body < 0) throw new Error(`provider constructor func ${constructor} not found`);
    const p = new Parser(fn.tokens, fn.file, fn.body + 1);
    p.skipSemis();
    const variable = p.expectIdent();
    p.expectOp(":=");
    const literal = p.parseExpr();
    for (let depth = 1; depth > 0;) {
      const t = p.next();
      if (t.kind === "op" && "([{".includes(t.text)) depth++;
      if (t.kind === "op" && ")]}".includes(t.text)) depth--;
      if (t.kind === "ident" && t.text === variable && p.isOp(".")) {
        const field = p.tokens[p.pos + 1].text;
        if (["Schema", "ResourcesMap", "DataSourcesMap"].includes(field))
          p.fail(`${constructor} changes ${variable}.${field} after building it`);
      }
    }
    const { expr, scope } = this.resolve(literal, null);
    if (expr.k !== "composite" || !isType(expr.type, "schema.Provider")) this.fail(expr, "expected a schema.Provider literal");
    const f = this.fields(
      expr,
      scope,
      new Set(["Schema", "ResourcesMap", "DataSourcesMap"]),
      new Set(["ConfigureFunc", "TerraformVersion", "MetaReset"]),
    );
    const entries = (name: string) => {
      const b = f.get(name);
      if (!b || b.expr.k !== "composite") this.fail(expr, `provider ${name} is not a map literal`);
      return new Map(b.expr.elts.map((elt) => [this.str(elt.key!, scope), elt.value]));
    };
    return {
      schema: this.readSchemaMap(f.get("Schema")!.expr, scope),
      resources: entries("ResourcesMap"),
      dataSources: entries("DataSourcesMap"),
    };
  }
}

function isSelector(e: Expr, pkg: string, name: string): boolean {
  return e.k === "selector" && e.name === name && e.x.k === "ident" && e.x.name === pkg;
}

function typeText(t: TypeExpr | null): string {
  if (!t) return "";
  switch (t.t) {
    case "name":
      return t.pkg ? `${t.pkg}.${t.name}` : t.name;
    case "ptr":
      return `*${typeText(t.elem)}`;
    case "slice":
      return `[]${typeText(t.elem)}`;
    case "array":
      return `[N]${typeText(t.elem)}`;
    case "map":
      return `map[${typeText(t.key)}]${typeText(t.elem)}`;
    case "opaque":
      return t.what;
  }
}

/** `want` is a type's text ("schema.Schema", "map[string]*schema.Schema") or "map" for any map type. */
function isType(t: TypeExpr | null, want: string): boolean {
  if (!t) return false;
  if (want === "map") return t.t === "map";
  return typeText(t.t === "ptr" ? t.elem : t) === want;
}

// ---------------------------------------------------------------------------------------------
// Lowering: terraform-plugin-sdk v1.17.2 helper/schema/core_schema.go, rule for rule.

interface CoreAttribute {
  type: CtyType;
  description: string;
  deprecated: boolean;
  required: boolean;
  optional: boolean;
  computed: boolean;
  sensitive: boolean;
}
interface CoreBlock {
  attributes: Map<string, CoreAttribute>;
  blockTypes: Map<string, CoreNestedBlock>;
  description: string;
  deprecated: boolean;
}
interface CoreNestedBlock {
  nesting: "single" | "list" | "set" | "map";
  block: CoreBlock;
  minItems: number;
  maxItems: number;
}

function schemaMapToBlock(m: Map<string, SdkSchema>): CoreBlock {
  const block: CoreBlock = { attributes: new Map(), blockTypes: new Map(), description: "", deprecated: false };
  for (const [name, s] of m) {
    if (!s.elem) {
      block.attributes.set(name, toAttribute(s));
      continue;
    }
    if (s.type === "TypeMap" && "resource" in s.elem) {
      // A map's Elem cannot be a Resource; the SDK reads it as a map of strings.
      block.attributes.set(name, toAttribute({ ...s, elem: { schema: stringSchema() } }));
      continue;
    }
    if (s.configMode === "attr") block.attributes.set(name, toAttribute(s));
    else if (s.configMode === "block") block.blockTypes.set(name, toNestedBlock(s));
    else if (s.computed && !s.optional) block.attributes.set(name, toAttribute(s));
    else if ("resource" in s.elem) block.blockTypes.set(name, toNestedBlock(s));
    else block.attributes.set(name, toAttribute(s));
  }
  return block;
}

function stringSchema(): SdkSchema {
  return {
    type: "TypeString",
    optional: false,
    required: false,
    computed: false,
    sensitive: false,
    deprecated: "",
    description: "",
    minItems: 0,
    maxItems: 0,
    configMode: "auto",
  };
}

function toAttribute(s: SdkSchema): CoreAttribute {
  let required = s.required;
  let optional = s.optional;
  if (required && s.defaultFuncGivesValue) {
    required = false;
    optional = true;
  }
  return {
    type: ctyType(s),
    description: s.description,
    deprecated: s.deprecated !== "",
    required,
    optional,
    computed: s.computed,
    sensitive: s.sensitive,
  };
}

function toNestedBlock(s: SdkSchema): CoreNestedBlock {
  if (!s.elem || !("resource" in s.elem)) throw new Error("nested block without a resource Elem");
  const block = schemaMapToBlock(s.elem.resource.schema);
  block.description = s.description;
  block.deprecated = s.deprecated !== "";
  const nesting = ({ TypeList: "list", TypeSet: "set", TypeMap: "map" } as const)[s.type as "TypeList" | "TypeSet" | "TypeMap"];
  if (!nesting) throw new Error(`invalid type ${s.type} for a block`);
  let minItems = s.minItems;
  let maxItems = s.maxItems;
  if (s.required && s.minItems === 0) minItems = 1;
  if (s.optional && s.minItems > 0) minItems = 0;
  if (s.computed && !s.optional) {
    minItems = 0;
    maxItems = 0;
  }
  return { nesting, block, minItems, maxItems };
}

function ctyType(s: SdkSchema): CtyType {
  switch (s.type) {
    case "TypeString":
      return "string";
    case "TypeBool":
      return "bool";
    case "TypeInt":
    case "TypeFloat":
      return "number";
    case "TypeList":
    case "TypeSet":
    case "TypeMap": {
      let elem: CtyType = "string"; // a collection without Elem defaults to strings
      if (s.elem && "schema" in s.elem) elem = ctyType(s.elem.schema);
      else if (s.elem && "valueType" in s.elem) elem = ctyType({ ...stringSchema(), type: s.elem.valueType });
      else if (s.elem && "resource" in s.elem) elem = impliedType(schemaMapToBlock(s.elem.resource.schema));
      return [({ TypeList: "list", TypeSet: "set", TypeMap: "map" } as const)[s.type], elem];
    }
  }
}

function impliedType(b: CoreBlock): CtyType {
  const attrs: Record<string, CtyType> = {};
  for (const [name, a] of b.attributes) attrs[name] = a.type;
  for (const [name, nb] of b.blockTypes) {
    const obj = impliedType(nb.block);
    attrs[name] = nb.nesting === "single" ? obj : [nb.nesting, obj];
  }
  return ["object", sortKeys(attrs)];
}

/** Resource.CoreConfigSchema: the implicit `id` attribute and the `timeouts` block. */
function resourceToBlock(r: SdkResource): CoreBlock {
  const block = schemaMapToBlock(r.schema);
  block.description = r.description;
  block.deprecated = r.deprecationMessage !== "";
  if (!block.attributes.has("id")) {
    block.attributes.set("id", {
      type: "string",
      description: "",
      deprecated: false,
      required: false,
      optional: true,
      computed: true,
      sensitive: false,
    });
  }
  if (r.timeouts && !block.attributes.has("timeouts") && !block.blockTypes.has("timeouts")) {
    const timeouts: CoreBlock = { attributes: new Map(), blockTypes: new Map(), description: "", deprecated: false };
    for (const op of r.timeouts) {
      timeouts.attributes.set(op, {
        type: "string",
        description: "",
        deprecated: false,
        required: false,
        optional: true,
        computed: false,
        sensitive: false,
      });
    }
    block.blockTypes.set("timeouts", { nesting: "single", block: timeouts, minItems: 0, maxItems: 0 });
  }
  return block;
}

// ---------------------------------------------------------------------------------------------
// JSON rendering (omitempty fields as terraform's jsonprovider marshals them).

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sortedEntries<T>(m: Map<string, T>): [string, T][] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function renderAttribute(a: CoreAttribute): JsonAttribute {
  return {
    type: a.type,
    ...(a.description ? { description: a.description } : {}),
    description_kind: "plain",
    ...(a.deprecated ? { deprecated: true as const } : {}),
    ...(a.required ? { required: true as const } : {}),
    ...(a.optional ? { optional: true as const } : {}),
    ...(a.computed ? { computed: true as const } : {}),
    ...(a.sensitive ? { sensitive: true as const } : {}),
  };
}

function renderBlock(b: CoreBlock): JsonBlock {
  const attributes = sortedEntries(b.attributes);
  const blockTypes = sortedEntries(b.blockTypes);
  return {
    ...(attributes.length ? { attributes: Object.fromEntries(attributes.map(([n, a]) => [n, renderAttribute(a)])) } : {}),
    ...(blockTypes.length ? { block_types: Object.fromEntries(blockTypes.map(([n, nb]) => [n, renderBlockType(nb)])) } : {}),
    ...(b.description ? { description: b.description } : {}),
    description_kind: "plain",
    ...(b.deprecated ? { deprecated: true as const } : {}),
  };
}

function renderBlockType(nb: CoreNestedBlock): JsonBlockType {
  return {
    nesting_mode: nb.nesting,
    block: renderBlock(nb.block),
    ...(nb.minItems ? { min_items: nb.minItems } : {}),
    ...(nb.maxItems ? { max_items: nb.maxItems } : {}),
  };
}

export function resourceSchemaJson(r: SdkResource): JsonSchema {
  return { version: r.schemaVersion, block: renderBlock(resourceToBlock(r)) };
}

export function providerSchemaJson(schema: Map<string, SdkSchema>): JsonSchema {
  return { version: 0, block: renderBlock(schemaMapToBlock(schema)) };
}
