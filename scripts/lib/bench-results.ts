/**
 * The files `npm run bench` saves in bench-results/ (one per Node runtime and run), and the part of them that
 * `npm run capacity` reads: what one order costs in CPU, server side.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "./cli";

export const BENCH_RESULTS_DIR = "bench-results";

/** What one accepted order cost, from the order target of one bench run. */
export interface PerOrderCpu {
  /** The service's processes: cluster primary, HTTP workers, order writer. */
  readonly serviceMicros: number;
  /** The Redis the sale's keys live on (INFO cpu, whole process). */
  readonly redisMicros: number;
  /** MariaDB, writing the order rows (a private throwaway mariadbd, so its CPU is the bench's only). */
  readonly mysqlMicros: number;
}

const perOrderSchema = z.object({
  serviceMicros: z.number().positive(),
  redisMicros: z.number().positive(),
  mysqlMicros: z.number().nonnegative(),
});

const benchFileSchema = z.object({
  date: z.string(),
  node: z.string(),
  perOrder: perOrderSchema,
});

export type BenchFileSummary = z.infer<typeof benchFileSchema> & { readonly file: string };

/** The file name a run saves under: `<UTC timestamp>-node<major>.json`, sortable by time. */
export function benchResultsFileName(date: Date, nodeVersion: string): string {
  const major = /^v?(\d+)\./.exec(nodeVersion)?.[1];
  if (major === undefined) throw new Error(`not a Node.js version: ${JSON.stringify(nodeVersion)}`);
  return `${date
    .toISOString()
    .replace(/:/g, "-")
    .replace(/\.\d+Z$/, "Z")}-node${major}.json`;
}

/** Reads the per-order figures of a bench file, or says which file is missing or what it lacks. */
export function readBenchFile(file: string): BenchFileSummary {
  if (!existsSync(file)) throw new UsageError(`bench file ${file} does not exist (npm run bench writes them into ${BENCH_RESULTS_DIR}/)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`bench file ${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = benchFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`).join("; ");
    throw new UsageError(`bench file ${file} is not one npm run bench saved (${problems})`);
  }
  return { ...parsed.data, file };
}

/**
 * The newest bench file in `dir` measured on Node `major` (the fleet's), else the newest of any Node; undefined when
 * there is none.
 */
export function newestBenchFile(dir: string, major: number): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((name) => /-node\d+\.json$/.test(name))
    .sort();
  const preferred = files.filter((name) => name.endsWith(`-node${major}.json`));
  const newest = preferred.pop() ?? files.pop();
  return newest === undefined ? undefined : path.join(dir, newest);
}
