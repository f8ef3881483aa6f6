/**
 * cdktf app, run from the repository root: one stack `seckill-<env>` per envs/<env>.tfvars. The tfvars are parsed
 * (asynchronously, by @cdktf/hcl2json) and validated before anything is synthesized; a bad value stops synth with
 * the file, the key, the value and what is allowed; a sale window in progress stops it too (stacks/sale-schedule.ts).
 * Then the service is built, once, for every stack.
 */
import * as path from "node:path";
import { App } from "cdktf";
import { appArtifact } from "./build/app-artifact";
import { nodeRuntime } from "./build/node-runtime";
import { TfvarsError, loadAllEnvConfigs } from "./stacks/config";
import { DEPLOY_DURING_SALE_VARIABLE, SaleWindowOpenError, saleSchedule } from "./stacks/sale-schedule";
import { SeckillStack } from "./stacks/seckill-stack";

async function main(): Promise<void> {
  const configs = await loadAllEnvConfigs(path.resolve("envs"), new Date(), {
    deployDuringSale: process.env[DEPLOY_DURING_SALE_VARIABLE] || undefined,
  });
  // A sale in progress stops synth before anything is built (each stack's Compute applies the same schedule).
  for (const config of configs) saleSchedule(config.envName, config.compute, config.synthTime, config.deployDuringSale);
  const artifact = appArtifact();
  const runtime = nodeRuntime();
  const app = new App();
  for (const config of configs) new SeckillStack(app, config, { artifact, runtime });
  app.synth();
}

main().catch((error: unknown) => {
  // Both say what to do in their message; a stack trace would only bury it.
  console.error(error instanceof TfvarsError || error instanceof SaleWindowOpenError ? error.message : error);
  process.exitCode = 1;
});
