import { SecretsError, readSecrets } from "../../../app/platform/secrets";
import { startOosSecretsDouble, type OosSecretsDouble, type OosSecretsDoubleOptions } from "../../doubles/oos-secrets-double";

const REGION = "cn-hangzhou";
const ROLE = "seckill-test-ecs";
const PREFIX = "seckill/test/";
const VALUES = {
  "admin-token": "admin-token-value-0123456789abcdef0123456789",
  "user-token-secret": "user-token-secret-value-0123456789abcdef01",
  "redis-password": "redis-password-value-Ab12-_",
  "mysql-password": "mysql-password-value-Cd34-_",
  "payment-webhook-secret": "payment-webhook-secret-value-0123456789ab",
};
const PARAMETERS = Object.fromEntries(Object.entries(VALUES).map(([name, value]) => [`${PREFIX}${name}`, value]));

const doubles: OosSecretsDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((double) => double.close()));
});

async function start(options: Partial<OosSecretsDoubleOptions> = {}): Promise<OosSecretsDouble> {
  const double = await startOosSecretsDouble({ region: REGION, parameters: PARAMETERS, roles: { [ROLE]: [`${PREFIX}*`] }, ...options });
  doubles.push(double);
  return double;
}

const envFor = (double: OosSecretsDouble, overrides: Record<string, string> = {}) => ({
  SECKILL_SECRETS_SOURCE: "oos",
  SECKILL_SECRETS_REGION: REGION,
  SECKILL_SECRETS_ROLE: ROLE,
  SECKILL_SECRETS_PREFIX: PREFIX,
  SECKILL_SECRETS_ENDPOINT: double.oosEndpoint,
  SECKILL_SECRETS_METADATA_HOST: double.metadataHost,
  ...overrides,
});

/** The error readSecrets fails with; its message must name no secret value. */
async function failureOf(env: NodeJS.ProcessEnv): Promise<string> {
  const error: unknown = await readSecrets(env).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SecretsError);
  const message = (error as Error).message;
  for (const value of Object.values(VALUES)) expect(message).not.toContain(value);
  return message;
}

describe("readSecrets", () => {
  it("needs nothing from a store under SECKILL_SECRETS_SOURCE=env (the default)", async () => {
    await expect(readSecrets({})).resolves.toEqual({});
    await expect(readSecrets({ SECKILL_SECRETS_SOURCE: "env" })).resolves.toEqual({});
  });

  it("reads every secret with the role's STS credentials, from the token-required metadata service, signed as OOS checks", async () => {
    const double = await start();
    await expect(readSecrets(envFor(double))).resolves.toEqual({
      SECKILL_ADMIN_TOKEN: VALUES["admin-token"],
      SECKILL_USER_TOKEN_SECRET: VALUES["user-token-secret"],
      REDIS_PASSWORD: VALUES["redis-password"],
      MYSQL_PASSWORD: VALUES["mysql-password"],
      SECKILL_PAYMENT_WEBHOOK_SECRET: VALUES["payment-webhook-secret"],
    });
    expect(double.credentialsIssued).toContain(ROLE);
    expect(double.oosRequests).toEqual([{ action: "GetSecretParameters", code: "OK" }]);
  });

  it("after a rotation, also reads the previous buyer-token key and when it was replaced", async () => {
    const double = await start();
    double.update(`${PREFIX}user-token-secret`, "user-token-secret-rotated-in-0123456789abcd");
    const secrets = await readSecrets(envFor(double));
    expect(secrets.SECKILL_USER_TOKEN_SECRET).toBe("user-token-secret-rotated-in-0123456789abcd");
    expect(secrets.SECKILL_USER_TOKEN_SECRET_PREVIOUS).toBe(VALUES["user-token-secret"]);
    expect(secrets.SECKILL_USER_TOKEN_SECRET_ROTATED_AT).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(double.oosRequests.map((request) => request.code)).toEqual(["OK", "OK"]);
  });

  it("names a missing parameter", async () => {
    const { [`${PREFIX}mysql-password`]: _missing, ...others } = PARAMETERS;
    const double = await start({ parameters: others });
    expect(await failureOf(envFor(double))).toMatch(/no encrypted parameter seckill\/test\/mysql-password\b/);
  });

  it("says access denied when the role may not read the parameters, naming the role", async () => {
    const double = await start({ roles: { [ROLE]: [`${PREFIX}*`], "other-app-ecs": ["other/*"] } });
    const message = await failureOf(envFor(double, { SECKILL_SECRETS_ROLE: "other-app-ecs" }));
    expect(message).toContain("as role other-app-ecs");
    expect(message).toContain("Forbidden.RAM");
  });

  it("says which role the metadata service does not know", async () => {
    const double = await start();
    const message = await failureOf(envFor(double, { SECKILL_SECRETS_ROLE: "not-attached" }));
    expect(message).toMatch(/STS credentials of RAM role not-attached .*404/);
  });

  it("says the metadata service is unreachable", async () => {
    const double = await start();
    await double.close();
    const message = await failureOf(envFor(double));
    expect(message).toContain(`instance metadata service (${double.metadataHost})`);
  });

  it("refreshes STS credentials that expire, and the double refuses expired ones", async () => {
    // Every OOS request moves the double's clock 5 minutes on; credentials live 4: only fresh ones pass the second call.
    let double: OosSecretsDouble | undefined = undefined;
    const skewed = () => new Date(Date.now() + (double?.oosRequests.length ?? 0) * 5 * 60_000);
    double = await start({ credentialLifetimeMs: 4 * 60_000, now: skewed });
    double.update(`${PREFIX}user-token-secret`, "user-token-secret-rotated-in-0123456789abcd");
    await expect(readSecrets(envFor(double))).resolves.toHaveProperty("SECKILL_USER_TOKEN_SECRET_PREVIOUS");
    expect(double.oosRequests.map((request) => request.code)).toEqual(["OK", "OK"]);
    expect(double.credentialsIssued.length).toBeGreaterThanOrEqual(2);

    const expiring = await start({ credentialLifetimeMs: 0 });
    expect(await failureOf(envFor(expiring))).toContain("InvalidSecurityToken.Expired");
  });

  it("names a missing SECKILL_SECRETS_* variable", async () => {
    await expect(readSecrets({ SECKILL_SECRETS_SOURCE: "oos" })).rejects.toThrow(
      /SECKILL_SECRETS_REGION is required when SECKILL_SECRETS_SOURCE=oos.*SECKILL_SECRETS_ROLE.*SECKILL_SECRETS_PREFIX/,
    );
  });
});
