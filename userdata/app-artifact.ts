import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildSync } from "esbuild";
import { create as createTar } from "tar";

/** Our own service code as one file, and the packages it requires. */
export interface AppBundle {
  /** app/main.ts and everything it imports from app/, minified; packages stay `require`s. */
  readonly mainJs: string;
  /** The production dependencies the bundle requires, at their lockfile versions. */
  readonly dependencies: Readonly<Record<string, string>>;
}

/** The production dependencies as one pinned file the stack uploads and instances download. */
export interface AppDependencies {
  /** Local .tgz (node_modules/, package.json, package-lock.json), for the stack to upload (e.g. a TerraformAsset). */
  readonly path: string;
  /** Hex SHA-256 of that file; the user data refuses anything else. */
  readonly sha256: string;
  /** Object key named by content, so uploading a new artifact never changes the one running instances' user data names. */
  readonly objectKey: string;
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
 * Packages are left external; esbuild's metafile says which ones the bundle really requires.
 */
export function bundleApp(root = projectRoot()): AppBundle {
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
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const lock: Lockfile = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const dependencies: Record<string, string> = {};
  for (const name of requiredPackages(Object.values(result.metafile.outputs).flatMap((o) => o.imports))) {
    if (!manifest.dependencies?.[name]) {
      throw new Error(`userdata: app/ imports "${name}", which is not in package.json "dependencies"`);
    }
    dependencies[name] = lockEntry(lock, `node_modules/${name}`).version;
  }
  return { mainJs: result.outputFiles[0].text, dependencies };
}

// Bump when the artifact's layout or build changes, so cached builds are not reused.
const ARTIFACT_FORMAT = 1;
// Instances are x86-64 Alibaba Cloud Linux 3 (glibc): packages with prebuilt binaries get those, whatever builds it.
const NPM_CI_ARGS = ["ci", "--omit=dev", "--ignore-scripts", "--os=linux", "--cpu=x64", "--libc=glibc", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

/**
 * Installs the bundle's production dependencies, exactly as the project lockfile pins them (npm checks every
 * tarball against the lockfile's integrity), and packs them reproducibly: same lockfile, same bytes, same SHA-256.
 * Built once per lockfile content and kept under dist/app-dependencies/; npm prefers its local cache.
 */
export function appDependencies(root = projectRoot(), bundle = bundleApp(root)): AppDependencies {
  const lock: Lockfile = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const manifest = { name: "seckill", version: "0.0.0", private: true, dependencies: bundle.dependencies };
  const prunedLock = productionLock(lock, manifest);
  const files = { "package.json": `${JSON.stringify(manifest, null, 2)}\n`, "package-lock.json": `${JSON.stringify(prunedLock, null, 2)}\n` };
  const buildKey = sha256(JSON.stringify({ ARTIFACT_FORMAT, NPM_CI_ARGS, files })).slice(0, 32);
  const cacheDir = join(root, "dist", "app-dependencies");
  const path = join(cacheDir, `${buildKey}.tgz`);
  if (!existsSync(path)) {
    mkdirSync(cacheDir, { recursive: true });
    const work = mkdtempSync(join(tmpdir(), "seckill-deps-"));
    try {
      for (const [name, content] of Object.entries(files)) writeFileSync(join(work, name), content);
      try {
        execFileSync("npm", NPM_CI_ARGS, { cwd: work, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
      } catch (error) {
        const stderr = ((error as { stderr?: string }).stderr ?? "").split("\n").slice(0, 12).join("\n");
        throw new Error(`userdata: npm ${NPM_CI_ARGS.join(" ")} failed for the production dependencies:\n${stderr}`);
      }
      // npm's own record of the install names the registry it used; the artifact must not depend on that.
      rmSync(join(work, "node_modules", ".package-lock.json"), { force: true });
      const entries = normalizedTree(work, ["node_modules", "package.json", "package-lock.json"]);
      const partial = `${path}.${process.pid}.partial`;
      createTar({ cwd: work, file: partial, sync: true, gzip: { level: 9 }, portable: true, mtime: new Date(0), noDirRecurse: true }, entries);
      renameSync(partial, path);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const digest = sha256(readFileSync(path));
  return { path, sha256: digest, objectKey: `seckill/app-dependencies-${digest}.tgz` };
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every path under `tops`, sorted, with modes reduced to 0644/0755 so the archive does not depend on the umask. */
function normalizedTree(base: string, tops: string[]): string[] {
  const paths: string[] = [];
  const visit = (relative: string) => {
    const absolute = join(base, relative);
    const stat = lstatSync(absolute);
    paths.push(relative);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      chmodSync(absolute, 0o755);
      for (const child of readdirSync(absolute)) visit(`${relative}/${child}`);
    } else {
      chmodSync(absolute, stat.mode & 0o111 ? 0o755 : 0o644);
    }
  };
  for (const top of tops) visit(top);
  return paths.sort();
}

function requiredPackages(imports: ReadonlyArray<{ path: string; external?: boolean }>): string[] {
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
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
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

/** The project lockfile restricted to the closure of the given dependencies, at the same paths, versions and integrity. */
function productionLock(lock: Lockfile, root: { name: string; version: string; dependencies: Readonly<Record<string, string>> }) {
  const packages: Record<string, unknown> = { "": { name: root.name, version: root.version, dependencies: root.dependencies } };
  const pending = Object.keys(root.dependencies).map((name) => `node_modules/${name}`);
  const seen = new Set<string>();
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const entry = lockEntry(lock, path);
    // npm installs required peers too (mysql2 asks for @types/node), so they belong to the tree it checks.
    const requiredPeers = Object.keys(entry.peerDependencies ?? {}).filter((name) => !entry.peerDependenciesMeta?.[name]?.optional);
    for (const name of [...Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }), ...requiredPeers]) {
      const found = resolveInLock(lock, path, name);
      if (found) pending.push(found);
    }
  }
  for (const path of [...seen].sort()) {
    // In the project a package may be there for its dev tools too (dev flags); here everything is production.
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = lock.packages[path] as LockEntry & Record<string, unknown>;
    packages[path] = entry;
  }
  return { name: root.name, version: root.version, lockfileVersion: 3, requires: true, packages };
}
