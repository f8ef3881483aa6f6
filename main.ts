/**
 * cdktf app, run from the repository root: one stack `seckill-<env>` per envs/<env>.tfvars. The tfvars are parsed
 * (asynchronously, by @cdktf/hcl2json) and validated before anything is synthesized; a bad value stops synth with
 * the file, the key, the value and what is allowed. Then the service is built, once, for every stack.
 */
import * as path from "node:path";
import { App } from "cdktf";
import { appArtifact } from "./build/app-artifact";
import { TfvarsError, loadAllEnvConfigs } from "./stacks/config";
import { SeckillStack } from "./stacks/seckill-stack";

async function main(): Promise<void> {
  const configs = await loadAllEnvConfigs(path.resolve("envs"));
  const artifact = appArtifact();
  const app = new App();
  for (const config of configs) new SeckillStack(app, config, { artifact });
  app.synth();
}

main().catch((error: unknown) => {
  console.error(error instanceof TfvarsError ? error.message : error);
  process.exitCode = 1;
});
