/**
 * Building the service for the fleet: appArtifact() bundles app/ and packs it with its production dependencies into
 * one content-addressed .tgz. main.ts runs it once, before any stack exists, and hands the result to every
 * SeckillStack as a prop: no construct builds anything behind the synth's back, and stack tests pass a small
 * stand-in instead of building the service.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { create as createTar } from "tar";
import { projectRoot } from "./project-root";

/** Our own service code as one file, and the packages it requires. */
export interface AppBundle {
  /** app/main.ts and everything it imports from app/, as one CommonJS file; packages stay `require`s. */
  readonly mainJs: string;
  /** The production dependencies the bundle requires, at their lockfile versions. */
  readonly dependencies: Readonly<Record<string, string>>;
}

/** The service as one pinned file the stack uploads and instances download. */
export interface AppArtifact {
  /** Local .tgz (main.js, node_modules/, package.json, package-lock.json), for the stack to upload (a TerraformAsset). */
  readonly path: string;
  /** Hex SHA-256 of that file; the user data accepts nothing else. */
  readonly sha256: string;
  /** Object key named by content, so uploading a new artifact never changes the one running instances' user data names. */
  readonly objectKey: string;
}

/**
 * Bundles app/main.ts with esbuild.
 * Packages are left external; esbuild's metafile says which ones the bundle really requires.
 */
export function bundleApp(root = projectRoot()): AppBundle {
  const entry = join(root, "app", "main.ts");
  if (!existsSync(entry)) throw new Error(`app artifact: the service entry point ${entry} does not exist`);
  const result = buildSync({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    // Production runs Node 24; the same bundle also runs on the Node 20 of development machines.
    target: "node20",
    format: "cjs",
    // Not minified: size does not matter in the artifact, readable stack traces in the journal do.
    packages: "external",
    loader: { ".lua": "text" },
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
      throw new Error(`app artifact: app/ imports "${name}", which is not in package.json "dependencies"`);
    }
    dependencies[name] = lockEntry(lock, `node_modules/${name}`).version;
  }
  return { mainJs: result.outputFiles[0].text, dependencies };
}

// Bump when the artifact's layout or build changes, so cached builds are not reused.
const ARTIFACT_FORMAT = 2;
// Instances are x86-64 Alibaba Cloud Linux 3 (glibc): packages with prebuilt binaries get those, whatever builds it.
const NPM_CI_ARGS = [
  "ci",
  "--omit=dev",
  "--ignore-scripts",
  "--os=linux",
  "--cpu=x64",
  "--libc=glibc",
  "--prefer-offline",
  "--no-audit",
  "--no-fund",
  "--loglevel=error",
];

/**
 * The bundle and its production dependencies, exactly as the project lockfile pins them (npm checks every tarball
 * against the lockfile's integrity), packed reproducibly: same code and lockfile, same bytes, same SHA-256.
 * Builds are kept under dist/app-artifact/: the npm install per lockfile content, the archive per bundle on top.
 */
export function appArtifact(root = projectRoot(), bundle = bundleApp(root)): AppArtifact {
  const cacheDir = join(root, "dist", "app-artifact");
  const installed = installedDependencies(root, bundle, cacheDir);
  const path = join(cacheDir, `app-${sha256(JSON.stringify({ installed, mainJs: bundle.mainJs })).slice(0, 32)}.tgz`);
  if (!existsSync(path)) {
    // The archive's tree: hard links to the cached install, plus main.js.
    const staging = mkdtempSync(join(cacheDir, "staging-"));
    try {
      linkTree(installed, staging);
      writeFileSync(join(staging, "main.js"), bundle.mainJs, { mode: 0o644 });
      const entries = normalizedTree(staging, ["main.js", "node_modules", "package.json", "package-lock.json"]);
      const partial = `${path}.${process.pid}.partial`;
      createTar(
        { cwd: staging, file: partial, sync: true, gzip: { level: 9 }, portable: true, mtime: new Date(0), noDirRecurse: true },
        entries,
      );
      renameSync(partial, path);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const digest = sha256(readFileSync(path));
  return { path, sha256: digest, objectKey: `seckill/app-${digest}.tgz` };
}

/** `npm ci` of the bundle's dependencies in a directory named by its inputs, done once. */
function installedDependencies(root: string, bundle: AppBundle, cacheDir: string): string {
  const lock: Lockfile = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const manifest = { name: "seckill", version: "0.0.0", private: true, dependencies: bundle.dependencies };
  const files = {
    "package.json": `${JSON.stringify(manifest, null, 2)}\n`,
    "package-lock.json": `${JSON.stringify(productionLock(lock, manifest), null, 2)}\n`,
  };
  const installed = join(cacheDir, `dependencies-${sha256(JSON.stringify({ ARTIFACT_FORMAT, NPM_CI_ARGS, files })).slice(0, 32)}`);
  if (existsSync(installed)) return installed;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, "install-"));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(work, name), content);
    try {
      execFileSync("npm", NPM_CI_ARGS, { cwd: work, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    } catch (error) {
      const stderr = ((error as { stderr?: string }).stderr ?? "").split("\n").slice(0, 12).join("\n");
      throw new Error(`app artifact: npm ${NPM_CI_ARGS.join(" ")} failed for the production dependencies:\n${stderr}`, { cause: error });
    }
    // npm's own record of the install names the registry it used; the artifact must not depend on that.
    rmSync(join(work, "node_modules", ".package-lock.json"), { force: true });
    normalizedTree(work, ["node_modules", "package.json", "package-lock.json"]);
    renameSync(work, installed);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    // Another process may have finished the same install first.
    if (!existsSync(installed)) throw error;
  }
  return installed;
}

/** Recreates `from`'s tree in `to` with hard links (same file system: the cache directory). */
function linkTree(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    const target = join(to, name);
    const stat = lstatSync(source);
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (stat.isDirectory()) {
      mkdirSync(target);
      linkTree(source, target);
    } else linkSync(source, target);
  }
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
  if (!entry) throw new Error(`app artifact: package-lock.json has no "${path}"; run npm install`);
  if (entry.link)
    throw new Error(`app artifact: "${path}" is a link in package-lock.json; production dependencies must come from the registry`);
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
