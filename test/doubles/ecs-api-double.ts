/**
 * A stand-in for the ECS OpenAPI endpoint (RPC style, version 2014-05-26) that answers DescribeImages. It checks a
 * request the way ECS does before answering: the common parameters, a timestamp within 15 minutes, a nonce not seen
 * before, a known AccessKeyId, and the HMAC-SHA1 signature, recomputed here independently of the client under test.
 * Errors come back as ECS words them (Code, Message, HTTP status).
 */
import { createHmac } from "node:crypto";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";

export interface DoubleImage {
  readonly ImageId: string;
  readonly CreationTime: string;
  readonly OSType?: string;
  readonly Architecture?: string;
}

export interface EcsApiDouble {
  readonly endpoint: string;
  /** Every request it answered, as parsed parameters (the signature checked or not). */
  readonly requests: Array<Record<string, string>>;
  close(): Promise<void>;
}

/** RFC 3986, as the signature's canonical query wants it (written from the spec, not shared with the client). */
export function encode(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

export async function startEcsApiDouble(options: {
  readonly accessKeys: Readonly<Record<string, string>>;
  readonly images: readonly DoubleImage[];
  readonly now?: () => Date;
}): Promise<EcsApiDouble> {
  const requests: Array<Record<string, string>> = [];
  const nonces = new Set<string>();
  const server: Server = createServer((request, response) => {
    const answer = (status: number, body: object) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify({ RequestId: `double-${requests.length}`, ...body }));
    };
    const fail = (status: number, Code: string, Message: string) => answer(status, { Code, Message });
    const url = new URL(request.url ?? "/", "http://double");
    const params = Object.fromEntries(url.searchParams.entries());
    requests.push(params);
    if (request.method !== "GET" && request.method !== "POST")
      return fail(400, "UnsupportedHTTPMethod", "This http method is not supported.");
    for (const name of [
      "Action",
      "Version",
      "Format",
      "AccessKeyId",
      "SignatureMethod",
      "SignatureVersion",
      "SignatureNonce",
      "Timestamp",
      "Signature",
    ]) {
      if (!params[name])
        return fail(
          400,
          `MissingParameter`,
          `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
        );
    }
    if (params.Version !== "2014-05-26") return fail(400, "InvalidVersion", "Specified parameter Version is not valid.");
    if (params.SignatureMethod !== "HMAC-SHA1" || params.SignatureVersion !== "1.0") {
      return fail(400, "InvalidSignatureMethod", "Specified signature method is not supported.");
    }
    const sent = Date.parse(params.Timestamp);
    const now = (options.now ?? (() => new Date()))().getTime();
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(params.Timestamp) || Math.abs(now - sent) > 15 * 60_000) {
      return fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    }
    const secret = options.accessKeys[params.AccessKeyId];
    if (secret === undefined) return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    const { Signature, ...signed } = params;
    const canonical = Object.keys(signed)
      .sort()
      .map((key) => `${encode(key)}=${encode(signed[key])}`)
      .join("&");
    const expected = createHmac("sha1", `${secret}&`)
      .update(`${request.method}&${encode("/")}&${encode(canonical)}`)
      .digest("base64");
    if (Signature !== expected) {
      return fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
    }
    if (nonces.has(params.SignatureNonce)) return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    nonces.add(params.SignatureNonce);
    if (params.Action !== "DescribeImages")
      return fail(400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
    if (!params.RegionId) return fail(400, "MissingRegionId", "RegionId is mandatory for this action.");
    const matching = options.images.filter(
      (image) =>
        (!params.OSType || (image.OSType ?? "linux") === params.OSType) &&
        (!params.Architecture || (image.Architecture ?? "x86_64") === params.Architecture),
    );
    const size = Number(params.PageSize ?? 10);
    const page = Number(params.PageNumber ?? 1);
    if (!Number.isInteger(size) || size < 1 || size > 100)
      return fail(400, "InvalidPageSize.Malformed", "Specified PageSize is not valid.");
    answer(200, {
      TotalCount: matching.length,
      PageNumber: page,
      PageSize: size,
      RegionId: params.RegionId,
      Images: { Image: matching.slice((page - 1) * size, page * size) },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
