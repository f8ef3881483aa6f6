/**
 * Regenerates the vendored provider schema subset from the alicloud provider's Go source.
 *
 *   npm run schema:extract -- <provider checkout | git dir> [--rev <commit>]
 *
 * Reads provider-schema/subset.json (which resources and data sources, which provider version and
 * source commit) and writes the cache file `cdktf get --experimental-provider-schema-cache-path`
 * reads. Without --rev the commit pinned in subset.json is read from a git directory; pass
 * `--rev worktree` to read a checkout's files as they are.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GoPackage, ProviderSource, readPackageFiles } from "./go-package";
import { JsonSchema, SchemaReader, providerSchemaJson, resourceSchemaJson } from "./sdk-schema";

export interface Subset {
  provider: string;
  version: string;
  sourceCommit: string;
  resources: string[];
  dataSources: string[];
}

/** Paths are relative to the project root, where npm runs scripts. */
export const SCHEMA_DIR = join(process.cwd(), "provider-schema");
export const SUBSET_FILE = join(SCHEMA_DIR, "subset.json");
/** The file name cdktf derives from the constraint `aliyun/alicloud@~> 1.289` in cdktf.json. */
export const SCHEMA_FILE = join(SCHEMA_DIR, "alicloud@~%3E%201.289.json");

/** The document `terraform providers schema -json` prints, plus `provider_versions`. */
export interface ProviderSchemaFile {
  format_version: "1.0";
  provider_schemas: Record<
    string,
    { provider: JsonSchema; resource_schemas: Record<string, JsonSchema>; data_source_schemas: Record<string, JsonSchema> }
  >;
  provider_versions: Record<string, string>;
}

export function extractSchema(source: ProviderSource, subset: Subset): ProviderSchemaFile {
  const pkg = new GoPackage(readPackageFiles(source, "alicloud"));
  const reader = new SchemaReader(pkg);
  const provider = reader.readProvider("Provider");
  const pick = (kind: string, wanted: string[], constructors: typeof provider.resources) => {
    const out: Record<string, JsonSchema> = {};
    for (const name of [...wanted].sort()) {
      const constructor = constructors.get(name);
      if (!constructor) throw new Error(`${kind} ${name} is not registered in the provider`);
      try {
        out[name] = resourceSchemaJson(reader.readResource(constructor, null));
      } catch (error) {
        throw new Error(`${kind} ${name}: ${(error as Error).message}`, { cause: error });
      }
    }
    return out;
  };
  return {
    format_version: "1.0",
    provider_schemas: {
      [subset.provider]: {
        provider: providerSchemaJson(provider.schema),
        resource_schemas: pick("resource", subset.resources, provider.resources),
        data_source_schemas: pick("data source", subset.dataSources, provider.dataSources),
      },
    },
    provider_versions: { [subset.provider]: subset.version },
  };
}

function main(argv: string[]): void {
  const [path, ...rest] = argv;
  if (!path || path.startsWith("-")) throw new Error("usage: extract <provider checkout | git dir> [--rev <commit> | --rev worktree]");
  const subset = JSON.parse(readFileSync(SUBSET_FILE, "utf8")) as Subset;
  const revFlag = rest.indexOf("--rev");
  const rev = revFlag >= 0 ? rest[revFlag + 1] : subset.sourceCommit;
  const schema = extractSchema({ path, rev: rev === "worktree" ? undefined : rev }, subset);
  writeFileSync(SCHEMA_FILE, JSON.stringify(schema, null, 1) + "\n");
  const block = schema.provider_schemas[subset.provider];
  console.log(
    `wrote ${SCHEMA_FILE}: ${Object.keys(block.resource_schemas).length} resources, ${Object.keys(block.data_source_schemas).length} data sources`,
  );
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`extract: ${(error as Error).message}`);
    process.exit(1);
  }
}
