/**
 * `npm run userdata -- <env> [--raw]`: the user data of envs/<env>.tfvars as the scaling configuration gets it.
 * Prints the script cloud-init runs (what ECS holds is its gzip, then base64); every value Terraform fills in at
 * apply time shows as `<<terraform: expression>>`. With --raw, writes the gzip bytes instead (pipe it to a file).
 * The size, bounded for the real values, goes to stderr.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { App, DefaultTokenResolver, StringConcat, TerraformStack, Tokenization } from "cdktf";
import { appArtifact } from "../build/app-artifact";
import { nodeRuntime } from "../build/node-runtime";
import { projectRoot } from "../build/project-root";
import { TfvarsError, loadEnvConfig } from "../stacks/config";
import { SeckillStack } from "../stacks/seckill-stack";
import { APPLY_TIME_VALUE_BOUND, renderBootScript, USER_DATA_LIMIT_BYTES, userDataSizeBound } from "../userdata";

async function main(args: string[]): Promise<void> {
  const raw = args.includes("--raw");
  const envNames = args.filter((arg) => arg !== "--raw");
  if (envNames.length !== 1 || envNames[0].startsWith("-")) {
    throw new Error("usage: npm run userdata -- <env> [--raw]   (envs/<env>.tfvars)");
  }
  const envsDir = join(projectRoot(), "envs");
  const tfvars = join(envsDir, `${envNames[0]}.tfvars`);
  if (!existsSync(tfvars)) {
    const known = readdirSync(envsDir)
      .filter((name) => name.endsWith(".tfvars"))
      .map((name) => name.replace(/\.tfvars$/, ""));
    throw new Error(`no environment "${envNames[0]}": envs/${envNames[0]}.tfvars does not exist (environments: ${known.join(", ")})`);
  }
  const config = await loadEnvConfig(tfvars);
  const app = new App({ outdir: join(projectRoot(), "dist", "userdata-cli.out") });
  const stack = new SeckillStack(app, config, { artifact: appArtifact(), runtime: nodeRuntime() });
  const script = renderBootScript(stack.userDataProps, (token) => placeholder(stack, token));
  const bound = userDataSizeBound(stack.userDataProps);
  process.stderr.write(
    `${stack.node.id}: script ${script.length} bytes; user data at most ${bound} bytes gzipped with every apply-time value ` +
      `${APPLY_TIME_VALUE_BOUND} characters long; ECS limit ${USER_DATA_LIMIT_BYTES}, margin ${USER_DATA_LIMIT_BYTES - bound}\n`,
  );
  process.stdout.write(raw ? gzipSync(script) : script);
}

/** `<<terraform: expression>>` for a value Terraform fills in at apply time. */
function placeholder(stack: TerraformStack, token: string): string {
  const interpolation = String(Tokenization.resolve(token, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) }));
  // One token resolves to one interpolation, `${expression}`.
  return `<<terraform: ${interpolation.slice("${".length, -"}".length)}>>`;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof TfvarsError || error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
