import pino from "pino";
import type { Logger } from "../../../app/platform/logger";

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: { level: number; msg: string; [field: string]: unknown }[];
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogs(): CapturedLogs {
  const lines: CapturedLogs["lines"] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}
