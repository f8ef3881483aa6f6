/**
 * What a tool has started (servers, the service, scratch databases), to stop last in first out: on the normal way out,
 * and at Ctrl-C (SIGINT) or SIGTERM, when the awaits that would have stopped them never return.
 */
export class Cleanups {
  private readonly pending = new Set<() => Promise<void>>();

  /** Registers `cleanup`; the function returned runs it now, once, and forgets it. */
  add(cleanup: () => Promise<unknown>): () => Promise<void> {
    let ran = false;
    const once = async () => {
      if (ran) return;
      ran = true;
      this.pending.delete(once);
      await cleanup();
    };
    this.pending.add(once);
    return once;
  }

  /** Runs every registered cleanup, newest first; a failing one is reported and the rest still run. */
  async runAll(report: (message: string) => void): Promise<void> {
    for (const cleanup of [...this.pending].reverse()) {
      await cleanup().catch((error: unknown) => report(`cleanup: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  /**
   * Until the function returned is called, SIGINT and SIGTERM run every cleanup and end the process (130, 143), unless
   * `instead` takes the signal (the demo's `--keep-running` wait ends that way).
   */
  onInterrupt(report: (message: string) => void, instead?: () => boolean): () => void {
    const interrupted = (signal: NodeJS.Signals) => {
      if (instead?.()) return;
      report(`${signal}: cleaning up`);
      void this.runAll(report).then(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
    return () => {
      process.removeListener("SIGINT", interrupted);
      process.removeListener("SIGTERM", interrupted);
    };
  }
}
