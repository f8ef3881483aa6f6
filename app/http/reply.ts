import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { httpRequests } from "../platform/metrics";

export interface ApiError {
  readonly status: number;
  /** Machine-readable; clients branch on it. */
  readonly code: string;
  readonly message: string;
  /** Sent as Retry-After: the error is worth retrying after that long. */
  readonly retryAfterSeconds?: number;
}

/** Every error the API returns. */
export const ApiErrors = {
  badRequest: { status: 400, code: "bad_request", message: "the request could not be understood" },
  invalidBody: { status: 400, code: "invalid_body", message: "the request body must be empty or {}" },
  malformedJson: { status: 400, code: "malformed_json", message: "the request body is not valid JSON" },
  unauthorized: { status: 401, code: "unauthorized", message: "a valid bearer token is required" },
  notStarted: { status: 403, code: "not_started", message: "the sale has not started yet" },
  notFound: { status: 404, code: "not_found", message: "no such resource" },
  requestTimeout: { status: 408, code: "request_timeout", message: "the request took too long to arrive" },
  unknownSale: { status: 404, code: "not_found", message: "no such sale" },
  unknownOrder: { status: 404, code: "not_found", message: "no such order" },
  noOrder: { status: 404, code: "not_found", message: "you hold no order in this sale" },
  alreadyPurchased: { status: 409, code: "already_purchased", message: "you already hold a unit of this sale" },
  paymentWindowClosed: {
    status: 409,
    code: "payment_window_closed",
    message: "the order expired unpaid; its unit went back on sale",
  },
  orderPending: {
    status: 409,
    code: "order_pending",
    message: "the order is not confirmed yet; pay it in a moment",
    retryAfterSeconds: 1,
  },
  alreadyPaid: { status: 409, code: "already_paid", message: "the order was already paid under another payment reference" },
  paymentRefReused: { status: 409, code: "payment_ref_reused", message: "this payment reference already paid another order" },
  badSignature: { status: 401, code: "bad_signature", message: "the callback signature does not match its body" },
  /** No units left in the sale; it says nothing about whether this buyer holds one (see my-order). */
  soldOut: { status: 410, code: "sold_out", message: "the sale is sold out" },
  ended: { status: 410, code: "ended", message: "the sale has ended" },
  payloadTooLarge: { status: 413, code: "payload_too_large", message: "the request body is larger than 4 KB" },
  unsupportedMediaType: { status: 415, code: "unsupported_media_type", message: "the request body must be application/json" },
  rateLimited: { status: 429, code: "rate_limited", message: "too many order attempts; slow down", retryAfterSeconds: 1 },
  lookupsRateLimited: { status: 429, code: "rate_limited", message: "too many order lookups; slow down", retryAfterSeconds: 1 },
  tooManyFailedAuthentications: {
    status: 429,
    code: "too_many_failed_authentications",
    message: "too many failed admin authentications from this address; try again later",
  },
  headersTooLarge: { status: 431, code: "headers_too_large", message: "the request headers are too large" },
  internal: { status: 500, code: "internal_error", message: "internal error" },
  unavailable: {
    status: 503,
    code: "unavailable",
    message: "a backing service is unavailable; nothing was changed, try again",
    retryAfterSeconds: 1,
  },
  /** The reservation was sent but no answer came back: it may have taken a unit. Retrying is safe (one unit per buyer). */
  outcomeUnknown: {
    status: 503,
    code: "outcome_unknown",
    message: "no answer in time: your order may or may not have been placed; try again, or see GET /api/sales/:saleId/my-order",
    retryAfterSeconds: 1,
  },
  /** The buyer's bucket of a sale ran dry while other units were moving between buckets; nothing was taken. */
  stockMoving: {
    status: 503,
    code: "stock_moving",
    message: "units of this sale are moving between shards; nothing was changed, try again",
    retryAfterSeconds: 1,
  },
  ordersPaused: { status: 503, code: "orders_paused", message: "new orders are paused; try again later" },
  saleRebuilding: {
    status: 503,
    code: "rebuilding",
    message: "the sale is being restored after a Redis failure; try again in a moment",
    retryAfterSeconds: 1,
  },
} as const satisfies Record<string, ApiError>;

export const MAX_BODY_BYTES = 4096;

/** An error a handler throws to answer with one of ApiErrors. */
export class HttpError extends Error {
  constructor(
    readonly apiError: ApiError,
    options?: { cause?: unknown },
  ) {
    super(apiError.message, options);
    this.name = "HttpError";
  }
}

export function errorBody({ code, message }: ApiError, extra?: Record<string, string>): string {
  return JSON.stringify({ error: code, message, ...extra });
}

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Writes a complete JSON response in one call; `body` is already serialised. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  requestId: string,
  closeConnection = false,
  retryAfterSeconds?: number,
): void {
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
  if (retryAfterSeconds !== undefined) headers.push("retry-after", String(retryAfterSeconds));
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
