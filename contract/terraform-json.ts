/**
 * The shape of the Terraform JSON a stack synthesizes (`cdk.tf.json`), for the code that reads it back: the guard
 * rails, the synth summary and the tests. Argument values are literals or `${…}` expressions and their shapes depend
 * on the resource type, so a block stays loosely typed; what this model fixes is where blocks live.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a block's arguments are per resource type; readers narrow them
export type TerraformBlock = Record<string, any>;

/** Blocks by type, then by name: `resource.alicloud_vpc.network_vpc_1a2b`. */
export type BlocksByType = Record<string, Record<string, TerraformBlock>>;

export interface TerraformJson {
  readonly terraform?: TerraformBlock & { readonly backend?: Record<string, TerraformBlock> };
  readonly provider?: Record<string, TerraformBlock[]>;
  readonly resource?: BlocksByType;
  readonly data?: BlocksByType;
  readonly output?: Record<string, TerraformBlock>;
  readonly variable?: Record<string, TerraformBlock>;
}

/** Every resource of a type, in synthesized order. */
export function resourcesOfType(json: TerraformJson, type: string): TerraformBlock[] {
  return Object.values(json.resource?.[type] ?? {});
}

/** A nested block that may hold at most one element: Terraform JSON writes it as an object or a one-element list. */
export function singleBlock(block: unknown): TerraformBlock | undefined {
  return (Array.isArray(block) ? block[0] : block) as TerraformBlock | undefined;
}

/** The construct path cdktf records in a block's metadata (`seckill-dev/network/vpc`). */
export function constructPath(block: TerraformBlock): string | undefined {
  return block["//"]?.metadata?.path;
}
