/**
 * Live settings from Nacos: the config `seckill.json` in the environment's group holds the kill switch for new
 * orders, the per-user rate limit and the log level. Every field is optional and an absent one takes the
 * environment default, so an empty `{}` (or no config at all) means "defaults". Changes arrive through the Nacos
 * client's long poll and apply within about a second, without a restart; a document that does not parse or
 * validate is rejected with an error log and the last good settings stay.
 */
import { z } from "zod";
import { LOG_LEVELS, type LogLevel } from "../../contract/log-levels";
import type { Logger } from "../platform/logger";
import { NacosConfigClient, type NacosConnection } from "../platform/nacos";
import { liveSettings, type LiveSettings, type Settings } from "./settings";

export const LIVE_SETTINGS_DATA_ID = "seckill.json";

/** The settings the service reads per request, each optional, plus the log level; unknown (misspelt) keys are refused. */
const liveSettingsDocument = z.strictObject({ ...liveSettings.partial().shape, logLevel: z.enum(LOG_LEVELS).optional() });

export interface LiveSettingsDefaults {
  readonly settings: LiveSettings;
  readonly logLevel: LogLevel;
}

export interface NacosLiveSettingsOptions {
  /** The document is read from the connection's group. */
  readonly connection: NacosConnection;
  /** The process's settings, read on every request. */
  readonly settings: Settings;
  /** The process's logger: its level follows the document, and rejections are logged through it. */
  readonly logger: Logger;
  readonly defaults: LiveSettingsDefaults;
  /** Where the Nacos client keeps the last config it saw (NacosConfigClient's default unless given). */
  readonly snapshotDir?: string;
}

/** How long start() waits for Nacos before serving on the defaults (the config still applies when it arrives). */
const FIRST_CONFIG_WAIT_MS = 3000;

export class NacosLiveSettings {
  private readonly client: NacosConfigClient;
  private readonly listener = (content: string | null) => this.apply(content);
  private markApplied: () => void = () => undefined;
  private readonly firstApplied = new Promise<void>((resolve) => {
    this.markApplied = resolve;
  });

  constructor(private readonly options: NacosLiveSettingsOptions) {
    this.client = new NacosConfigClient(options.connection, options.logger, options.snapshotDir);
  }

  private get subscription() {
    return { dataId: LIVE_SETTINGS_DATA_ID, group: this.options.connection.group };
  }

  /** Subscribes, and waits briefly for the first config so a process does not start on stale settings. */
  async start(): Promise<void> {
    this.client.subscribe(this.subscription, this.listener);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, FIRST_CONFIG_WAIT_MS).unref());
    await Promise.race([this.firstApplied, timeout]);
  }

  stop(): void {
    this.client.unSubscribe(this.subscription, this.listener);
    this.client.close();
  }

  private apply(content: string | null): void {
    const { settings, logger, defaults, connection } = this.options;
    const source = { dataId: LIVE_SETTINGS_DATA_ID, group: connection.group };
    const document = content === null || content.trim() === "" ? {} : parse(content);
    if (typeof document === "string") {
      logger.error({ ...source, problem: document, content }, "rejected live settings from Nacos; keeping the last good ones");
      return;
    }
    const { logLevel = defaults.logLevel, ...change } = document;
    const applied = settings.update({ ...defaults.settings, ...change });
    logger.level = logLevel;
    logger.info(
      { ...source, settings: applied, logLevel },
      content === null ? "no live settings in Nacos; using the defaults" : "applied live settings from Nacos",
    );
    this.markApplied();
  }
}

/** The validated document, or a sentence naming what is wrong with it. */
function parse(content: string): z.infer<typeof liveSettingsDocument> | string {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const result = liveSettingsDocument.safeParse(json);
  if (result.success) return result.data;
  return result.error.issues.map((issue) => `${issue.path.join(".") || "document"}: ${issue.message}`).join("; ");
}
