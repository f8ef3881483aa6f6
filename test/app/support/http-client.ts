import http, { type IncomingHttpHeaders } from "node:http";

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The parsed body (undefined when it is not JSON). */
  readonly json: any;
}

export interface RequestOptions {
  readonly headers?: Record<string, string>;
  /** Sent as is; an array is sent as separate chunks with chunked transfer encoding. */
  readonly body?: string | Buffer | readonly (string | Buffer)[];
}

/** A small HTTP client for the API under test, with a bounded keep-alive pool. */
export class ApiClient {
  private readonly agent: http.Agent;

  constructor(
    readonly baseUrl: string,
    maxSockets = 32,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const { body } = options;
    const headers: Record<string, string> = { ...options.headers };
    if (typeof body === "string" || Buffer.isBuffer(body)) headers["content-length"] ??= String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.baseUrl}${path}`, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
      else if (body !== undefined) req.write(body);
      req.end();
    });
  }

  get(path: string, headers?: Record<string, string>): Promise<Answer> {
    return this.request("GET", path, { headers });
  }

  post(path: string, options?: RequestOptions): Promise<Answer> {
    return this.request("POST", path, options);
  }

  close(): void {
    this.agent.destroy();
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
