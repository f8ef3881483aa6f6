import { buildSync } from "esbuild";
import { builtinModules } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Our own service code as one file, and what npm must install next to it on the instance. */
export interface AppBundle {
  /** app/main.ts and everything it imports from app/, minified; production dependencies stay `require`s. */
  readonly mainJs: string;
  /** package.json naming exactly the production dependencies the bundle requires, at their lockfile versions. */
  readonly packageJson: string;
  /** The project's lockfile cut down to those dependencies and everything they pull in. */
  readonly packageLockJson: string;
}

const PROJECT_NAME = "seckill-alicloud";

/** The repository root, found from here whether this runs from source (ts-jest) or compiled/bundled into dist/. */
export function projectRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === PROJECT_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`userdata: cannot find the ${PROJECT_NAME} package.json above ${__dirname}`);
  }
}

/**
 * Bundles app/main.ts with esbuild (synchronously: the renderer is called while CDKTF builds the stack).
 * Dependencies are left external and installed on boot, so only our own code travels in the user data.
 */
export function bundleApp(npmRegistry: string, root = projectRoot()): AppBundle {
  const entry = join(root, "app", "main.ts");
  if (!existsSync(entry)) throw new Error(`userdata: the service entry point ${entry} does not exist`);
  const result = buildSync({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    // The boot test runs the bundle on this machine's Node 20; production runs Node 24.
    target: "node20",
    format: "cjs",
    minify: true,
    packages: "external",
    legalComments: "none",
    charset: "ascii",
    metafile: true,
    write: false,
    outfile: "main.js",
    logLevel: "silent",
  });
  const mainJs = result.outputFiles[0].text;
  const imported = importedPackages(Object.values(result.metafile.outputs).flatMap((o) => o.imports));
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const dependencies: Record<string, string> = {};
  for (const name of imported) {
    if (!manifest.dependencies?.[name]) {
      throw new Error(`userdata: app/ imports "${name}", which is not in package.json "dependencies"`);
    }
    dependencies[name] = lockEntry(lock, `node_modules/${name}`).version;
  }
  const packageJson = { name: "seckill", version: manifest.version, private: true, dependencies };
  return {
    mainJs,
    packageJson: JSON.stringify(packageJson),
    packageLockJson: JSON.stringify(productionLock(lock, packageJson, npmRegistry)),
  };
}

function importedPackages(imports: ReadonlyArray<{ path: string; external?: boolean }>): string[] {
  const builtins = new Set(builtinModules);
  const names = new Set<string>();
  for (const { path, external } of imports) {
    if (!external || path.startsWith("node:") || builtins.has(path.split("/")[0])) continue;
    const parts = path.split("/");
    names.add(path.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
  }
  return [...names].sort();
}

interface LockEntry {
  readonly version: string;
  readonly resolved?: string;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}
interface Lockfile {
  readonly packages: Record<string, LockEntry>;
}

function lockEntry(lock: Lockfile, path: string): LockEntry {
  const entry = lock.packages[path];
  if (!entry) throw new Error(`userdata: package-lock.json has no "${path}"; run npm install`);
  if (entry.link) throw new Error(`userdata: "${path}" is a link in package-lock.json; production dependencies must come from the registry`);
  return entry;
}

/** Where Node's resolution finds `name` when required from the package installed at `from`. */
function resolveInLock(lock: Lockfile, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dir.includes("/node_modules/") ? dir.slice(0, dir.lastIndexOf("/node_modules/")) : "") {
    const candidate = `${dir ? `${dir}/` : ""}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
  }
}

// Fields npm ci needs to lay the tree out and skip other platforms' optional binaries. Integrity hashes stay out:
// at about 64 incompressible bytes per package they would cost more than half of the 16 KB (see index.ts).
const KEPT_FIELDS = ["version", "dependencies", "optionalDependencies", "peerDependencies", "peerDependenciesMeta", "optional", "os", "cpu", "libc"] as const;

/**
 * The project lockfile restricted to the production dependencies' closure, at the same paths and versions.
 * `resolved` points at the configured registry, so npm downloads each tarball directly (no metadata round trips).
 */
function productionLock(lock: Lockfile, root: { name: string; version: string; dependencies: Record<string, string> }, npmRegistry: string) {
  const registry = npmRegistry.replace(/\/+$/, "");
  const packages: Record<string, unknown> = { "": { name: root.name, version: root.version, dependencies: root.dependencies } };
  const pending = Object.keys(root.dependencies).map((name) => `node_modules/${name}`);
  const seen = new Set<string>();
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const entry = lockEntry(lock, path);
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const found = resolveInLock(lock, path, name);
      if (found) pending.push(found);
    }
  }
  for (const path of [...seen].sort()) {
    const entry = lock.packages[path] as unknown as Record<string, unknown>;
    const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    const kept: Record<string, unknown> = {};
    for (const field of KEPT_FIELDS) if (entry[field] !== undefined) kept[field] = entry[field];
    kept.resolved = entry.resolved ?? `${registry}/${name}/-/${name.split("/").pop()}-${entry.version}.tgz`;
    packages[path] = kept;
  }
  return { name: root.name, version: root.version, lockfileVersion: 3, requires: true, packages };
}
