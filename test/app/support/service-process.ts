import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { bundleApp } from "../../../build/app-artifact";

const REPO = path.resolve(__dirname, "../../..");
let bundle: string | undefined;

/**
 * The service bundled exactly as the ECS artifact carries it (build/app-artifact.ts bundleApp), once per test file.
 * It goes under dist/ so the external dependencies resolve from the repository's node_modules.
 */
export function serviceBundle(): string {
  if (bundle === undefined) {
    const outfile = path.join(REPO, "dist", "test-app", `main-${process.env.JEST_WORKER_ID ?? process.pid}.js`);
    mkdirSync(path.dirname(outfile), { recursive: true });
    writeFileSync(outfile, bundleApp(REPO).mainJs);
    bundle = outfile;
  }
  return bundle;
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly role?: string;
  readonly [field: string]: unknown;
}

const START_TIMEOUT_MS = 60_000;

/** The service (cluster primary, HTTP workers, order writer) as a real process group. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  private stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    let pending = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.stderr += `${line}\n`;
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Starts the service and waits until every HTTP worker listens and the order writer runs. */
  static async start(env: Record<string, string>): Promise<ServiceProcess> {
    const child = spawn(process.execPath, [serviceBundle()], {
      cwd: REPO,
      // Info level: readiness is read from the start-up log lines.
      env: { PATH: process.env.PATH, ...env, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a test can kill the primary and all its workers at once.
      detached: true,
    });
    const service = new ServiceProcess(child, `http://127.0.0.1:${env.PORT}`);
    const workers = Number(env.WORKERS ?? 1);
    try {
      await service.waitFor(
        () => service.count("HTTP worker listening") >= workers && service.count("order writer started") >= 1,
        "the service to start",
        // A bound, not a measure: with ORDER_QUEUE=rocketmq the order writer waits out a first long poll (5 s at the
        // broker double), which a neighbouring test saturating both cores here can stretch past 30 s.
        START_TIMEOUT_MS,
      );
    } catch (error) {
      await service.crash();
      throw error;
    }
    return service;
  }

  count(msg: string): number {
    return this.logs.filter((line) => line.msg === msg).length;
  }

  async waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the service exited while waiting for ${what}:\n${this.output()}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.output()}`);
      await sleep(50);
    }
  }

  output(): string {
    return `${this.logs.map((line) => JSON.stringify(line)).join("\n")}\n${this.stderr}`.slice(-6000);
  }

  /** Sends a signal to the primary only (it relays SIGTERM to its workers). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILL to the whole process group: a crash, nothing gets to clean up. */
  async crash(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(-this.child.pid!, "SIGKILL");
    await this.exited;
    await this.waitForGroupGone();
  }

  /** SIGTERM and wait for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    const result = await this.exited;
    await this.waitForGroupGone();
    return result;
  }

  private async waitForGroupGone(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(-this.child.pid!, 0);
      } catch {
        return;
      }
      await sleep(50);
    }
    process.kill(-this.child.pid!, "SIGKILL");
  }
}
