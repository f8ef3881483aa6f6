/** How the smoke test reads its command line and environment (scripts/smoke.ts smokeRequestFrom), in-process. */
import { UsageError } from "../../scripts/lib/cli";
import { smokeRequestFrom } from "../../scripts/smoke";

const secrets = { SECKILL_ADMIN_TOKEN: "a".repeat(32), SECKILL_USER_TOKEN_SECRET: "s".repeat(32) };
const url = ["--url", "http://127.0.0.1:1"];

function usageErrorOf(args: string[], env: NodeJS.ProcessEnv = secrets): string {
  try {
    smokeRequestFrom(args, env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("the smoke test's settings", () => {
  it("take the documented defaults: 20 units, three buyers a unit, no rate-limit check", () => {
    expect(smokeRequestFrom(url, secrets)).toEqual({
      baseUrl: "http://127.0.0.1:1",
      ...{ adminToken: secrets.SECKILL_ADMIN_TOKEN, userTokenSecret: secrets.SECKILL_USER_TOKEN_SECRET },
      stock: 20,
      buyers: 60,
      concurrency: 20,
      confirmTimeoutMs: 120_000,
      rateLimit: undefined,
      rateLimitSeconds: 5,
    });
  });

  it("take the rate limit from --rate-limit-qps, saying where it came from", () => {
    const request = smokeRequestFrom([...url, "--rate-limit", "--rate-limit-qps", "40"], secrets);
    expect(request?.rateLimit).toEqual({ perIpQps: 40, source: "--rate-limit-qps" });
  });

  it("are nothing to run after --help", () => {
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(smokeRequestFrom(["--help"], {})).toBeUndefined();
      expect(String(write.mock.calls[0][0])).toMatch(/^Usage: npm run smoke --/);
    } finally {
      write.mockRestore();
    }
  });
});

describe("the smoke test refuses, saying what to pass,", () => {
  it("--url and --stack together", () => {
    expect(usageErrorOf([...url, "--stack", "seckill-dev"])).toMatch(/^give exactly one of --url <base-url> or --stack seckill-<env>/);
  });

  it("neither --url nor --stack", () => {
    expect(usageErrorOf([])).toMatch(/^give exactly one of --url/);
  });

  it("a run without the admin token, naming the variable", () => {
    expect(usageErrorOf(url, { SECKILL_USER_TOKEN_SECRET: secrets.SECKILL_USER_TOKEN_SECRET })).toMatch(
      /^SECKILL_ADMIN_TOKEN is not set: the service's admin bearer token\. With --stack it is read from the stack's "admin_token" output\./,
    );
  });

  it("a crowd no bigger than the stock", () => {
    expect(usageErrorOf([...url, "--stock", "10", "--buyers", "10"])).toBe(
      "--buyers (10) must be more than --stock (10): the crowd has to outnumber the units",
    );
  });

  it("--rate-limit against a bare URL without the limit", () => {
    expect(usageErrorOf([...url, "--rate-limit"])).toBe(
      "--rate-limit with --url needs --rate-limit-qps <n>: the order endpoint's per-client-IP limit",
    );
  });

  it("a flag that is not a whole number, or one it does not know", () => {
    expect(usageErrorOf([...url, "--stock", "ten"])).toBe('--stock must be a whole number ≥ 1, got "ten"');
    expect(usageErrorOf([...url, "--stocks", "10"])).toMatch(/Unknown option '--stocks'/);
  });
});
