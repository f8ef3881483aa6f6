import pino, { type Logger } from "pino";

export type { Logger };

/** JSON lines on stdout; `role` tells the primary, HTTP workers and the order writer apart. */
export function createLogger(level: string, role: string): Logger {
  return pino({ level, base: { pid: process.pid, role }, timestamp: pino.stdTimeFunctions.isoTime });
}
