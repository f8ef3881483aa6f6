import http from "node:http";
import https from "node:https";

/** One HTTP exchange as the ops tools see it. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON; undefined when it is not JSON (an ALB error page, for instance). */
  readonly json: unknown;
  readonly durationMs: number;
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <bearer>`. */
  readonly bearer?: string;
  /** Serialized as JSON. */
  readonly body?: unknown;
}

/** The request never got an HTTP answer; the message says what to check. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

export interface HttpClientOptions {
  /** Connections kept open to the service; the tools' concurrency bound. */
  readonly maxSockets: number;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

/**
 * A keep-alive JSON client on node:http. Global fetch would do, but on this 2-core machine it
 * manages about 3k req/s where node:http manages 14k, and the load generator must not be the
 * bottleneck of the demo it measures.
 */
export class HttpClient {
  readonly baseUrl: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, options: HttpClientOptions) {
    this.baseUrl = parseBaseUrl(baseUrl);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.agent = this.baseUrl.protocol === "https:" ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const url = new URL(path, this.baseUrl);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
    if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    const send = url.protocol === "https:" ? https.request : http.request;
    const startedAt = performance.now();

    return new Promise((resolve, reject) => {
      const request = send(url, { method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error) => reject(this.describe(error, url)));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text,
            json: parseJson(text),
            durationMs: performance.now() - startedAt,
          });
        });
      });
      request.setTimeout(this.timeoutMs, () => request.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
      request.on("error", (error) => reject(this.describe(error, url)));
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private describe(error: Error & { code?: string }, url: URL): TransportError {
    const target = `${url.protocol}//${url.host}`;
    const code = error.code ?? "UNKNOWN";
    const messages: Record<string, string> = {
      ECONNREFUSED: `nothing listens at ${target} (connection refused)`,
      ENOTFOUND: `cannot resolve host ${url.hostname}`,
      EAI_AGAIN: `cannot resolve host ${url.hostname} (DNS lookup failed)`,
      ECONNRESET: `${target} reset the connection`,
      EHOSTUNREACH: `${target} is unreachable from here`,
      TIMEOUT: `no answer from ${target}${url.pathname} within ${this.timeoutMs / 1000} s`,
    };
    return new TransportError(messages[code] ?? `${code} on ${target}: ${error.message}`, code);
  }
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`"${baseUrl}" is not a URL; expected something like http://seckill.example.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`"${baseUrl}" must start with http:// or https://`);
  }
  return url;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short, one-line rendering of an answer for reports: `503 {"status":"unavailable",…}`. */
export function describeAnswer(answer: HttpAnswer, maxLength = 160): string {
  const body = answer.text.replace(/\s+/g, " ").trim();
  const shown = body.length > maxLength ? `${body.slice(0, maxLength)}…` : body;
  return shown === "" ? `${answer.status}` : `${answer.status} ${shown}`;
}
