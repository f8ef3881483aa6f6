import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RunningApp, startApp } from "../../scripts/lib/local-app";
import {
  createScratch,
  DEFAULT_MYSQL_URL,
  DEFAULT_REDIS_URL,
  freePort,
  Scratch,
  startThrowawayRedis,
} from "../../scripts/lib/local-services";
import { startOversellingApp } from "../doubles/overselling-app";
import { startLocalSecretStore, type LocalSecretStore } from "../support/secret-store";
import { startRateLimitingProxy } from "../doubles/rate-limiting-proxy";
import { buildApp, buildTool, runTool } from "./support/cli";

const secrets = {
  SECKILL_ADMIN_TOKEN: "smoke-test-admin-token-0123456789abcdef",
  SECKILL_USER_TOKEN_SECRET: "smoke-test-user-token-secret-0123456789",
};
const smallSale = ["--stock", "10", "--buyers", "30", "--confirm-timeout", "20"];

beforeAll(() => buildTool("smoke"), 120_000);

describe("against the real service on the local Redis and MariaDB (own database and key prefix)", () => {
  beforeAll(() => buildApp(), 120_000);

  describe("with Redis and MySQL up, the service reading its secrets from the store at start (as on the fleet)", () => {
    let scratch: Scratch;
    let store: LocalSecretStore;
    let app: RunningApp;

    beforeAll(async () => {
      scratch = await createScratch(DEFAULT_REDIS_URL, DEFAULT_MYSQL_URL, "smoke");
      store = await startLocalSecretStore(scratch, DEFAULT_REDIS_URL, DEFAULT_MYSQL_URL, {
        adminToken: secrets.SECKILL_ADMIN_TOKEN,
        userTokenSecret: secrets.SECKILL_USER_TOKEN_SECRET,
      });
      app = await startApp({ ...store.env, WORKERS: "1" });
    }, 90_000);

    afterAll(async () => {
      await app?.stop();
      await store?.dispose();
      await scratch?.dispose();
    });

    test("passes every check and exits 0", async () => {
      const run = await runTool("smoke", ["--url", app.baseUrl, ...smallSale], secrets);

      expect(run.stdout).toMatch(/^PASSED: 11 checks/m);
      for (const check of [
        "healthz",
        "readyz",
        "create-sale",
        "flash-crowd",
        "exactly-stock-sold",
        "one-unit-per-buyer",
        "orders-confirmed",
        "my-order",
        "stats-agree",
        "pay",
        "expiry",
      ]) {
        expect(run.stdout).toMatch(new RegExp(`^  PASS  ${check} `, "m"));
      }
      expect(run.stdout).toMatch(/^ {2}SKIP {2}rate-limit .*not asked for/m);
      expect(run.stderr).toMatch(/▸ flash-crowd: 30 buyers click "buy" twice each/);
      expect(run.code).toBe(0);
    });

    test("--rate-limit passes when the load balancer answers 503 above the limit", async () => {
      const alb = await startRateLimitingProxy(app.baseUrl, 40);
      try {
        const run = await runTool(
          "smoke",
          ["--url", alb.baseUrl, ...smallSale, "--rate-limit", "--rate-limit-qps", "40", "--rate-limit-seconds", "2"],
          secrets,
        );

        expect(run.stdout).toMatch(/^ {2}PASS {2}rate-limit .*× 503 from the load balancer/m);
        expect(run.code).toBe(0);
      } finally {
        await alb.close();
      }
    });

    test("--stack takes the per-IP order limit from the stack's outputs and rides out the load balancer's 503s", async () => {
      const projectDir = mkdtempSync(path.join(os.tmpdir(), "smoke-stack-"));
      const perIpQps = 5;
      const alb = await startRateLimitingProxy(app.baseUrl, perIpQps);
      try {
        deployedStack(projectDir, "seckill-dev", { public_url: alb.baseUrl, order_rate_limit_per_ip_qps: perIpQps });

        const run = await runTool(
          "smoke",
          ["--stack", "seckill-dev", "--stock", "4", "--buyers", "8", "--rate-limit", "--rate-limit-seconds", "2"],
          secrets,
          projectDir,
        );

        expect(run.stderr).toContain(
          `on the order endpoint (per-IP limit ${perIpQps}/s from the seckill-dev output order_rate_limit_per_ip_qps): the ALB answers 503`,
        );
        expect(run.stdout).toMatch(/^ {2}PASS {2}flash-crowd .* retried after 429\/ALB 503/m);
        expect(run.stdout).toMatch(/^PASSED: 12 checks/m);
        expect(run.code).toBe(0);
      } finally {
        await alb.close();
        rmSync(projectDir, { recursive: true, force: true });
      }
    }, 90_000);

    test("says so when this machine is outside admin_cidrs (the load balancer answers the admin plane 404)", async () => {
      const alb = await startRateLimitingProxy(app.baseUrl, 1000, { fromOutsideAdminCidrs: true });
      try {
        const run = await runTool("smoke", ["--url", alb.baseUrl, ...smallSale], secrets);

        expect(run.stdout).toContain(
          'FAILED at check "healthz": GET /healthz answered 404: the load balancer answers the admin plane (/admin/*, /metrics, /readyz, /healthz) only from the stack\'s admin_cidrs, and this machine is outside them; run the smoke test from an operator machine inside admin_cidrs',
        );
        expect(run.code).toBe(1);
      } finally {
        await alb.close();
      }
    });

    test("--rate-limit fails when nothing answers 503 above the limit", async () => {
      const run = await runTool(
        "smoke",
        ["--url", app.baseUrl, ...smallSale, "--rate-limit", "--rate-limit-qps", "20", "--rate-limit-seconds", "2"],
        secrets,
      );

      expect(run.stdout).toMatch(
        /^FAILED at check "rate-limit": no 503 from the load balancer at \d+ req\/s: is the TrafficLimit rule on the order path\?/m,
      );
      expect(run.code).toBe(1);
    });
  });

  test("fails at healthz or readyz, naming redis, when the service's Redis is down", async () => {
    const redis = await startThrowawayRedis();
    const scratch = await createScratch(DEFAULT_REDIS_URL, DEFAULT_MYSQL_URL, "smoke");
    const redisUrl = new URL(redis.url);
    redisUrl.searchParams.set("keyPrefix", scratch.keyPrefix);
    const app = await startApp({ REDIS_URL: redisUrl.toString(), MYSQL_URL: scratch.mysqlUrl, WORKERS: "1", ...secrets });
    try {
      await redis.stop();

      const run = await runTool("smoke", ["--url", app.baseUrl], secrets);

      // /healthz fails too once Redis has been silent for a few seconds: whichever check comes first names it.
      expect(run.stdout).toMatch(/^FAILED at check "(healthz|readyz)": the service cannot reach redis \(\/(healthz|readyz) answered 503 /m);
      expect(run.code).toBe(1);
    } finally {
      await app.stop();
      await redis.stop();
      await scratch.dispose();
    }
  }, 60_000);
});

test("fails at healthz, naming the address, when nothing listens there", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;

  const run = await runTool("smoke", ["--url", url], secrets);

  expect(run.stdout).toContain(`FAILED at check "healthz": nothing listens at ${url} (connection refused)`);
  expect(run.stdout).toMatch(/^ {2}SKIP {2}readyz .*not run: "healthz" failed/m);
  expect(run.code).toBe(1);
});

