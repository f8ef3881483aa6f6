import { formatDuration } from "./numbers";

export type CheckStatus = "PASS" | "FAIL" | "SKIP";

export interface CheckRecord {
  readonly name: string;
  readonly status: CheckStatus;
  /** What was seen (PASS), what went wrong (FAIL) or why it did not run (SKIP). */
  readonly detail: string;
  readonly durationMs?: number;
}

/** Thrown inside a check to fail it with a message for the operator. */
export class CheckFailed extends Error {}

/**
 * Runs named checks in order and stops at the first failure: later checks build on earlier ones
 * (no sale, no crowd), so they are reported as skipped rather than failing for the same reason.
 */
export class Checklist {
  private readonly records: CheckRecord[] = [];

  /** @param progress where a line per check goes as it starts and ends (stderr for a CLI) */
  constructor(private readonly progress: (line: string) => void) {}

  get failed(): CheckRecord | undefined {
    return this.records.find((r) => r.status === "FAIL");
  }

  get all(): readonly CheckRecord[] {
    return this.records;
  }

  /** Runs `check` unless an earlier one failed; it returns the detail to report on success. */
  async run(name: string, description: string, check: () => Promise<string>): Promise<boolean> {
    if (this.failed) return this.skip(name, `not run: "${this.failed.name}" failed`);
    this.progress(`▸ ${name}: ${description}`);
    const startedAt = performance.now();
    let record: CheckRecord;
    try {
      const detail = await check();
      record = { name, status: "PASS", detail, durationMs: performance.now() - startedAt };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      record = { name, status: "FAIL", detail, durationMs: performance.now() - startedAt };
    }
    this.records.push(record);
    this.progress(`  ${record.status} in ${formatDuration(record.durationMs ?? 0)}: ${record.detail}`);
    return record.status === "PASS";
  }

  skip(name: string, reason: string): false {
    this.records.push({ name, status: "SKIP", detail: reason });
    return false;
  }

  /** The report: a line per check, then the verdict naming the first failed check. */
  report(title: string): string {
    const width = Math.max(...this.records.map((r) => r.name.length));
    const lines = [title, ...this.records.map((r) => `  ${formatRecord(r, width)}`)];
    const failed = this.failed;
    const total = this.records.reduce((sum, r) => sum + (r.durationMs ?? 0), 0);
    const ran = this.records.filter((r) => r.status !== "SKIP").length;
    lines.push(failed ? `FAILED at check "${failed.name}": ${failed.detail}` : `PASSED: ${ran} checks in ${formatDuration(total)}`);
    return lines.join("\n");
  }
}

function formatRecord(record: CheckRecord, nameWidth: number): string {
  const took = record.durationMs === undefined ? "" : formatDuration(record.durationMs);
  return `${record.status}  ${record.name.padEnd(nameWidth)}  ${took.padStart(7)}  ${record.detail}`;
}
