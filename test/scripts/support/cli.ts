import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../../../build/project-root";

export const PROJECT_DIR = projectRoot();

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

type Tool = "smoke" | "demo" | "bench" | "capacity" | "watch";

/** Where each tool's npm script builds it. */
const TOOL_ENTRY: Record<Tool, string> = {
  smoke: "dist/smoke.js",
  demo: "dist/demo.js",
  bench: "dist/bench/bench.js",
  capacity: "dist/capacity.js",
  watch: "dist/watch.js",
};

/** Builds an ops tool exactly as its npm script does (`npm run <tool> -- --help`). */
export function buildTool(tool: Tool): void {
  build(`npm run ${tool}`, "npm", ["run", "--silent", tool, "--", "--help"]);
}

/** Builds the service as `npm run app` does, into dist/app/main.js. */
export function buildApp(): void {
  build("the service", "npm", ["run", "--silent", "build:app"]);
}

function build(what: string, command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { cwd: PROJECT_DIR, encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`building ${what} failed:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}

/** Runs the built tool (TOOL_ENTRY) with only the given environment, from `cwd`. */
export function runTool(tool: Tool, args: readonly string[], env: Record<string, string> = {}, cwd = PROJECT_DIR): Promise<CliRun> {
  return startTool(tool, args, env, cwd).finished;
}

/** A built tool still running: its process, what it printed so far, and its end. */
export interface StartedTool {
  readonly child: ChildProcess;
  output(): CliRun;
  readonly finished: Promise<CliRun>;
}

/** Starts the built tool (TOOL_ENTRY) as runTool does, for a test that acts while it runs. */
export function startTool(tool: Tool, args: readonly string[], env: Record<string, string> = {}, cwd = PROJECT_DIR): StartedTool {
  const child = spawn(process.execPath, [path.join(PROJECT_DIR, TOOL_ENTRY[tool]), ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return {
    child,
    output: () => ({ code: child.exitCode, stdout, stderr }),
    finished: new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr }))),
  };
}
