/**
 * Stand-ins for what an instance reads its secrets from, checking what the real services check:
 *
 * - The ECS instance metadata service, in its hardened (token-required) mode: `PUT /latest/api/token` hands out a
 *   session token, and `GET /latest/meta-data/ram/security-credentials/<role>` answers only with a valid one. It issues
 *   each attached role fresh STS credentials (AccessKeyId, AccessKeySecret, SecurityToken, Expiration) that expire
 *   after `credentialLifetimeMs`; a role not attached gets 404, as on ECS.
 * - The OOS OpenAPI (RPC style, 2019-06-01) actions GetSecretParameters and GetSecretParameter. A request must carry a
 *   V3 signature (ACS3-HMAC-SHA256) made with credentials this double issued and that have not expired, its security
 *   token, a date within 15 minutes and an unused nonce; the signature is recomputed here from the spec,
 *   independently of the SDK under test. A role reads only the parameters granted to it (else Forbidden.RAM, 403).
 *   Parameters keep their versions; `update` writes a new one, as UpdateSecretParameter does.
 *
 * Errors come back as OOS words them (Code, Message, HTTP status).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encode } from "./ecs-api-double";

export interface OosSecretsDoubleOptions {
  readonly region: string;
  /** Parameter name → its first version's value. */
  readonly parameters: Readonly<Record<string, string>>;
  /** The roles attached to "the instance", each with the parameter names (or `prefix*` patterns) it may read. */
  readonly roles: Readonly<Record<string, readonly string[]>>;
  /** How long issued STS credentials live (default one hour). */
  readonly credentialLifetimeMs?: number;
  /** The double's clock (default: the machine's). */
  readonly now?: () => Date;
}

export interface OosSecretsDouble {
  /** host:port of the metadata service double (SECKILL_SECRETS_METADATA_HOST). */
  readonly metadataHost: string;
  /** URL of the OOS API double (SECKILL_SECRETS_ENDPOINT). */
  readonly oosEndpoint: string;
  /** STS credentials issued so far, by role. */
  readonly credentialsIssued: string[];
  /** Every OOS request it answered: its action and the outcome's code ("OK" or the error code). */
  readonly oosRequests: Array<{ readonly action: string; readonly code: string }>;
  /** Writes a new version of a parameter (UpdateSecretParameter), dated by the double's clock. */
  update(name: string, value: string): void;
  close(): Promise<void>;
}

interface Version {
  readonly value: string;
  readonly updated: Date;
}

interface Issued {
  readonly role: string;
  readonly secret: string;
  readonly securityToken: string;
  readonly expiresAt: number;
}

const TOKEN_TTL_HEADER = "x-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER = "x-aliyun-ecs-metadata-token";
const SIGNATURE_ALGORITHM = "ACS3-HMAC-SHA256";
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const isoSeconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

