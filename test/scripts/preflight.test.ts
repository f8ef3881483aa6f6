/** `npm run preflight`: its command line, and its table for the shipped environments and for a change that replaces a vSwitch. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App } from "cdktf";
import type { TerraformJson } from "../../contract/terraform-json";
import { loadEnvConfig } from "../../stacks/config";
import { SeckillStack } from "../../stacks/seckill-stack";
import { UsageError } from "../../scripts/lib/cli";
import { preflightRequestFrom, preflightRows, runPreflight } from "../../scripts/preflight";
import { hourlyCost } from "../../scripts/lib/price-table";
import { FIXTURE_BUILD } from "../stacks/support/artifact";
import { MINIMAL_TFVARS, TEST_NOW, configFromTfvars, synthesize } from "../stacks/support/synth";

function usageErrorOf(args: string[]): string {
  try {
    preflightRequestFrom(args);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("the preflight command line", () => {
  test("names one environment, and optionally the deployed stack to compare with", () => {
    expect(preflightRequestFrom(["prod"])).toEqual({ envName: "prod", stack: undefined });
    expect(preflightRequestFrom(["prod", "--stack", "seckill-prod"])).toEqual({ envName: "prod", stack: "seckill-prod" });
    expect(preflightRequestFrom(["--stack", "seckill-prod", "prod"])).toEqual({ envName: "prod", stack: "seckill-prod" });
  });

  test("refuses no environment, two, a malformed stack name and unknown flags", () => {
    expect(usageErrorOf([])).toMatch(/^name one environment \(envs\/<env>\.tfvars\), got 0/);
    expect(usageErrorOf(["dev", "prod"])).toMatch(/got 2/);
    expect(usageErrorOf(["prod", "--stack", "prod"])).toBe('--stack must name a stack "seckill-<env>", got "prod"');
    expect(usageErrorOf(["prod", "--force"])).toMatch(/Unknown option '--force'/);
  });

  test("has nothing to run after --help", () => {
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(preflightRequestFrom(["--help"])).toBeUndefined();
      expect(write).toHaveBeenCalledWith(expect.stringContaining("Usage: npm run preflight -- <env> [--stack seckill-<env>]"));
    } finally {
      write.mockRestore();
    }
  });
});

describe.each(["dev", "prod"])("preflight of the shipped %s environment", (envName) => {
  let rows: ReturnType<typeof preflightRows>;
  beforeAll(async () => {
    const config = await loadEnvConfig(`envs/${envName}.tfvars`, TEST_NOW);
    rows = preflightRows({ config, synthesized: synthesize(config).json, now: TEST_NOW });
  });
  const row = (check: string) => rows.find((candidate) => candidate.check === check)!;

  test("has the four rows", () => {
    expect(rows.map((candidate) => candidate.check)).toEqual(["replaces", "sale window", "image", "hourly cost"]);
  });

  test("without --stack, lists the keys that replace resources without comparing", () => {
    expect(row("replaces")).toMatchObject({ status: "ok" });
    expect(row("replaces").detail).toBe(
      "not compared (no --stack); keys that replace: alb_vswitch_cidrs, app_vswitch_cidrs, data_vswitch_cidrs, mse_edition, " +
        "polardb_hot_standby, rocketmq_message_retention_hours, rocketmq_series, rocketmq_spec, rocketmq_sub_series, zones",
    );
  });

  test("names the next sale window", () => {
    expect(row("sale window")).toMatchObject({ status: "ok" });
    expect(row("sale window").detail).toMatch(
      envName === "prod"
        ? /^none open; next: double12, pre-warm at 2026-12-12T11:30Z \(in 17 d\)$/
        : /^none open; next: rehearsal, pre-warm at 2026-12-05T01:45Z \(in 10 d\)$/,
    );
  });

  test("says how old the pinned image is", () => {
    expect(row("image")).toEqual({
      check: "image",
      status: "LOOK",
      detail:
        "aliyun_3_x64_20G_alibase_20251030.vhd, built 2025-10-30, 391 days old: over 120, bump image_id (npm run synth prints the newest)",
    });
  });

  test("estimates the hourly cost at rest and during the biggest sale, labelled with its date and source", () => {
    expect(row("hourly cost").detail).toMatch(
      /^≈ \d+\.\d CNY\/h at rest \(\d+ instances?\), ≈ \d+\.\d CNY\/h during \w+ \(\d+ instances\)\. /,
    );
    expect(row("hourly cost").detail).toContain("An estimate: price table of 2026-12-07 (cn-hangzhou), from ECI per-vCPU/GiB list price");
    expect(row("hourly cost").detail).not.toContain("not priced");
  });
});

describe("preflight of a change that replaces a vSwitch", () => {
  test("names the key, both values and what it replaces", async () => {
    const deployed = synthesize(await configFromTfvars(MINIMAL_TFVARS, "shop")).json;
    const changed = await configFromTfvars(`${MINIMAL_TFVARS}app_vswitch_cidrs = ["10.0.0.0/20", "10.0.32.0/20"]\n`, "shop");
    const [replaces] = preflightRows({
      config: changed,
      synthesized: synthesize(changed).json,
      deployed: { stack: "seckill-shop", outputs: { replacing_settings: deployed.output.replacing_settings.value } },
      now: TEST_NOW,
    });
    expect(replaces).toEqual({
      check: "replaces",
      status: "LOOK",
      detail:
        'app_vswitch_cidrs ["10.0.0.0/20","10.0.16.0/20"] → ["10.0.0.0/20","10.0.32.0/20"] replaces the app vSwitches whose CIDR changes, ' +
        "and everything in them (a vpc_cidr change moves the carved defaults too)",
    });
  });

  test("an unchanged stack replaces nothing", async () => {
    const config = await configFromTfvars(MINIMAL_TFVARS, "shop");
    const json = synthesize(config).json;
    const [replaces] = preflightRows({
      config,
      synthesized: json,
      deployed: { stack: "seckill-shop", outputs: { replacing_settings: json.output.replacing_settings.value } },
      now: TEST_NOW,
    });
    expect(replaces).toEqual({ check: "replaces", status: "ok", detail: `nothing: every "Replaces" key equals seckill-shop's` });
  });
});

describe("npm run preflight -- prod, from the files", () => {
  let project: string;
  beforeAll(async () => {
    project = mkdtempSync(path.join(tmpdir(), "seckill-preflight-"));
    mkdirSync(path.join(project, "envs"));
    for (const env of ["dev", "prod"]) copyFileSync(`envs/${env}.tfvars`, path.join(project, "envs", `${env}.tfvars`));
    const app = new App({ outdir: path.join(project, "cdktf.out") });
    new SeckillStack(app, await loadEnvConfig("envs/prod.tfvars", TEST_NOW), FIXTURE_BUILD);
    app.synth();
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  test("prints the table under the environment's name and asks for a look (exit 1) when a row needs one", async () => {
    const { text, code } = await runPreflight({ envName: "prod" }, project, { now: TEST_NOW });
    const lines = text.split("\n");
    expect(lines[0]).toBe("seckill-prod  (envs/prod.tfvars → cdktf.out/stacks/seckill-prod/cdk.tf.json)");
    expect(lines[1]).toBe("  check        status  detail");
    expect(lines.slice(2).map((line) => line.slice(2, 22).trimEnd())).toEqual([
      "replaces     ok",
      "sale window  ok",
      "image        LOOK",
      "hourly cost  ok",
    ]);
    expect(code).toBe(1);
  });

  test("during a sale window, says it is open; after the last one, prices no sale", async () => {
    const { text } = await runPreflight({ envName: "prod" }, project, { now: new Date("2026-12-12T13:00:00Z") });
    expect(text).toContain("double12 is open (fleet held at 24 until 2026-12-12T14:30Z): synth refuses a plan");
    const after = await runPreflight({ envName: "prod" }, project, { now: new Date("2027-01-02T00:00:00Z") });
    expect(after.text).toContain("none open, none ahead");
    expect(after.text).toMatch(/at rest \(4 instances\)\. An estimate/);
  });

  test("with --stack, compares with the deployed stack's outputs", async () => {
    const { text } = await runPreflight({ envName: "prod", stack: "seckill-prod" }, project, {
      now: TEST_NOW,
      readOutputs: () => ({}),
    });
    expect(text).toContain("seckill-prod has no replacing_settings output (deployed before it existed): compare the plan by hand");
  });

  test("without a synth, says to run it", async () => {
    await expect(runPreflight({ envName: "dev" }, project, { now: TEST_NOW })).rejects.toThrow(
      "cdktf.out/stacks/seckill-dev/cdk.tf.json does not exist: run npm run synth first",
    );
    await expect(runPreflight({ envName: "qa" }, project, { now: TEST_NOW })).rejects.toThrow(/^no environment "qa"/);
  });
});

test("the price table prices the vendor's reference sizes at about 6 CNY/h, the one published figure", () => {
  const reference: TerraformJson = {
    resource: {
      alicloud_ess_scaling_configuration: { launch: { instance_types: ["ecs.c7.large"] } },
      alicloud_alb_load_balancer: { alb: { load_balancer_edition: "Standard" } },
      alicloud_redis_tair_instance: { tair: { instance_class: "tair.rdb.2g", shard_count: 1 } },
      alicloud_polardb_cluster: { polardb: { db_node_class: "polar.mysql.x4.medium", db_node_count: 2 } },
      alicloud_rocketmq_instance: { rocketmq: { product_info: { msg_process_spec: "rmq.s1.micro" } } },
      alicloud_mse_cluster: { mse: { cluster_specification: "MSE_SC_1_2_60_c", instance_count: 1 } },
    },
  };
  const { total, unpriced } = hourlyCost(reference, 2);
  expect(unpriced).toEqual([]);
  expect(total).toBeGreaterThan(5.5);
  expect(total).toBeLessThan(6.5);
});
