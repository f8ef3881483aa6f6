import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { httpRequests } from "./metrics";

/** Every error the API returns: status, machine-readable code, human message. */
export const ApiErrors = {
  badRequest: [400, "bad_request", "the request could not be understood"],
  invalidBody: [400, "invalid_body", "the request body must be empty or {}"],
  malformedJson: [400, "malformed_json", "the request body is not valid JSON"],
  unauthorized: [401, "unauthorized", "a valid bearer token is required"],
  notStarted: [403, "not_started", "the sale has not started yet"],
  notFound: [404, "not_found", "no such resource"],
  requestTimeout: [408, "request_timeout", "the request took too long to arrive"],
  unknownSale: [404, "not_found", "no such sale"],
  unknownOrder: [404, "not_found", "no such order"],
  alreadyPurchased: [409, "already_purchased", "you already hold a unit of this sale"],
  soldOut: [410, "sold_out", "the sale is sold out"],
  ended: [410, "ended", "the sale has ended"],
  payloadTooLarge: [413, "payload_too_large", "the request body is larger than 4 KB"],
  unsupportedMediaType: [415, "unsupported_media_type", "the request body must be application/json"],
  rateLimited: [429, "rate_limited", "too many order attempts; slow down"],
  headersTooLarge: [431, "headers_too_large", "the request headers are too large"],
  internal: [500, "internal_error", "internal error"],
  unavailable: [503, "unavailable", "a backing service is unavailable; nothing was changed, try again"],
  ordersPaused: [503, "orders_paused", "new orders are paused; try again later"],
} as const satisfies Record<string, readonly [number, string, string]>;

export type ApiError = (typeof ApiErrors)[keyof typeof ApiErrors];

export const MAX_BODY_BYTES = 4096;

/** An error a handler throws to answer with one of ApiErrors. */
export class HttpError extends Error {
  constructor(
    readonly apiError: ApiError,
    options?: { cause?: unknown },
  ) {
    super(apiError[2], options);
    this.name = "HttpError";
  }
}

export function errorBody([, code, message]: ApiError, extra?: Record<string, string>): string {
  return JSON.stringify({ error: code, message, ...extra });
}

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Writes a complete JSON response in one call; `body` is already serialised. */
export function sendJson(res: ServerResponse, status: number, body: string, requestId: string, closeConnection = false): void {
  const headers = [
    "content-type",
    JSON_CONTENT_TYPE,
    "content-length",
    String(Buffer.byteLength(body)),
    "cache-control",
    "no-store",
    "x-request-id",
    requestId,
  ];
  if (closeConnection) headers.push("connection", "close");
  res.writeHead(status, headers);
  res.end(body);
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const processTag = randomBytes(4).toString("hex");
let requestCounter = 0;

/** The caller's X-Request-Id when it is sane, otherwise a fresh process-unique id. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  if (typeof given === "string" && REQUEST_ID_PATTERN.test(given)) return given;
  return `${processTag}-${(++requestCounter).toString(36)}`;
}

/** Counts responses by route and status without building a label set on every request. */
export function routeCounter(route: string): (status: number) => void {
  const byStatus = new Map<number, () => void>();
  return (status) => {
    let increment = byStatus.get(status);
    if (increment === undefined) {
      increment = httpRequests.incrementer({ route, status: String(status) });
      byStatus.set(status, increment);
    }
    increment();
  };
}
