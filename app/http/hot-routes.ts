import { ROUTES, routeLabel } from "../../contract/routes";
import type { IncomingMessage, ServerResponse } from "node:http";
import { userTokenVerifier, type UserTokenKeys } from "./auth";
import { ApiErrors, MAX_BODY_BYTES, errorBody, requestIdOf, routeCounter, sendJson, type ApiError } from "./reply";
import type { Logger } from "../platform/logger";
import { reservationOutcomes } from "../platform/metrics";
import { neverSent } from "../platform/redis";
import { UserRateLimiter } from "./rate-limiter";
import type { Reservations, ReserveOutcome, SaleSnapshot } from "../sales/reservations";
import { SALE_ID_PATTERN, saleView } from "../sales/sale";
import type { Settings } from "../live-settings/settings";

export interface HotRouteDeps extends UserTokenKeys {
  readonly reservations: Reservations;
  readonly settings: Settings;
  readonly logger: Logger;
}

// Matched by hand, no router on the hot path: `<prefix><saleId>` (GET) and `<prefix><saleId><suffix>` (POST).
const [SALES_PREFIX, ORDERS_SUFFIX] = ROUTES.placeOrder.path.split(":saleId");
const REDIS_WARNING_INTERVAL_MS = 5000;

/** Bodies that never change, serialised once. */
const ERROR_BODIES = new Map<ApiError, string>(Object.values(ApiErrors).map((e) => [e, errorBody(e)]));

type Outcome = ReserveOutcome["kind"] | "rate_limited" | "paused" | "unavailable" | "outcome_unknown";

/**
 * The two routes a sale's traffic hits: POST /api/sales/:saleId/orders and GET /api/sales/:saleId.
 * They are served here, before Express, with no middleware and no body parser: answer from the in-process sold-out
 * flag, or verify the token, enforce an empty body and reserve with one EVALSHA.
 * Returns a handler that reports whether it took the request (false: not one of these routes).
 */
