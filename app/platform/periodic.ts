import type { Logger } from "./logger";

export interface Periodic {
  /** Waits for the run in progress, then stops. */
  stop(): Promise<void>;
}

/**
 * Runs `task` now and then `intervalMs` after each run ends (never two at once). A failing run is logged (once per
 * outage, then again when it recovers) and retried at the next interval: the work it left is still there to find.
 */
export function runPeriodically(name: string, intervalMs: number, logger: Logger, task: () => Promise<unknown>): Periodic {
  let running = true;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const runOnce = async () => {
    try {
      await task();
      if (failing) logger.info(`${name} recovered`);
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, `${name} failed; retrying`);
      failing = true;
    }
    if (running) {
      timer = setTimeout(() => {
        current = runOnce();
      }, intervalMs);
    }
  };
  current = runOnce();
  return {
    async stop() {
      running = false;
      clearTimeout(timer);
      await current;
    },
  };
}
