import Credential, { ECSRAMRoleCredentialsProvider } from "@alicloud/credentials";
import OpenApi, { Config as OpenApiConfig, OpenApiRequest, Params } from "@alicloud/openapi-client";
import { RuntimeOptions } from "@alicloud/tea-util";
import { ROTATING_SECRET_PARAMETER, SECRET_PARAMETERS, type SecretParameter, type ServiceEnvVar } from "../../contract/service-env";
import { loadSecretsSource, type SecretsSource } from "./config";

type OosSource = Extract<SecretsSource, { source: "oos" }>;

/** Why the secrets could not be read: names the secret or the step, never a value. */
export class SecretsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretsError";
  }
}

/** What the service passes on to its workers in memory: the secret variables, filled from the store. */
export type SecretVariables = Partial<Record<ServiceEnvVar, string>>;

const OOS_API_VERSION = "2019-06-01";
const TIMEOUT_MS = 5000;

/**
 * The secret variables SECKILL_SECRETS_SOURCE names: none under `env` (they are in the environment already); under
 * `oos`, every SECRET_PARAMETERS entry read from OOS with the instance role's STS credentials, plus the previous
 * version of the buyer-token key and when it was replaced, so tokens it signed count for the rotation overlap.
 * Throws SecretsError (or ServiceConfigError for a bad SECKILL_SECRETS_* variable).
 */
export async function readSecrets(env: NodeJS.ProcessEnv = process.env): Promise<SecretVariables> {
  const source = loadSecretsSource(env);
  return source.source === "env" ? {} : readFromOos(source);
}

async function readFromOos(source: OosSource): Promise<SecretVariables> {
  const credential = roleCredential(source);
  try {
    await credential.getCredential();
  } catch (error) {
    throw new SecretsError(
      `could not get the STS credentials of RAM role ${source.role} from the instance metadata service (${source.metadataHost}): ${causeOf(error)}`,
    );
  }
  const client = new OpenApi(
    new OpenApiConfig({
      credential,
      endpoint: source.endpoint.host,
      protocol: source.endpoint.protocol.replace(":", ""),
      regionId: source.region,
      readTimeout: TIMEOUT_MS,
      connectTimeout: TIMEOUT_MS,
    }),
  );
  const names = Object.keys(SECRET_PARAMETERS) as SecretParameter[];
  const fullName = (name: SecretParameter) => `${source.prefix}${name}`;
  const answer = await call(client, source, "GetSecretParameters", {
    RegionId: source.region,
    Names: JSON.stringify(names.map(fullName)),
    WithDecryption: "true",
  });
  const parameters = listOf(answer.Parameters).map(parameterOf);
  const missing = names.filter((name) => !parameters.some((parameter) => parameter.Name === fullName(name)));
  if (missing.length > 0) {
    throw new SecretsError(
      `OOS in ${source.region} has no encrypted parameter ${missing.map(fullName).join(", ")} (or role ${source.role} may not read it)`,
    );
  }
  const secrets: SecretVariables = {};
  for (const name of names) {
    const parameter = parameters.find((candidate) => candidate.Name === fullName(name))!;
    if (!parameter.Value) throw new SecretsError(`OOS encrypted parameter ${fullName(name)} came back without a value`);
    secrets[SECRET_PARAMETERS[name]] = parameter.Value;
  }
  const rotating = parameters.find((parameter) => parameter.Name === fullName(ROTATING_SECRET_PARAMETER))!;
  if (rotating.ParameterVersion > 1) {
    const previous = await call(client, source, "GetSecretParameter", {
      RegionId: source.region,
      Name: rotating.Name,
      ParameterVersion: String(rotating.ParameterVersion - 1),
      WithDecryption: "true",
    });
    const value = parameterOf(previous.Parameter).Value;
    if (!value)
      throw new SecretsError(`OOS encrypted parameter ${rotating.Name} version ${rotating.ParameterVersion - 1} came back without a value`);
    secrets.SECKILL_USER_TOKEN_SECRET_PREVIOUS = value;
    secrets.SECKILL_USER_TOKEN_SECRET_ROTATED_AT = rotating.UpdatedDate;
  }
  return secrets;
}

/**
 * The instance role's credentials from the metadata service, token-required (the hardened mode: the SDK never falls
 * back to tokenless requests). The SDK always asks 100.100.100.200; another metadataHost (a test double) is reached
 * by rewriting the host of each request it builds, through the request function the SDK keeps on the instance.
 */
function roleCredential(source: OosSource): Credential {
  const provider = ECSRAMRoleCredentialsProvider.builder()
    .withRoleName(source.role)
    .withDisableIMDSv1(true)
    .withConnectTimeout(TIMEOUT_MS)
    .withReadTimeout(TIMEOUT_MS)
    .build();
  if (source.metadataHost !== "100.100.100.200") {
    const sdk = provider as unknown as { doRequest: (request: { host: string }) => Promise<unknown> };
    const send = sdk.doRequest;
    sdk.doRequest = (request) => {
      request.host = source.metadataHost;
      return send(request);
    };
  }
  return new Credential(null, provider);
}

async function call(client: OpenApi, source: OosSource, action: string, query: Record<string, string>): Promise<Record<string, unknown>> {
  const params = new Params({
    action,
    version: OOS_API_VERSION,
    protocol: source.endpoint.protocol.replace(":", ""),
    pathname: "/",
    method: "POST",
    authType: "AK",
    style: "RPC",
    reqBodyType: "formData",
    bodyType: "json",
  });
  try {
    const response = (await client.callApi(params, new OpenApiRequest({ query }), new RuntimeOptions({ autoretry: false }))) as {
      body?: Record<string, unknown>;
    };
    return response.body ?? {};
  } catch (error) {
    throw new SecretsError(`OOS ${action} in ${source.region} as role ${source.role} failed: ${causeOf(error)}`);
  }
}

interface OosParameter {
  readonly Name: string;
  readonly Value?: string;
  readonly ParameterVersion: number;
  readonly UpdatedDate: string;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function parameterOf(value: unknown): OosParameter {
  const parameter = (value ?? {}) as Partial<OosParameter>;
  return {
    Name: String(parameter.Name ?? ""),
    Value: typeof parameter.Value === "string" ? parameter.Value : undefined,
    ParameterVersion: Number(parameter.ParameterVersion ?? 1),
    UpdatedDate: String(parameter.UpdatedDate ?? ""),
  };
}

/** An SDK error as its code and message: both come from the service or the network, never from a secret's value. */
function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
