import { readFile } from "node:fs/promises";
import { parse } from "@cdktf/hcl2json";
import { validateEnvConfig } from "../../../stacks/config";
import { TFVARS_DEFAULTS, tfvarsDocs, tfvarsSchema } from "../../../stacks/config/schema";
import { renderTfvarsExample } from "../../../stacks/config/tfvars-example";

const NOW = new Date("2026-11-25T00:00:00Z");
const rendered = renderTfvarsExample();

/** The comment lines right above `line` in the rendered file, as one text. */
function notesAbove(line: string): string {
  const lines = rendered.split("\n");
  const at = lines.indexOf(line);
  if (at < 0) throw new Error(`no line ${JSON.stringify(line)} in:\n${rendered}`);
  let first = at;
  // Notes are prose: they stop at a heading or at the key above, even when that one is commented out.
  const isNote = (above: string) => above.startsWith("# ") && !/^# (-|\s|[}\]]|[a-z_]+ = )/.test(above);
  while (first > 0 && isNote(lines[first - 1])) first--;
  return lines
    .slice(first, at)
    .map((comment) => comment.slice(2))
    .join(" ");
}

function examples(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(tfvarsSchema.shape).flatMap(([key, schema]) => {
      const example = tfvarsDocs.get(schema)?.example;
      return example === undefined ? [] : [[key, example]];
    }),
  );
}

describe("terraform.tfvars.example", () => {
  test("the committed file is what the schema renders", async () => {
    const committed = await readFile("terraform.tfvars.example", "utf8");
    if (committed !== rendered) throw new Error("terraform.tfvars.example is out of date: run npm run tfvars:example");
  });

  test("it sets the required keys to their example and every other key to the schema's default; the rest are commented out", async () => {
    const { region, zones } = examples();
    expect(await parse("terraform.tfvars.example", rendered)).toEqual({ region, zones, ...TFVARS_DEFAULTS });
  });

  test("each key's notes say whether it is required, its default when the schema has none, its unit and what it replaces", () => {
    expect(notesAbove('region = "cn-hangzhou"')).toBe("(required) Alibaba Cloud region id.");
    expect(notesAbove('# certificate_id = "12345678-cn-hangzhou"')).toMatch(
      /^SSL Certificates Service certificate id\..* Default: unset \(HTTP :80 only\)\.$/,
    );
    expect(notesAbove("# desired_instances = 4")).toMatch(/Default: min_instances\.$/);
    expect(notesAbove("nat_bandwidth_mbps = 50 # Mbit/s")).toMatch(/^Bandwidth cap of the NAT gateway's EIP/);
    expect(notesAbove("polardb_hot_standby = true")).toMatch(/Replaces the PolarDB cluster\.$/);
    expect(notesAbove('rocketmq_spec = "rmq.s2.2xlarge"')).toMatch(/Replaces the RocketMQ instance \(unconsumed messages are lost\)\.$/);
  });

  test("keys are grouped under their section's heading", () => {
    const headings = rendered.split("\n").filter((line) => line.startsWith("# ----"));
    expect(headings.map((line) => line.replace(/^# -+ /, ""))).toEqual([
      "placement",
      "network",
      "ingress (ALB)",
      "sale page (OSS behind CDN)",
      "compute (auto-scaled ECS)",
      "data stores",
      "messaging (RocketMQ 5)",
      "registry (MSE Nacos)",
      "app",
      "observability (SLS logs, CloudMonitor alarms)",
      "Terraform state",
    ]);
    const section = (heading: string) => rendered.split(`-- ${heading}\n`)[1].split("\n# ----")[0];
    expect(section("Terraform state")).toContain("#   tablestore_endpoint = ");
    expect(section("sale page (OSS behind CDN)")).toMatch(/^# The page \(web\/\) is always uploaded/);
  });

  test("the example values, all set at once, are a valid environment", () => {
    const config = validateEnvConfig(examples(), { envName: "example", sourceFile: "terraform.tfvars.example", now: NOW });
    expect(config).toMatchObject({
      salePage: { domain: { recordName: "shop", cdnScope: "global" } },
      stateBackend: { prefix: "seckill/prod" },
    });
  });
});
