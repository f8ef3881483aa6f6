import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { SeckillStack } from "../../stacks/seckill-stack";
import { newestImageLines, summarizeStack } from "../../scripts/synth-summary";
import { MINIMAL_TFVARS, configFromTfvars } from "../stacks/support/synth";
import { FIXTURE_BUILD } from "../stacks/support/artifact";

const TFVARS = `${MINIMAL_TFVARS}
production = true
image_id = "aliyun_3_x64_20G_alibase_20251030.vhd"
certificate_id = "8806512-cn-hangzhou"
admin_cidrs = ["203.0.113.0/24"]
alarm_contacts = [{ name = "oncall", email = "oncall@example.com" }]
instance_types = ["ecs.c7.xlarge", "ecs.c6.xlarge"]
min_instances = 4
max_instances = 40
order_rate_limit_qps = 20000
read_rate_limit_qps = 60000
sale_windows = [{ name = "double12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 24 }]
tair_instance_class = "tair.rdb.8g"
polardb_node_class = "polar.mysql.x4.large"
state_backend = {
  bucket              = "acme-tfstate"
  tablestore_endpoint = "https://tf-lock.cn-hangzhou.ots.aliyuncs.com"
  tablestore_table    = "terraform_state_lock"
}
`;

describe("synth summary", () => {
  let outdir: string;
  let summary: string;
  beforeAll(async () => {
    outdir = mkdtempSync(path.join(tmpdir(), "seckill-summary-"));
    const app = new App({ outdir });
    new SeckillStack(app, await configFromTfvars(TFVARS, "prod"), FIXTURE_BUILD);
    app.synth();
    summary = summarizeStack(path.join(outdir, "stacks", "seckill-prod", "cdk.tf.json"));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test("names the stack and where its Terraform JSON went", () => {
    expect(summary.split("\n")[0]).toBe(
      `seckill-prod  →  ${path.relative(process.cwd(), path.join(outdir, "stacks", "seckill-prod", "cdk.tf.json"))}`,
    );
    expect(summary).toMatch(/^ {2}\d+ resources, \d+ data sources, 26 outputs \(5 sensitive\), 2 variables$/m);
  });

  test("counts resources by tier and type", () => {
    expect(summary).toMatch(/^ {2}network +11 {2}security_group 1, security_group_rule 3, vpc 1, vswitch 6$/m);
    expect(summary).toMatch(/^ {2}compute +6 {2}.*ess_scheduled_task 2, ram_role 1$/m);
  });

  test("shows the sizes that matter on sale day", () => {
    expect(summary).toContain("ALB        Standard, HTTP:80 + HTTPS:443, deletion protection on");
    expect(summary).toContain(
      "Limits     seckill-prod-admin-plane 1000 qps (20/IP); seckill-prod-catch-all 1000 qps (20/IP); seckill-prod-orders 20000 qps (10/IP); seckill-prod-payment-callbacks 20000 qps (10/IP); seckill-prod-reads 60000 qps (50/IP)",
    );
    expect(summary).toContain(
      "Fleet      ecs.c7.xlarge|ecs.c6.xlarge, min 4 / desired 4 / max 40, tracks LoadBalancerRealServerAverageQps 1000",
    );
    expect(summary).toContain("Sales      2026-12-12T11:30Z double12-prewarm → 24; 2026-12-12T14:30Z double12-scalein → 4");
    expect(summary).toContain("Image      aliyun_3_x64_20G_alibase_20251030.vhd (pinned in tfvars, built 2025-10-30)");
    expect(summary).toContain("Egress     none: instances reach only the VPC (nat_gateway = false)");
    expect(summary).toContain("Tair       tair.rdb.8g × 1 shard(s), PayAsYouGo, cn-hangzhou-j + cn-hangzhou-k");
    expect(summary).toContain("PolarDB    polar.mysql.x4.large × 2 nodes, PostPaid, hot standby ON, deletion lock 1");
    expect(summary).toContain("RocketMQ   standard/cluster_ha rmq.s2.2xlarge");
    expect(summary).toContain("Nacos      mse_pro MSE_SC_2_4_60_c × 3");
  });

  test("lists the sale page's tier, and says when the page is not published", () => {
    expect(summary).toMatch(
      /^ {2}sale-page +7 {2}oss_bucket 1, oss_bucket_acl 1, oss_bucket_object 3, oss_bucket_public_access_block 1, data\.account 1$/m,
    );
    expect(summary).toContain("Page       3 objects in a private bucket, not published (no sale_page_record_name)");
  });

  test("shows where a published page is served and the origin the API allows", async () => {
    const app = new App({ outdir });
    const tfvars = `${MINIMAL_TFVARS}dns_domain_name = "example.com"\ndns_record_name = "api"\nsale_page_record_name = "shop"\nsale_page_cdn_scope = "global"\n`;
    new SeckillStack(app, await configFromTfvars(tfvars, "shop"), FIXTURE_BUILD);
    app.synth();
    expect(summarizeStack(path.join(outdir, "stacks", "seckill-shop", "cdk.tf.json"))).toContain(
      "Page       3 objects, CDN shop.example.com (global, HTTP), API CORS for http://shop.example.com",
    );
  });

  test("without an AccessKey, says the newest image was not looked up (the lookup itself: test/scripts/lib/ecs-images.test.ts)", async () => {
    expect(await newestImageLines([path.join(outdir, "stacks", "seckill-prod", "cdk.tf.json")], {})).toEqual([
      "Newest system image: not looked up (offline: set ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY to ask ECS)",
    ]);
  });

  test("says so when no sale window lies ahead", async () => {
    const app = new App({ outdir });
    new SeckillStack(app, await configFromTfvars(MINIMAL_TFVARS, "quiet"), FIXTURE_BUILD);
    app.synth();
    expect(summarizeStack(path.join(outdir, "stacks", "seckill-quiet", "cdk.tf.json"))).toContain(
      "Sales      no scheduled pre-warm (no sale window ahead)",
    );
    expect(summary).toMatch(/^ {2}State {6}oss:\/\/acme-tfstate\/seckill\/prod$/m);
    expect(summarizeStack(path.join(outdir, "stacks", "seckill-quiet", "cdk.tf.json"))).toMatch(
      /^ {2}State {6}local .*terraform\.seckill-quiet\.tfstate$/m,
    );
  });
});
