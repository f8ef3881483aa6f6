import cluster, { type Worker } from "node:cluster";
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceConfigError, loadConfig, type Config } from "./platform/config";
import { createLogger, type Logger } from "./platform/logger";
import { serveClusterMetrics } from "./platform/metrics";
import type { NacosConnection } from "./platform/nacos";
import { startHttpWorker, startOrderWriter, type Running } from "./service";
import { DEFAULT_SETTINGS, Settings } from "./live-settings/settings";
import { createMysqlPool } from "./platform/mysql";
import { migrate } from "./platform/migrations";
import { SecretsError, readSecrets, type SecretVariables } from "./platform/secrets";

/**
 * Entry point. The primary migrates the schema, then forks WORKERS HTTP workers (sharing PORT) and
 * one order writer, restarting any that die. SIGTERM/SIGINT: every process stops taking work,
 * finishes what is in flight, and exits. With SECKILL_SECRETS_SOURCE=oos the primary reads the secrets from the
 * store first and hands them to every worker it forks in the worker's environment: they never touch the disk.
 */
type Role = "http" | "order-writer";
const ROLE_VARIABLE = "SECKILL_PROCESS_ROLE";
const MIGRATION_ATTEMPTS = 30;
const RESTART_DELAY_MS = 1000;
const SHUTDOWN_DEADLINE_MS = 30_000;

async function runPrimary(config: Config, secrets: SecretVariables, logger: Logger): Promise<void> {
  await migrateWithRetry(config, logger);
  serveClusterMetrics();
  const registration = config.nacos && (await registerWhenListening(config, config.nacos, logger));
  let shuttingDown = false;
  const roles = new Map<Worker, Role>();
  // The workers take the secrets as they are, instead of reading the store once each.
  const workerEnv = Object.keys(secrets).length > 0 ? { ...secrets, SECKILL_SECRETS_SOURCE: "env" } : {};
  const fork = (role: Role) => roles.set(cluster.fork({ ...workerEnv, [ROLE_VARIABLE]: role }), role);

  cluster.on("exit", (worker, code, signal) => {
    const role = roles.get(worker)!;
    roles.delete(worker);
    if (shuttingDown) {
      if (roles.size === 0) {
        logger.info("all workers stopped");
        process.exit(0);
      }
      return;
    }
    logger.error({ role, workerPid: worker.process.pid, code, signal }, "worker died; restarting it");
    setTimeout(() => fork(role), RESTART_DELAY_MS);
  });
  const shutDown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down");
    if (roles.size === 0) process.exit(0);
    void Promise.resolve(registration?.deregister()).then(() => {
      for (const worker of roles.keys()) worker.process.kill("SIGTERM");
    });
    setTimeout(() => {
      logger.error("workers did not stop in time; killing them");
      for (const worker of roles.keys()) worker.process.kill("SIGKILL");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
  };
  process.on("SIGTERM", shutDown).on("SIGINT", shutDown);

  for (let i = 0; i < config.workers; i++) fork("http");
  fork("order-writer");
  logger.info({ workers: config.workers, port: config.port, orderQueue: config.orderQueue }, "seckill service starting");
}

async function migrateWithRetry(config: Config, logger: Logger): Promise<void> {
  const pool = createMysqlPool(config.mysql, 1);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const applied = await migrate(pool);
        logger.info({ applied }, "database schema is up to date");
        return;
      } catch (error) {
        if (attempt >= MIGRATION_ATTEMPTS) throw error;
        logger.warn({ err: error, attempt }, "schema migration failed; retrying");
        await sleep(2000);
      }
    }
  } finally {
    await pool.end();
  }
}

/**
 * One registration per instance (service `seckill`, this host's IP, PORT), once the port takes connections; the
 * caller deregisters before the workers start draining. The Nacos client code loads only when Nacos is configured.
 */
async function registerWhenListening(config: Config, nacos: NacosConnection, logger: Logger) {
  const { instanceIp, NacosRegistration } = await import("./platform/nacos");
  const registration = new NacosRegistration(nacos, { service: "seckill", ip: instanceIp(), port: config.port }, logger);
  cluster.once("listening", () => void registration.register());
  return registration;
}

/** Each worker follows the live settings itself (the order writer only uses their log level). */
async function followLiveSettings(nacos: NacosConnection, settings: Settings, config: Config, logger: Logger) {
  const { NacosLiveSettings } = await import("./live-settings/nacos-live-settings");
  const live = new NacosLiveSettings({
    connection: nacos,
    settings,
    logger,
    defaults: { settings: DEFAULT_SETTINGS, logLevel: config.logLevel },
  });
  await live.start();
  return live;
}

/** The order writer; with ORDER_QUEUE=rocketmq its RocketMQ code loads in this process only. */
async function startOrderWriting(config: Config, logger: Logger): Promise<Running> {
  if (!config.rocketmq) return startOrderWriter(config, logger);
  const { startRocketMqOrderWriter } = await import("./orders/rocketmq-order-writer");
  return startRocketMqOrderWriter(config, config.rocketmq, logger);
}

async function runWorker(config: Config, role: Role, logger: Logger): Promise<void> {
  const settings = new Settings();
  const liveSettings = config.nacos && (await followLiveSettings(config.nacos, settings, config, logger));
  const running: Running = role === "http" ? await startHttpWorker(config, logger, settings) : await startOrderWriting(config, logger);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    liveSettings?.stop();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  // Under systemd the whole process group gets SIGTERM; SIGINT comes from a terminal. The primary relays both.
  process.on("SIGTERM", stop).on("SIGINT", stop);
  // If the primary dies, nobody will restart or stop us: stop now.
  process.on("disconnect", stop);
}

/** The configuration, with the secrets read from their store; a bad variable or an unreadable secret ends the process. */
async function configure(): Promise<{ config: Config; secrets: SecretVariables }> {
  try {
    const secrets = await readSecrets();
    return { config: loadConfig({ ...process.env, ...secrets }), secrets };
  } catch (error) {
    if (!(error instanceof ServiceConfigError || error instanceof SecretsError)) throw error;
    process.stderr.write(`seckill: ${error instanceof SecretsError ? `secrets: ${error.message}` : error.message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const { config, secrets } = await configure();
  const role: Role | "primary" = cluster.isPrimary ? "primary" : (process.env[ROLE_VARIABLE] as Role);
  const logger = createLogger(config.logLevel, role);
  process.on("uncaughtException", (error) => {
    logger.fatal({ err: error }, "uncaught exception");
    process.exit(1);
  });
  const started = role === "primary" ? runPrimary(config, secrets, logger) : runWorker(config, role, logger);
  started.catch((error: unknown) => {
    logger.fatal({ err: error }, "failed to start");
    process.exit(1);
  });
}

void main();
