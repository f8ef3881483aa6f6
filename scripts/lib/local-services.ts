import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Redis from "ioredis";
import mysql from "mysql2/promise";

/**
 * Redis and MariaDB for local runs (the demo, the ops tools' tests): the servers already running
 * here, or throwaway ones started from the installed binaries. Each run gets its own database and
 * Redis key prefix on them, removed again by `dispose`.
 */
export interface LocalServer {
  /** `redis://host:port` or `mysql://user:pass@host:port` (no database). */
  readonly url: string;
  /** How it was found, for the operator: "127.0.0.1:6379" or "throwaway redis-server on :40123". */
  readonly description: string;
  stop(): Promise<void>;
}

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
export const DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306";

/** A free TCP port on 127.0.0.1 (free when asked; good enough for a local run). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export async function mysqlAnswers(url: string): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
    await connection.query("SELECT 1");
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/** The Redis at `url` when it answers; otherwise a throwaway redis-server (unless `url` was configured). */
export async function localRedis(url: string | undefined, forceThrowaway = false): Promise<LocalServer> {
  if (!forceThrowaway) {
    const candidate = url ?? DEFAULT_REDIS_URL;
    if (await redisAnswers(candidate)) return { url: candidate, description: hostOf(candidate), stop: async () => undefined };
    if (url !== undefined) throw new Error(`REDIS_URL ${hostOf(url)} does not answer PING`);
  }
  return startThrowawayRedis();
}

/** The MySQL/MariaDB at `url` when it answers; otherwise a throwaway mariadbd (unless `url` was configured). */
export async function localMysql(url: string | undefined, forceThrowaway = false): Promise<LocalServer> {
  if (!forceThrowaway) {
    const candidate = url ?? DEFAULT_MYSQL_URL;
    if (await mysqlAnswers(candidate)) return { url: candidate, description: hostOf(candidate), stop: async () => undefined };
    if (url !== undefined) throw new Error(`MYSQL_URL ${hostOf(url)} does not answer`);
  }
  return startThrowawayMariadb();
}

export interface ThrowawayRedisOptions {
  /** A port of its own unless given (a restarted server takes its predecessor's port). */
  readonly port?: number;
  /** More redis-server arguments, e.g. `--dir` and `--dbfilename` to start from a snapshot, `--replicaof`. */
  readonly args?: readonly string[];
}

/** A server this run started, so its process (and its CPU time in /proc) is known. */
export interface ThrowawayServer extends LocalServer {
  readonly pid: number;
}

export interface ThrowawayRedis extends ThrowawayServer {
  readonly port: number;
  /** SIGKILL: no shutdown, so nothing is saved and no replica is waited for. */
  crash(): Promise<void>;
}

/**
 * A redis-server without persistence (it saves only when told to, with SAVE), its files (a replica's copy of its
 * primary, say) in a temporary directory of its own, deleted when it stops.
 */
export async function startThrowawayRedis(options: ThrowawayRedisOptions = {}): Promise<ThrowawayRedis> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), "seckill-redis-"));
  const server = spawnServer("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    ...(options.args ?? []),
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const stop = async (signal?: NodeJS.Signals) => {
    await stopServer(server, signal);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(() => redisAnswers(url), server, `redis-server on :${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    pid: server.child.pid!,
    description: `throwaway redis-server on :${port}`,
    stop: () => stop(),
    crash: () => stop("SIGKILL"),
  };
}

/** A MariaDB in a temporary directory: root without password, its own port and socket; deleted on stop. */
export async function startThrowawayMariadb(): Promise<ThrowawayServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "seckill-mariadb-"));
  const dataDir = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0 ? ["--user=root"] : [];
  const install = spawnSync(
    "mariadb-install-db",
    ["--no-defaults", `--datadir=${dataDir}`, "--auth-root-authentication-method=normal", "--skip-test-db", ...asRoot],
    { encoding: "utf8" },
  );
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${install.error?.message ?? install.stderr.trim().split("\n").slice(-3).join(" ")}`);
  }
  const port = await freePort();
  const server = spawnServer("mariadbd", [
    "--no-defaults",
    `--datadir=${dataDir}`,
    `--socket=${path.join(dir, "mysqld.sock")}`,
    `--pid-file=${path.join(dir, "mysqld.pid")}`,
    `--log-error=${path.join(dir, "error.log")}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=128M",
    ...asRoot,
  ]);
  const url = `mysql://root@127.0.0.1:${port}`;
  try {
    await waitUntil(
      () => mysqlAnswers(url),
      server,
      `mariadbd on :${port}`,
      () => tail(path.join(dir, "error.log")),
    );
  } catch (error) {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    pid: server.child.pid!,
    description: `throwaway mariadbd on :${port}`,
    stop: async () => {
      await stopServer(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A database and a Redis key prefix of their own for one run, on the given servers. */
export interface Scratch {
  /** MYSQL_URL for the app: the server plus the run's own database. */
  readonly mysqlUrl: string;
  /** REDIS_URL for the app: the server plus the run's own key prefix. */
  readonly redisUrl: string;
  readonly database: string;
  readonly keyPrefix: string;
  /** Drops the database and deletes every key under the prefix. */
  dispose(): Promise<void>;
}

export async function createScratch(redisServerUrl: string, mysqlServerUrl: string, label: string): Promise<Scratch> {
  const suffix = randomBytes(4).toString("hex");
  const database = `seckill_${label}_${suffix}`;
  const keyPrefix = `${label}_${suffix}:`;
  const admin = await mysql.createConnection({ uri: mysqlServerUrl, connectTimeout: 2000 });
  try {
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  } finally {
    await admin.end();
  }
  const mysqlUrl = new URL(mysqlServerUrl);
  mysqlUrl.pathname = `/${database}`;
  const redisUrl = new URL(redisServerUrl);
  redisUrl.searchParams.set("keyPrefix", keyPrefix);
  return {
    mysqlUrl: mysqlUrl.toString(),
    redisUrl: redisUrl.toString(),
    database,
    keyPrefix,
    dispose: async () => {
      const connection = await mysql.createConnection({ uri: mysqlServerUrl, connectTimeout: 2000 });
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      } finally {
        await connection.end();
      }
      await deleteKeys(redisServerUrl, keyPrefix);
    },
  };
}

/** Deletes every key under `keyPrefix` on the Redis at `redisServerUrl`. */
export async function deleteKeys(redisServerUrl: string, keyPrefix: string): Promise<void> {
  const redis = new Redis(redisServerUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** A server started by this run, with the end of what it printed, for error messages. */
interface ServerProcess {
  readonly child: ChildProcess;
  recentStderr(): string;
}

function spawnServer(command: string, args: readonly string[]): ServerProcess {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  return { child, recentStderr: () => stderr };
}

async function waitUntil(
  ready: () => Promise<boolean>,
  server: ServerProcess,
  name: string,
  diagnostics: () => string = server.recentStderr,
): Promise<void> {
  let spawnError: Error | undefined;
  server.child.once("error", (error) => (spawnError = error));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`cannot start ${name}: ${spawnError.message}`);
    if (server.child.exitCode !== null) throw new Error(`${name} exited with code ${server.child.exitCode}: ${diagnostics().trim()}`);
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`${name} did not answer within 30 s: ${diagnostics().trim()}`);
}

function stopServer({ child }: ServerProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  return stopChild(child, signal);
}

/** Sends `signal` to a child this run started and waits for it to exit, with SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join("\n");
  } catch {
    return "";
  }
}

function hostOf(url: string): string {
  return new URL(url).host;
}
