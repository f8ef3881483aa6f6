/**
 * The service as the fleet runs it (SECKILL_SECRETS_SOURCE=oos): its environment names where the secrets are, and it
 * reads them itself at start from the OOS double, with the STS credentials the metadata double issues its role. The
 * data stores want the passwords only the store holds (test/support/secret-store.ts).
 */
import { spawn } from "node:child_process";
import { mintUserToken } from "../../app/http/auth";
import { createScratch, DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL, freePort, type Scratch } from "../../scripts/lib/local-services";
import { startLocalSecretStore, STORE_ROLE, UNPRIVILEGED_ROLE, type LocalSecretStore } from "../support/secret-store";
import { ApiClient, bearer } from "./support/http-client";
import { ServiceProcess, serviceBundle } from "./support/service-process";
import { createSale } from "./support/shop-api";

jest.setTimeout(120_000);

let scratch: Scratch;
let store: LocalSecretStore;

beforeAll(async () => {
  scratch = await createScratch(DEFAULT_REDIS_URL, DEFAULT_MYSQL_URL, "secrets");
  store = await startLocalSecretStore(scratch, DEFAULT_REDIS_URL, DEFAULT_MYSQL_URL);
});

afterAll(async () => {
  await store?.dispose();
  await scratch?.dispose();
});

async function startService(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
  return ServiceProcess.start({ ...store.env, PORT: String(await freePort()), WORKERS: "1", ...overrides });
}

/** Runs the service where it cannot start; what it printed and how it exited. */
async function failedStart(overrides: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [serviceBundle()], {
    env: { PATH: process.env.PATH, ...store.env, PORT: String(await freePort()), WORKERS: "1", ...overrides },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  for (const value of store.values) expect(output).not.toContain(value);
  return { code, output };
}

/** A sale created with the admin token from the store; buying in it answers with the status only. */
async function openSale(service: ServiceProcess): Promise<{ buy: (token: string) => Promise<number>; close: () => void }> {
  const api = new ApiClient(service.baseUrl, 4);
  const saleId = await createSale(api, 10, { authorization: bearer(store.adminToken) });
  const buy = async (token: string) => (await api.post(`/api/sales/${saleId}/orders`, { headers: bearer(token) })).status;
  return { buy, close: () => api.close() };
}

describe("a service that reads its secrets from the store at start", () => {
  it("serves: the admin token creates a sale, a buyer token signed with the stored key buys, and no log holds a secret", async () => {
    const service = await startService();
    const sale = await openSale(service);
    try {
      expect(await sale.buy(mintUserToken("store-buyer", store.userTokenSecret))).toBe(202);
      expect(await sale.buy(mintUserToken("forger", "not-the-stored-key-0123456789abcdef"))).toBe(401);
    } finally {
      sale.close();
      await service.stop();
    }
    for (const value of store.values) expect(service.output()).not.toContain(value);
    expect(store.double.credentialsIssued).toContain(STORE_ROLE);
  });

  it("exits non-zero naming the role when it is denied access, and never prints a secret", async () => {
    const { code, output } = await failedStart({ SECKILL_SECRETS_ROLE: UNPRIVILEGED_ROLE });
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(`^seckill: secrets: OOS GetSecretParameters in cn-hangzhou as role ${UNPRIVILEGED_ROLE} failed: .*Forbidden\\.RAM`, "m"),
    );
  });

  it("exits non-zero naming a role the instance does not have", async () => {
    const { code, output } = await failedStart({ SECKILL_SECRETS_ROLE: "not-attached" });
    expect(code).toBe(1);
    expect(output).toMatch(/^seckill: secrets: could not get the STS credentials of RAM role not-attached .*404/m);
  });

  it("exits non-zero naming a missing parameter", async () => {
    const { code, output } = await failedStart({ SECKILL_SECRETS_PREFIX: "seckill/elsewhere/" });
    expect(code).toBe(1);
    expect(output).toContain("secrets: OOS in cn-hangzhou has no encrypted parameter seckill/elsewhere/admin-token, ");
  });

  it("exits non-zero naming the metadata service it cannot reach", async () => {
    const { code, output } = await failedStart({ SECKILL_SECRETS_METADATA_HOST: `127.0.0.1:${await freePort()}` });
    expect(code).toBe(1);
    expect(output).toMatch(/secrets: could not get the STS credentials of RAM role seckill-local-ecs from the instance metadata service/);
  });
});

describe("rotating the buyer-token key in the store, then restarting", () => {
  it("accepts tokens of the previous key within the overlap and answers 401 after it, the new key's throughout", async () => {
    const previousKey = store.userTokenSecret;
    const newKey = "rotated-in-buyer-token-key-0123456789abcdef";
    store.double.update("seckill/local/user-token-secret", newKey);

    // Within the overlap the previous key's tokens still buy; with an overlap of 0 it has ended as the service starts.
    for (const [overlapSeconds, previousKeyAnswer] of [
      ["3600", 202],
      ["0", 401],
    ] as const) {
      const service = await startService({ SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS: overlapSeconds });
      const sale = await openSale(service);
      try {
        expect(await sale.buy(mintUserToken(`old-key-buyer-${overlapSeconds}`, previousKey))).toBe(previousKeyAnswer);
        expect(await sale.buy(mintUserToken(`new-key-buyer-${overlapSeconds}`, newKey))).toBe(202);
      } finally {
        sale.close();
        await service.stop();
      }
    }
  });
});
