/**
 * The user data every scaling-group instance boots with: one bash script that turns a fresh Alibaba Cloud Linux 3
 * instance into a serving seckill node (see boot-script.ts for the steps).
 *
 * Why the value is `${base64gzip("<script>")}`, gzipped by Terraform at apply time:
 * - ECS limits user data to 16 KB *before* base64. Our own code travels in the script (esbuild-minified), so gzip
 *   is what makes it fit: cloud-init recognises gzip-compressed user data and decompresses it before running it.
 * - The script contains values Terraform only knows at apply time (endpoints, generated passwords). Gzipping at
 *   synth time would freeze placeholders; Terraform's base64gzip() compresses the script with the real values in it.
 * - A Terraform string cannot hold raw gzip bytes, hence base64. The provider (resource_alicloud_ess_scaling_configuration.go,
 *   create and update) sends user_data that already decodes as base64 unchanged and base64-encodes anything else, and
 *   on read keeps the API's base64 when the configured value was base64, so this value neither double-encodes nor drifts.
 * Everything literal in the script is escaped for an HCL quoted string; only serviceEnv values may carry CDKTF tokens,
 * and they stay live interpolations inside the base64gzip() call.
 *
 * Secrets (README trade-off): user data can be read back through the ECS API by anyone allowed to describe
 * instances, so the secrets in serviceEnv are exposed to that permission; on the instance they live only in a
 * root-only (0600) env file. Moving them to a secret store is a later step.
 */
import { IResolvable, Token, Tokenization } from "cdktf";
import { bundleApp } from "./app-bundle";
import { bootScript, ScriptPiece } from "./boot-script";

export { NODE_VERSION } from "./boot-script";

export interface UserDataProps {
  /** Environment name, shown in the script and the unit description. */
  readonly envName: string;
  /** Port the service listens on (the ALB server group's port). */
  readonly appPort: number;
  /** Node.js release mirror laid out like nodejs.org/dist: `<mirror>/v<version>/node-v<version>-linux-x64.tar.xz` and `SHASUMS256.txt`. */
  readonly nodeMirror: string;
  /** npm registry the production dependencies are installed from. */
  readonly npmRegistry: string;
  /** The service's environment (REDIS_URL, MYSQL_URL, secrets, ...). Values may be CDKTF tokens resolved at apply time. */
  readonly serviceEnv: Readonly<Record<string, string>>;
}

/** ECS's limit on user data, in bytes before base64 (after gzip, when gzip is used). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/** The exact value for `alicloud_ess_scaling_configuration.user_data`. */
export function renderUserData(props: UserDataProps): string {
  return `\${base64gzip("${hclTemplate(bootScriptPieces(props))}")}`;
}

/**
 * The script as cloud-init runs it (after base64 and gunzip), with each serviceEnv value as given: a token or a
 * placeholder stays as it is. For `npm run userdata`, the size test and the boot test.
 */
export function renderBootScript(props: UserDataProps): string {
  return bootScriptPieces(props)
    .map((piece) => (typeof piece === "string" ? piece : piece.envValue))
    .join("");
}

function bootScriptPieces(props: UserDataProps): ScriptPiece[] {
  const { envName, appPort, nodeMirror, npmRegistry } = props;
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(envName)) {
    throw new Error(`userdata: envName "${envName}" must be 1-32 of [a-z0-9-], starting with a letter`);
  }
  if (!Number.isInteger(appPort) || appPort < 1 || appPort > 65535) {
    throw new Error(`userdata: appPort ${appPort} must be an integer port 1-65535`);
  }
  checkUrl("nodeMirror", nodeMirror);
  checkUrl("npmRegistry", npmRegistry);
  return bootScript({
    envName,
    appPort,
    nodeMirror,
    npmRegistry,
    serviceEnv: completeServiceEnv(props),
    bundle: bundleApp(npmRegistry),
  });
}

function checkUrl(name: string, url: string): void {
  if (Token.isUnresolved(url) || !/^(https?|file):\/\/[A-Za-z0-9._~:/?=&%@+-]+$/.test(url)) {
    throw new Error(`userdata: ${name} "${url}" must be a literal http(s):// or file:// URL without quotes or spaces`);
  }
}

/** serviceEnv plus PORT (from appPort) and NODE_ENV=production, checked so a mistake fails at synth time. */
function completeServiceEnv(props: UserDataProps): Array<[string, string]> {
  const env: Record<string, string> = { NODE_ENV: "production", PORT: String(props.appPort) };
  for (const [key, value] of Object.entries(props.serviceEnv)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`userdata: serviceEnv key "${key}" must match [A-Z_][A-Z0-9_]*`);
    if (typeof value !== "string") throw new Error(`userdata: serviceEnv ${key} must be a string`);
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

/** The pieces as the body of an HCL quoted template: literal text escaped, CDKTF tokens left to interpolate. */
function hclTemplate(pieces: ScriptPiece[]): string {
  const parts: Array<string | IResolvable> = [];
  for (const piece of pieces) {
    for (const part of typeof piece === "string" ? [piece] : tokenFragments(piece.envValue)) {
      const last = parts.length - 1;
      if (typeof part === "string" && typeof parts[last] === "string") parts[last] += part;
      else parts.push(part);
    }
  }
  return parts
    .map((part, i) => (typeof part === "string" ? hclLiteral(part, i + 1 < parts.length) : Token.asString(part)))
    .join("");
}

/** A string split into literal text and the tokens inside it, in order. */
function tokenFragments(value: string): Array<string | IResolvable> {
  if (!Token.isUnresolved(value)) return [value];
  const fragments = Tokenization.reverseString(value);
  if (fragments.escapes.length > 0 || fragments.intrinsic.length > 0) {
    throw new Error(`userdata: serviceEnv value "${value}" mixes escapes or intrinsics; pass a plain string or token`);
  }
  const joined = fragments.join({ join: (left: unknown, right: unknown) => [...(Array.isArray(left) ? left : [left]), right] });
  return Array.isArray(joined) ? joined : [joined];
}

/** Escapes text for an HCL quoted template; `beforeToken` when an interpolation follows directly. */
function hclLiteral(text: string, beforeToken: boolean): string {
  const escaped = text
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{");
  // A `$` right before the interpolation would turn it into the `$${` escape: emit such `$`s as a string expression.
  return beforeToken ? escaped.replace(/(\$+)$/, (run) => `\${"${run}"}`) : escaped;
}