export async function startOosSecretsDouble(options: OosSecretsDoubleOptions): Promise<OosSecretsDouble> {
  const now = options.now ?? (() => new Date());
  const lifetimeMs = options.credentialLifetimeMs ?? 3_600_000;
  const parameters = new Map<string, Version[]>(
    Object.entries(options.parameters).map(([name, value]) => [name, [{ value, updated: now() }]]),
  );
  const metadataTokens = new Map<string, number>();
  const issued = new Map<string, Issued>();
  const credentialsIssued: string[] = [];
  const oosRequests: Array<{ action: string; code: string }> = [];
  const nonces = new Set<string>();

  const metadata = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://metadata");
    const reply = (status: number, body: string, type = "text/plain") => {
      response.writeHead(status, { "content-type": type });
      response.end(body);
    };
    if (request.method === "PUT" && url.pathname === "/latest/api/token") {
      const ttl = Number(request.headers[TOKEN_TTL_HEADER]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return reply(400, "Bad Request");
      const token = randomBytes(24).toString("base64url");
      metadataTokens.set(token, now().getTime() + ttl * 1000);
      return reply(200, token);
    }
    const token = request.headers[TOKEN_HEADER];
    const tokenExpiry = typeof token === "string" ? metadataTokens.get(token) : undefined;
    // Hardened mode: a request without a live token is refused.
    if (tokenExpiry === undefined || tokenExpiry <= now().getTime()) return reply(401, "Unauthorized");
    const prefix = "/latest/meta-data/ram/security-credentials/";
    if (request.method !== "GET" || !url.pathname.startsWith(prefix)) return reply(404, "Not Found");
    const role = decodeURIComponent(url.pathname.slice(prefix.length));
    if (role === "") return reply(200, Object.keys(options.roles).join("\n"));
    if (!(role in options.roles)) return reply(404, "Not Found");
    const accessKeyId = `STS.double${randomBytes(8).toString("hex")}`;
    const credentials: Issued = {
      role,
      secret: randomBytes(20).toString("base64url"),
      securityToken: randomBytes(32).toString("base64url"),
      expiresAt: now().getTime() + lifetimeMs,
    };
    issued.set(accessKeyId, credentials);
    credentialsIssued.push(role);
    reply(
      200,
      JSON.stringify({
        AccessKeyId: accessKeyId,
        AccessKeySecret: credentials.secret,
        SecurityToken: credentials.securityToken,
        Expiration: isoSeconds(new Date(credentials.expiresAt)),
        LastUpdated: isoSeconds(now()),
        Code: "Success",
      }),
      "application/json",
    );
  });

  const grants = (role: string, name: string) =>
    options.roles[role].some((pattern) => (pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern));

  const parameterJson = (name: string, version: number, withValue: boolean) => {
    const versions = parameters.get(name)!;
    const { value, updated } = versions[version - 1];
    return {
      Name: name,
      Type: "Secret",
      ParameterVersion: version,
      CreatedDate: isoSeconds(versions[0].updated),
      UpdatedDate: isoSeconds(updated),
      ...(withValue ? { Value: value } : {}),
    };
  };

  const oos = createServer((request, response) => {
    void answerOos(request, response);
  });

  async function answerOos(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? "/", "http://oos");
    const action = String(request.headers["x-acs-action"] ?? "");
    const answer = (status: number, json: object, code = "OK") => {
      oosRequests.push({ action, code });
      response.writeHead(status, { "content-type": "application/json;charset=utf-8" });
      response.end(JSON.stringify({ RequestId: `double-${oosRequests.length}`, ...json }));
    };
    const fail = (status: number, Code: string, Message: string) => answer(status, { Code, Message }, Code);

    const authorization = String(request.headers.authorization ?? "");
    const match = new RegExp(`^${SIGNATURE_ALGORITHM} Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$`).exec(
      authorization,
    );
    if (!match) return fail(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.");
    const [, accessKeyId, signedHeaderList, signature] = match;
    const signedHeaders = signedHeaderList.split(";");
    const mustSign = Object.keys(request.headers).filter((name) => name === "host" || name.startsWith("x-acs-"));
    const unsigned = mustSign.filter((name) => !signedHeaders.includes(name));
    if (unsigned.length > 0) return fail(400, "IncompleteSignature", `The request signature does not cover ${unsigned.join(", ")}.`);
    if (request.headers["x-acs-version"] !== "2019-06-01") return fail(400, "InvalidVersion", "Specified parameter Version is not valid.");
    const date = String(request.headers["x-acs-date"] ?? "");
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date) || Math.abs(now().getTime() - Date.parse(date)) > MAX_CLOCK_SKEW_MS) {
      return fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    }
    const credentials = issued.get(accessKeyId);
    if (!credentials) return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    if (request.headers["x-acs-security-token"] !== credentials.securityToken) {
      return fail(400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey.");
    }
    if (credentials.expiresAt <= now().getTime()) return fail(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.");
    if (request.headers["x-acs-content-sha256"] !== sha256Hex(body)) {
      return fail(400, "SignatureDoesNotMatch", "The request body does not match x-acs-content-sha256.");
    }
    const canonicalQuery = [...url.searchParams.keys()]
      .sort()
      .map((key) => `${encode(key)}=${encode(url.searchParams.get(key)!)}`)
      .join("&");
    const canonicalHeaders = signedHeaders.map((name) => `${name}:${String(request.headers[name] ?? "").trim()}\n`).join("");
    const canonicalRequest = [request.method, url.pathname, canonicalQuery, canonicalHeaders, signedHeaderList, sha256Hex(body)].join("\n");
    const expected = createHmac("sha256", credentials.secret)
      .update(`${SIGNATURE_ALGORITHM}\n${sha256Hex(canonicalRequest)}`)
      .digest("hex");
    if (signature !== expected) return fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
    const nonce = String(request.headers["x-acs-signature-nonce"] ?? "");
    if (nonce === "" || nonces.has(nonce)) return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    nonces.add(nonce);

    const params = new URLSearchParams(url.search);
    for (const [key, value] of new URLSearchParams(body.toString("utf8"))) params.set(key, value);
    if (params.get("RegionId") !== options.region)
      return fail(400, "InvalidRegionId", `The region ${params.get("RegionId")} is not this double's.`);
    const withValue = params.get("WithDecryption") === "true";
    const denied = (name: string) =>
      fail(
        403,
        "Forbidden.RAM",
        `User not authorized to operate on the specified resource: acs:oos:${options.region}:*:secretparameter${name}.`,
      );
    if (action === "GetSecretParameters") {
      let names: unknown;
      try {
        names = JSON.parse(params.get("Names") ?? "");
      } catch {
        names = undefined;
      }
      if (!Array.isArray(names) || names.length < 1 || names.length > 10 || !names.every((name) => typeof name === "string")) {
        return fail(400, "InvalidParameter", "Names must be a JSON array of 1 to 10 parameter names.");
      }
      const forbidden = (names as string[]).find((name) => !grants(credentials.role, name));
      if (forbidden !== undefined) return denied(forbidden);
      const found = (names as string[]).filter((name) => parameters.has(name));
      return answer(200, {
        Parameters: found.map((name) => parameterJson(name, parameters.get(name)!.length, withValue)),
        InvalidParameters: (names as string[]).filter((name) => !parameters.has(name)),
      });
    }
    if (action === "GetSecretParameter") {
      const name = params.get("Name") ?? "";
      if (!grants(credentials.role, name)) return denied(name);
      const versions = parameters.get(name);
      const version = Number(params.get("ParameterVersion") ?? versions?.length);
      if (!versions || !Number.isInteger(version) || version < 1 || version > versions.length) {
        return fail(404, "EntityNotExists.Parameter", `The Parameter (${name}) does not exist.`);
      }
      return answer(200, { Parameter: parameterJson(name, version, withValue) });
    }
    fail(400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
  }

  const metadataPort = await listen(metadata);
  const oosPort = await listen(oos);
  return {
    metadataHost: `127.0.0.1:${metadataPort}`,
    oosEndpoint: `http://127.0.0.1:${oosPort}`,
    credentialsIssued,
    oosRequests,
    update(name, value) {
      const versions = parameters.get(name);
      if (!versions) throw new Error(`oos double: no parameter ${name}`);
      versions.push({ value, updated: now() });
    },
    close: async () => {
      await Promise.all(
        [metadata, oos].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
