/** Builds and synthesizes SeckillStacks for the tests in this folder. */
import { DefaultTokenResolver, StringConcat, Testing, Tokenization } from "cdktf";
import { parse } from "@cdktf/hcl2json";
import { EnvConfig, validateEnvConfig } from "../../../stacks/config";
import { SeckillStack } from "../../../stacks/seckill-stack";
import { resourcesOfType, type TerraformBlock, type TerraformJson } from "../../../contract/terraform-json";
import { FIXTURE_BUILD } from "./artifact";

/** The clock the tests check sale windows against (the shipped windows lie within 90 days of it). */
export const TEST_NOW = new Date("2026-11-25T00:00:00Z");

export const MINIMAL_TFVARS = `region = "cn-hangzhou"\nzones = ["cn-hangzhou-j", "cn-hangzhou-k"]\n`;

export interface Synthesized {
  readonly config: EnvConfig;
  readonly stack: SeckillStack;
  readonly json: Required<TerraformJson>;
  /** Every resource of a type, in synthesized order. */
  resources(type: string): TerraformBlock[];
  /** The single resource of a type (fails when there are none or several). */
  one(type: string): TerraformBlock;
  /** A construct attribute as the synthesized Terraform writes it, e.g. `${alicloud_vpc.network_vpc_1234.id}`. */
  ref(value: unknown): string;
}

export async function configFromTfvars(tfvars: string, envName = "test", now = TEST_NOW, deployDuringSale?: string): Promise<EnvConfig> {
  return validateEnvConfig(await parse(`envs/${envName}.tfvars`, tfvars), {
    envName,
    sourceFile: `envs/${envName}.tfvars`,
    now,
    deployDuringSale,
  });
}

/** A stack in a fresh app, synthesized with validations (guard rails) on: throws when one fails. */
export function synthesize(config: EnvConfig): Synthesized {
  const stack = new SeckillStack(Testing.app(), config, FIXTURE_BUILD);
  const json = JSON.parse(Testing.synth(stack, true)) as Required<TerraformJson>;
  const resources = (type: string) => resourcesOfType(json, type);
  return {
    config,
    stack,
    json,
    resources,
    one(type) {
      const found = resources(type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0];
    },
    ref: (value) => Tokenization.resolve(value, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) }) as string,
  };
}

/** The expressions inside `${...}` of a resolved value (a literal yields none). */
export function expressionsOf(resolved: string): string[] {
  const expressions: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < resolved.length; i++) {
    if (resolved.startsWith("${", i)) {
      if (depth === 0) start = i + 2;
      depth++;
      i++;
    } else if (resolved[i] === "{" && depth > 0) {
      depth++;
    } else if (resolved[i] === "}" && depth > 0) {
      depth--;
      if (depth === 0) expressions.push(resolved.slice(start, i));
    }
  }
  return expressions;
}
