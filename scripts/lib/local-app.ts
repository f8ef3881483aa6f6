import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceEnvironment } from "../../contract/service-env";
import { freePort, stopChild } from "./local-services";

/** The seckill service running on this machine as a child process, as `npm run app` runs it. */
export interface RunningApp {
  readonly baseUrl: string;
  readonly pid: number;
  /** The end of what the app printed (its JSON logs), for error messages. */
  recentOutput(): string;
  /** SIGTERM (the app drains and exits), then SIGKILL after 20 s. */
  stop(): Promise<void>;
}

/** The data stores, and either the secrets themselves or where the service reads them (SECKILL_SECRETS_*). */
export type AppEnvironment = ServiceEnvironment & { readonly REDIS_URL: string; readonly MYSQL_URL: string };

const PROJECT_DIR = process.cwd();
export const APP_ENTRY = path.join(PROJECT_DIR, "dist", "app", "main.js");
/** The app drains its workers on SIGTERM; past this it is killed. */
const APP_STOP_GRACE_MS = 20_000;

/**
 * Starts the built app (dist/app/main.js) on a free port, with this Node.js unless `node` names another binary, and
 * waits until `/healthz` answers; `/readyz` is left to the caller, which may want to see it fail.
 */
export async function startApp(env: AppEnvironment, node = process.execPath): Promise<RunningApp> {
  const port = await freePort();
  const child = spawn(node, [APP_ENTRY], {
    cwd: PROJECT_DIR,
    env: { PATH: process.env.PATH, ORDER_QUEUE: "redis", LOG_LEVEL: "warn", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-4000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const app: RunningApp = {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    recentOutput: () => output,
    stop: () => stopChild(child, "SIGTERM", APP_STOP_GRACE_MS),
  };
  try {
    await waitForHealthz(app, child);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}

async function waitForHealthz(app: RunningApp, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the app exited with code ${child.exitCode} while starting:\n${app.recentOutput().trim()}`);
    }
    try {
      const answer = await fetch(`${app.baseUrl}/healthz`);
      if (answer.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the app did not answer /healthz within 60 s:\n${app.recentOutput().trim()}`);
}
