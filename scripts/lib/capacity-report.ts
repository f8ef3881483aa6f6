/** Loads what the capacity model needs (an environment's tfvars, a bench file) and renders its report. */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { NODE_VERSION } from "../../build/node-runtime";
import { loadEnvConfig, TfvarsError } from "../../stacks/config";
import { BENCH_RESULTS_DIR, newestBenchFile, readBenchFile } from "./bench-results";
import { capacityChain, capacityInputs, formatCapacity } from "./capacity-model";
import { UsageError } from "./cli";

export const ENVS_DIR = "envs";

/** The fleet's Node major version: a bench on it is the one the model prefers. */
export const FLEET_NODE_MAJOR = Number(NODE_VERSION.split(".")[0]);

export interface CapacityRequest {
  readonly env: string;
  /** A bench-results file; the newest one on the fleet's Node (else any) when not given. */
  readonly benchFile?: string;
  /** The sale window whose pre-warm sizes the fleet; the largest when not given. */
  readonly window?: string;
  readonly buckets?: number;
  readonly target?: number;
}

/** The environment's tfvars file, or a UsageError listing the environments there are. */
function envFile(env: string): string {
  const file = path.join(ENVS_DIR, `${env}.tfvars`);
  if (existsSync(file)) return file;
  const known = existsSync(ENVS_DIR) ? readdirSync(ENVS_DIR).filter((name) => name.endsWith(".tfvars")) : [];
  const names = known.map((name) => name.replace(/\.tfvars$/, "")).join(", ");
  throw new UsageError(`no environment "${env}": ${file} does not exist (environments: ${names || "none"})`);
}

/** The capacity report of one environment, as `npm run capacity` prints it. */
export async function capacityReport(request: CapacityRequest): Promise<string> {
  const file = envFile(request.env);
  const benchFile = request.benchFile ?? newestBenchFile(BENCH_RESULTS_DIR, FLEET_NODE_MAJOR);
  if (benchFile === undefined) throw new UsageError(`no bench file in ${BENCH_RESULTS_DIR}/: run npm run bench, or name one with --bench`);
  const bench = readBenchFile(benchFile);
  let config;
  try {
    config = await loadEnvConfig(file);
  } catch (error) {
    if (error instanceof TfvarsError) throw new UsageError(error.message);
    throw error;
  }
  const chain = capacityChain(capacityInputs(config, request.window), bench.perOrder, request.buckets ?? 1);
  return formatCapacity(chain, bench, request.target);
}
