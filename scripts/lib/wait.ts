import { setTimeout as sleep } from "node:timers/promises";

/** Polls until `condition` holds; fails with `what` after the timeout (a liveness bound, not a performance assertion). */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