export function hotRoutes(deps: HotRouteDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { reservations, settings, logger } = deps;
  const verifyUser = userTokenVerifier(deps);
  const limiter = new UserRateLimiter(() => settings.userOrderRateLimitPerSecond);
  const countOrder = routeCounter(routeLabel("placeOrder"));
  const countSale = routeCounter(routeLabel("getSale"));
  const outcomes = Object.fromEntries(
    [
      "reserved",
      "already_purchased",
      "not_started",
      "ended",
      "sold_out",
      "unknown_sale",
      "rebuilding",
      "stock_moving",
      "outcome_unknown",
      "rate_limited",
      "paused",
      "unavailable",
    ].map((outcome) => [outcome, reservationOutcomes.incrementer({ outcome })]),
  ) as Record<Outcome, () => void>;

  function fail(res: ServerResponse, count: (status: number) => void, error: ApiError, requestId: string, closeConnection = false) {
    sendJson(res, error.status, ERROR_BODIES.get(error)!, requestId, closeConnection, error.retryAfterSeconds);
    count(error.status);
  }

  /** Last resort for a bug in the handlers below: log it and answer 500 rather than crash the worker. */
  function guard(work: Promise<void>, res: ServerResponse, count: (status: number) => void, requestId: string): void {
    work.catch((error: unknown) => {
      logger.error({ err: error, requestId }, "unexpected error on a hot route");
      if (!res.headersSent) fail(res, count, ApiErrors.internal, requestId);
    });
  }

  // While Redis is down every request fails the same way: log the first failure, then one line per interval.
  let redisWarnedAt = 0;
  let unloggedRedisFailures = 0;
  function warnRedisUnavailable(error: unknown, requestId: string, saleId: string) {
    const now = Date.now();
    if (now - redisWarnedAt < REDIS_WARNING_INTERVAL_MS) {
      unloggedRedisFailures++;
      return;
    }
    logger.warn({ err: error, requestId, saleId, unloggedRedisFailures }, "Redis unavailable: answering 503");
    redisWarnedAt = now;
    unloggedRedisFailures = 0;
  }

  function refuse(res: ServerResponse, error: ApiError, outcome: Outcome, requestId: string) {
    outcomes[outcome]();
    fail(res, countOrder, error, requestId);
  }

  async function reserve(res: ServerResponse, saleId: string, userId: string, requestId: string): Promise<void> {
    if (!settings.ordersEnabled) return refuse(res, ApiErrors.ordersPaused, "paused", requestId);
    if (!limiter.allow(userId, Date.now())) return refuse(res, ApiErrors.rateLimited, "rate_limited", requestId);
    let outcome: ReserveOutcome;
    try {
      outcome = await reservations.reserve(saleId, userId);
    } catch (error) {
      warnRedisUnavailable(error, requestId, saleId);
      // After a timeout or a connection lost in flight the script may have run: only say what is known.
      if (neverSent(error)) return refuse(res, ApiErrors.unavailable, "unavailable", requestId);
      return refuse(res, ApiErrors.outcomeUnknown, "outcome_unknown", requestId);
    }
    outcomes[outcome.kind]();
    switch (outcome.kind) {
      case "reserved":
        sendJson(res, 202, `{"orderId":"${outcome.orderId}","status":"pending"}`, requestId);
        return countOrder(202);
      case "already_purchased":
        sendJson(res, 409, errorBody(ApiErrors.alreadyPurchased, { orderId: outcome.orderId }), requestId);
        return countOrder(409);
      case "sold_out":
        return fail(res, countOrder, ApiErrors.soldOut, requestId);
      case "ended":
        return fail(res, countOrder, ApiErrors.ended, requestId);
      case "not_started":
        return fail(res, countOrder, ApiErrors.notStarted, requestId);
      case "unknown_sale":
        return fail(res, countOrder, ApiErrors.unknownSale, requestId);
      case "rebuilding":
        return fail(res, countOrder, ApiErrors.saleRebuilding, requestId);
      case "outcome_unknown":
        return fail(res, countOrder, ApiErrors.outcomeUnknown, requestId);
      case "stock_moving":
        return fail(res, countOrder, ApiErrors.stockMoving, requestId);
    }
  }

  function placeOrder(req: IncomingMessage, res: ServerResponse, saleId: string): void {
    const requestId = requestIdOf(req);
    if (!SALE_ID_PATTERN.test(saleId)) return fail(res, countOrder, ApiErrors.unknownSale, requestId);
    // Most of a flash crowd clicks after the sell-out: a sale known to be over answers everyone alike (the sale page
    // tells anyone as much), before the token costs an HMAC.
    const closed = reservations.knownClosed(saleId);
    if (closed !== undefined) return refuse(res, closed === "sold_out" ? ApiErrors.soldOut : ApiErrors.ended, closed, requestId);
    const userId = verifyUser(req.headers.authorization);
    if (userId === undefined) return fail(res, countOrder, ApiErrors.unauthorized, requestId);
    const declaredLength = req.headers["content-length"];
    if (declaredLength === "0" || (declaredLength === undefined && req.headers["transfer-encoding"] === undefined)) {
      return guard(reserve(res, saleId, userId, requestId), res, countOrder, requestId);
    }
    if (Number(declaredLength) > MAX_BODY_BYTES) {
      return fail(res, countOrder, ApiErrors.payloadTooLarge, requestId, true);
    }
    readSmallBody(req, (body) => {
      if (body === undefined) return fail(res, countOrder, ApiErrors.payloadTooLarge, requestId, true);
      const problem = emptyBodyProblem(body, req.headers["content-type"]);
      if (problem) return fail(res, countOrder, problem, requestId);
      guard(reserve(res, saleId, userId, requestId), res, countOrder, requestId);
    });
  }

  async function getSale(res: ServerResponse, saleId: string, requestId: string): Promise<void> {
    if (!SALE_ID_PATTERN.test(saleId)) return fail(res, countSale, ApiErrors.unknownSale, requestId);
    let snapshot: SaleSnapshot;
    try {
      snapshot = await reservations.readSale(saleId);
    } catch (error) {
      warnRedisUnavailable(error, requestId, saleId);
      return fail(res, countSale, ApiErrors.unavailable, requestId);
    }
    if (snapshot.kind === "unknown_sale") return fail(res, countSale, ApiErrors.unknownSale, requestId);
    if (snapshot.kind === "rebuilding") return fail(res, countSale, ApiErrors.saleRebuilding, requestId);
    sendJson(res, 200, JSON.stringify(saleView(snapshot.sale, snapshot.now)), requestId);
    countSale(200);
  }

  return (req, res) => {
    const url = req.url!;
    if (!url.startsWith(SALES_PREFIX)) return false;
    const queryAt = url.indexOf("?");
    const rest = url.slice(SALES_PREFIX.length, queryAt === -1 ? url.length : queryAt);
    const slash = rest.indexOf("/");
    if (slash === -1 && req.method === "GET") {
      const requestId = requestIdOf(req);
      guard(getSale(res, rest, requestId), res, countSale, requestId);
      return true;
    }
    if (slash !== -1 && req.method === "POST" && rest.slice(slash) === ORDERS_SUFFIX) {
      placeOrder(req, res, rest.slice(0, slash));
      return true;
    }
    return false;
  };
}

/** Collects at most MAX_BODY_BYTES; calls back with undefined (and stops reading) when it is larger. */
function readSmallBody(req: IncomingMessage, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.off("data", onData).off("end", onEnd);
      done(undefined);
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => done(Buffer.concat(chunks, size).toString("utf8"));
  req.on("data", onData).on("end", onEnd);
}

/** The order body may be empty or `{}` (as JSON); anything else is refused without side effects. */
function emptyBodyProblem(body: string, contentType: string | undefined): ApiError | undefined {
  const trimmed = body.trim();
  if (trimmed === "") return undefined;
  const mediaType = contentType?.split(";", 1)[0].trim().toLowerCase();
  if (mediaType !== "application/json") return ApiErrors.unsupportedMediaType;
  if (trimmed === "{}") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return ApiErrors.malformedJson;
  }
  const isEmptyObject = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && Object.keys(parsed).length === 0;
  return isEmptyObject ? undefined : ApiErrors.invalidBody;
}
