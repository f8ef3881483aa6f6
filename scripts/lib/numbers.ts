/** `12 ms`, `1.3 s`, `2 min 5 s`: durations as an operator reads them. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  const minutes = `${Math.floor(seconds / 60)} min`;
  return seconds % 60 === 0 ? minutes : `${minutes} ${seconds % 60} s`;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentiles of request durations in ms; all zero when there are none. */
export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted.length === 0 ? 0 : sorted[sorted.length - 1] };
}

export function formatLatencies(summary: LatencySummary): string {
  const ms = (v: number) => (v < 10 ? v.toFixed(1) : Math.round(v).toString());
  return `p50 ${ms(summary.p50)} ms, p90 ${ms(summary.p90)} ms, p99 ${ms(summary.p99)} ms, max ${ms(summary.max)} ms`;
}