test("fails at exactly-stock-sold when the service hands out more units than it has", async () => {
  const oversellingApp = await startOversellingApp({
    adminToken: secrets.SECKILL_ADMIN_TOKEN,
    userTokenSecret: secrets.SECKILL_USER_TOKEN_SECRET,
  });
  try {
    const run = await runTool("smoke", ["--url", oversellingApp.baseUrl, "--stock", "20"], secrets);

    expect(run.stdout).toContain('FAILED at check "exactly-stock-sold": 21 buyers got a unit (202) for a stock of 20: oversold by 1');
    expect(run.code).toBe(1);
  } finally {
    await oversellingApp.close();
  }
});

describe("--stack seckill-<env>", () => {
  let projectDir: string;

  beforeEach(() => {
    projectDir = mkdtempSync(path.join(os.tmpdir(), "smoke-stack-"));
  });
  afterEach(() => rmSync(projectDir, { recursive: true, force: true }));

  test("reads the public URL and the secrets from the deployed stack's outputs", async () => {
    const oversellingApp = await startOversellingApp({
      adminToken: secrets.SECKILL_ADMIN_TOKEN,
      userTokenSecret: secrets.SECKILL_USER_TOKEN_SECRET,
    });
    try {
      deployedStack(projectDir, "seckill-dev", {
        public_url: oversellingApp.baseUrl,
        admin_token: secrets.SECKILL_ADMIN_TOKEN,
        user_token_secret: secrets.SECKILL_USER_TOKEN_SECRET,
      });

      const run = await runTool("smoke", ["--stack", "seckill-dev", "--stock", "5"], {}, projectDir);

      expect(run.stderr).toContain(`Smoke test of ${oversellingApp.baseUrl}`);
      expect(run.stdout).toMatch(/^ {2}PASS {2}create-sale /m);
    } finally {
      await oversellingApp.close();
    }
  });

  test("says what to do when the stack was never synthesized", async () => {
    const run = await runTool("smoke", ["--stack", "seckill-dev"], secrets, projectDir);

    expect(run.stderr).toContain('error: no synthesized stack "seckill-dev" in cdktf.out/stacks (found: none): run "npm run synth"');
    expect(run.code).toBe(2);
  });

  test("says what to do when the stack has no outputs yet (not deployed)", async () => {
    deployedStack(projectDir, "seckill-dev", undefined);

    const run = await runTool("smoke", ["--stack", "seckill-dev"], secrets, projectDir);

    expect(run.stderr).toMatch(/error: cannot read the outputs of seckill-dev: .*Outputs exist once "cdktf deploy seckill-dev" has run/);
    expect(run.code).toBe(2);
  });
});

test("exits 2 with the usage error on stderr when the flags contradict each other (the rest: smoke-request.test.ts)", async () => {
  const run = await runTool("smoke", ["--url", "http://127.0.0.1:1", "--stack", "seckill-dev"], secrets);

  expect(run.stderr).toMatch(/^error: give exactly one of --url <base-url> or --stack seckill-<env>/m);
  expect(run.code).toBe(2);
});

/** Lays out what `npm run synth` + `cdktf deploy` leave behind with the local backend; no state when `outputs` is undefined. */
function deployedStack(projectDir: string, stack: string, outputs: Record<string, string | number> | undefined): void {
  const stackDir = path.join(projectDir, "cdktf.out", "stacks", stack);
  mkdirSync(stackDir, { recursive: true });
  const statePath = path.join(projectDir, `terraform.${stack}.tfstate`);
  writeFileSync(path.join(stackDir, "cdk.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: statePath } } } }));
  if (outputs) {
    const stateOutputs = Object.fromEntries(
      Object.entries(outputs).map(([name, value]) => [
        name,
        { value, type: typeof value, sensitive: name !== "public_url" && typeof value === "string" },
      ]),
    );
    writeFileSync(statePath, JSON.stringify({ version: 4, outputs: stateOutputs, resources: [] }));
  }
}
