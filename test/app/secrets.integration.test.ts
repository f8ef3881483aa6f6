/**
 * The service as the fleet runs it (SECKILL_SECRETS_SOURCE=oos): its environment names where the secrets are, and it
 * reads them itself at start from the OOS double, with the STS credentials the metadata double issues its role. The
 * data stores want the passwords only the store holds (test/support/secret-store.ts).
 */
import { spawn } from "node:child_process";
import { mintUserToken } from "../../app/http/auth";
import { createScratch, DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL, freePort, type Scratch } from "../../scripts/lib/local-services";
import { startLocalSecretStore, STORE_ROLE, UNPRIVILEGED_ROLE, type LocalSecretStore } from "../support/secret-store";
import { ServiceProcess, serviceBundle } from "./support/service-process";

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

async function createSale(baseUrl: string): Promise<string> {
  const answer = await fetch(`${baseUrl}/admin/sales`, {
    method: "POST",
    headers: { authorization: `Bearer ${store.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      itemName: "secrets test",
      stock: 10,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    }),
  });
  expect(answer.status).toBe(201);
  return ((await answer.json()) as { id: string }).id;
}

const buy = (baseUrl: string, saleId: string, token: string) =>
  fetch(`${baseUrl}/api/sales/${saleId}/orders`, { method: "POST", headers: { authorization: `Bearer ${token}` } }).then(
    (answer) => answer.status,
  );

describe("a service that reads its secrets from the store at start", () => {
  it("serves: the admin token creates a sale, a buyer token signed with the stored key buys, and no log holds a secret", async () => {
    const service = await startService();
    try {
      const saleId = await createSale(service.baseUrl);
      expect(await buy(service.baseUrl, saleId, mintUserToken("store-buyer", store.userTokenSecret))).toBe(202);
      expect(await buy(service.baseUrl, saleId, mintUserToken("forger", "not-the-stored-key-0123456789abcdef"))).toBe(401);
    } finally {
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

    const withinOverlap = await startService({ SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS: "3600" });
    try {
      const saleId = await createSale(withinOverlap.baseUrl);
      expect(await buy(withinOverlap.baseUrl, saleId, mintUserToken("old-key-buyer", previousKey))).toBe(202);
      expect(await buy(withinOverlap.baseUrl, saleId, mintUserToken("new-key-buyer", newKey))).toBe(202);
    } finally {
      await withinOverlap.stop();
    }

    // An overlap of 0 has ended as the service starts: the same kind of token is now refused.
    const afterOverlap = await startService({ SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS: "0" });
    try {
      const saleId = await createSale(afterOverlap.baseUrl);
      expect(await buy(afterOverlap.baseUrl, saleId, mintUserToken("old-key-buyer-2", previousKey))).toBe(401);
      expect(await buy(afterOverlap.baseUrl, saleId, mintUserToken("new-key-buyer-2", newKey))).toBe(202);
    } finally {
      await afterOverlap.stop();
    }
  });
});
