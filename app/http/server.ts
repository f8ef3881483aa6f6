import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ROUTES } from "../../contract/routes";
import express, { type NextFunction, type Request, type Response } from "express";
import type { RedisClient } from "../platform/redis";
import type { Pool } from "mysql2/promise";
import { z } from "zod";
import { AdminBrake, adminAuthentication } from "./admin-brake";
import { userTokenVerifier, type UserTokenKeys } from "./auth";
import { hotRoutes } from "./hot-routes";
import { UserRateLimiter } from "./rate-limiter";
import { ApiErrors, HttpError, MAX_BODY_BYTES, errorBody, requestIdOf, routeCounter, type ApiError } from "./reply";
import type { Logger } from "../platform/logger";
import { collectMetrics, metricsContentType } from "../platform/metrics";
import { MAX_STOCK_BUCKETS, type Reservations } from "../sales/reservations";
import { MAX_STOCK, ORDER_ID_PATTERN, SALE_ID_PATTERN, newSaleId, parseOrderId, saleView, type Sale } from "../sales/sale";
import type { Settings } from "../live-settings/settings";
import { countOrdersByStatus, DEFAULT_PAYMENT_WINDOW_SECONDS, deleteUnusedSale, insertSale } from "../sales/sale-store";
import { payOrder, type PaymentOutcome } from "../orders/order-lifecycle";
import { verifyPaymentSignature, PAYMENT_SIGNATURE_HEADER } from "./payment-signature";
import { findBuyerOrderId } from "../orders/order-store";
import { lookUpOrder, type OrderLookup } from "../orders/order-lookup";
import { pingMysql } from "../platform/mysql";
import type { RedisHeartbeat } from "../platform/redis";
import { withTimeout } from "../platform/timeout";

export interface ServiceDeps extends UserTokenKeys {
  readonly adminToken: string;
  /** Key of the payment provider's callback signatures; the callback is not served without it. */
  readonly paymentWebhookSecret?: string;
  /** A `requests` client (fails fast while Redis is down). */
  readonly redis: RedisClient;
  readonly reservations: Reservations;
  /** Watches `redis`; /healthz fails while Redis stays silent. */
  readonly redisHeartbeat: RedisHeartbeat;
  /** For order lookups and admin requests. */
  readonly pool: Pool;
  /** /readyz's own connection, so it never waits behind lookups in `pool`. */
  readonly readinessPool: Pool;
  readonly settings: Settings;
  readonly logger: Logger;
  /** The sale page's directory, served at `/` after every API route; none on the ECS fleet. */
  readonly webRoot?: string;
  /** Counts failed admin authentications by client address; a fresh one (per process) when not given. */
  readonly adminBrake?: AdminBrake;
}

/** Longer than the load balancer's idle timeout (ALB: 60 s), so the balancer closes idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Readiness tolerates a slow dependency; only one that does not answer in this long fails it. */
const READINESS_TIMEOUT_MS = 3000;
/** How long Redis may stay silent before /healthz fails and the load balancer sends buyers to other instances. */
const REDIS_SILENCE_TOLERATED_MS = 5000;
/** Order lookups per buyer per second in one worker: the page polls about once a second. */
const LOOKUPS_PER_BUYER_PER_SECOND = 5;

const MIN_PAYMENT_WINDOW_SECONDS = 5;
const MAX_PAYMENT_WINDOW_SECONDS = 86_400;

/** The payment provider's callback body (README, "After the order: pay or expire"). */
const paymentCallbackBody = z.strictObject({
  orderId: z.string().regex(ORDER_ID_PATTERN, "must be an order id"),
  paymentRef: z.string().regex(/^[\x21-\x7e]{1,128}$/, "must be 1 to 128 printable ASCII characters"),
  paidAt: z.iso.datetime({ offset: true }),
});

/** The range of MySQL's DATETIME, where the sale's dates are stored (as UTC). */
const EARLIEST_STORABLE = "1000-01-01T00:00:00.000Z";
const LATEST_STORABLE = "9999-12-31T23:59:59.999Z";
const storableDatetime = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) >= Date.parse(EARLIEST_STORABLE) && Date.parse(value) <= Date.parse(LATEST_STORABLE), {
    message: `must be from ${EARLIEST_STORABLE} to ${LATEST_STORABLE}`,
  });

const createSaleBody = z
  .strictObject({
    itemName: z.string().trim().min(1).max(200),
    stock: z.number().int().min(1).max(MAX_STOCK),
    startsAt: storableDatetime,
    endsAt: storableDatetime,
    priceCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    paymentWindowSeconds: z.number().int().min(MIN_PAYMENT_WINDOW_SECONDS).max(MAX_PAYMENT_WINDOW_SECONDS).optional(),
    stockBuckets: z.number().int().min(1).max(MAX_STOCK_BUCKETS).optional(),
  })
  .refine((body) => Date.parse(body.endsAt) > Date.parse(body.startsAt), { message: "must be after startsAt", path: ["endsAt"] })
  .refine((body) => Date.parse(body.endsAt) > Date.now(), { message: "must be in the future", path: ["endsAt"] });

/** The body as `schema` reads it; otherwise 400 invalid_request, naming each problem by its path. */
function parseBody<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
  throw new HttpError({ status: 400, code: "invalid_request", message });
}

/** Awaits a Redis or MySQL call; any failure becomes 503 unavailable. */
async function dependency<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new HttpError(ApiErrors.unavailable, { cause: error });
  }
}

/** Everything except the hot routes: health, admin, order lookup, metrics, and JSON 404s/errors. */
export function createExpressApp(deps: ServiceDeps): express.Express {
  const { reservations, pool, logger } = deps;
  const verifyUser = userTokenVerifier(deps);
  const lookupLimiter = new UserRateLimiter(() => LOOKUPS_PER_BUYER_PER_SECOND);
  const counters = new Map<string, (status: number) => void>();
  const countRoute = (route: string) => {
    let counter = counters.get(route);
    if (counter === undefined) counters.set(route, (counter = routeCounter(route)));
    return counter;
  };

  const app = express();
  // Match paths exactly, as the ALB's path conditions do: `/API/orders/x` or `/healthz/` is no route here either, so a
  // request the listener rules did not recognise (and limit) as one of ours gets 404, never a handler.
  app.enable("case sensitive routing");
  app.enable("strict routing");
  app.disable("x-powered-by");
  app.set("etag", false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const requestId = requestIdOf(req);
    res.locals.requestId = requestId;
    res.setHeader("x-request-id", requestId);
    res.setHeader("cache-control", "no-store");
    const startedAt = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route ? `${req.method} ${req.baseUrl}${req.route.path}` : "unmatched";
      countRoute(route)(res.statusCode);
      logger.debug(
        {
          requestId,
          method: req.method,
          url: req.originalUrl,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - startedAt) / 1e6,
        },
        "request",
      );
    });
    next();
  });

  const requireAdmin = adminAuthentication(deps.adminToken, logger, deps.adminBrake ?? new AdminBrake());
  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    next(req.is("application/json") ? undefined : new HttpError(ApiErrors.unsupportedMediaType));
  };

  /** The buyer making an order lookup, within their share of lookups. */
  const lookingUpBuyer = (req: Request): string => {
    const userId = verifyUser(req.headers.authorization);
    if (userId === undefined) throw new HttpError(ApiErrors.unauthorized);
    if (!lookupLimiter.allow(userId, Date.now())) throw new HttpError(ApiErrors.lookupsRateLimited);
    return userId;
  };

  /**
   * The buyer's order in a sale: Redis knows it from the reservation on, and MySQL says once it is confirmed.
   * Asking Redis first keeps lookups of orders a buyer does not hold away from MySQL; MySQL alone still
   * finds an order Redis lost.
   */
  /** The buyer's order in the sale and what became of it: Redis names it while it is pending, MySQL once it is confirmed. */
  async function buyersOrder(saleId: string, userId: string): Promise<({ orderId: string } & ReturnType<typeof orderState>) | undefined> {
    const orderId =
      (await dependency(reservations.buyerOrderId(saleId, userId))) ?? (await dependency(findBuyerOrderId(pool, saleId, userId)));
    if (orderId === undefined) return undefined;
    const found = await dependency(lookUpOrder({ pool, reservations, logger }, orderId, userId));
    if (found.kind === "unknown_order") return undefined;
    if (found.kind === "rebuilding") throw new HttpError(ApiErrors.saleRebuilding);
    return { orderId, ...orderState(found) };
  }

  // Fails only after Redis has been silent for a while: a blip must not take the instance out of the load balancer.
  app.get(ROUTES.health.path, (_req, res) => {
    if (deps.redisHeartbeat.silentForMs() < REDIS_SILENCE_TOLERATED_MS) res.json({ status: "ok" });
    else res.status(503).json({ status: "unavailable", failing: ["redis"] });
  });

  app.get(ROUTES.readiness.path, async (_req, res) => {
    const checks = await Promise.allSettled([
      withTimeout(deps.redis.ping(), READINESS_TIMEOUT_MS, "Redis PING"),
      withTimeout(pingMysql(deps.readinessPool), READINESS_TIMEOUT_MS, "MySQL SELECT 1"),
    ]);
    const failing = (["redis", "mysql"] as const).filter((_, i) => checks[i].status === "rejected");
    if (failing.length === 0) res.json({ status: "ready" });
    else res.status(503).json({ status: "unavailable", failing });
  });

  app.get(ROUTES.metrics.path, requireAdmin, async (_req, res) => {
    const text = await dependency(collectMetrics());
    res.type(metricsContentType).send(text);
  });

  app.post(ROUTES.createSale.path, requireAdmin, requireJson, express.json({ limit: MAX_BODY_BYTES }), async (req, res) => {
    const body = parseBody(createSaleBody, req.body);
    const sale: Sale = {
      id: newSaleId(),
      itemName: body.itemName,
      stock: body.stock,
      sold: 0,
      startsAt: Date.parse(body.startsAt),
      endsAt: Date.parse(body.endsAt),
      ...(body.priceCents === undefined ? {} : { priceCents: body.priceCents }),
      ...((body.stockBuckets ?? 1) === 1 ? {} : { stockBuckets: body.stockBuckets }),
    };
    await dependency(insertSale(pool, sale, body.paymentWindowSeconds ?? DEFAULT_PAYMENT_WINDOW_SECONDS));
    try {
      await reservations.loadSale(sale);
    } catch (error) {
      // Not visible anywhere yet, so nothing can have been sold: remove the row rather than leave a sale without stock.
      await deleteUnusedSale(pool, sale.id).catch((cleanupError: unknown) =>
        logger.error({ err: cleanupError, saleId: sale.id }, "could not remove a sale whose Redis load failed"),
      );
      throw new HttpError(ApiErrors.unavailable, { cause: error });
    }
    logger.info(
      { requestId: res.locals.requestId, saleId: sale.id, stock: sale.stock, stockBuckets: sale.stockBuckets ?? 1 },
      "sale created",
    );
    res.status(201).json(saleView(sale, Date.now()));
  });

  app.get(ROUTES.saleStats.path, requireAdmin, async (req, res) => {
    const saleId = req.params.saleId as string;
    if (!SALE_ID_PATTERN.test(saleId)) throw new HttpError(ApiErrors.unknownSale);
    const snapshot = await dependency(reservations.readSale(saleId));
    if (snapshot.kind === "unknown_sale") throw new HttpError(ApiErrors.unknownSale);
    if (snapshot.kind === "rebuilding") throw new HttpError(ApiErrors.saleRebuilding);
    const { sale } = snapshot;
    const { confirmed, paid, expired } = await dependency(countOrdersByStatus(pool, saleId));
    res.json({ stock: sale.stock, reserved: sale.sold, confirmed, pending: sale.sold - confirmed, paid, expired });
  });

  app.get(ROUTES.getOrder.path, async (req, res) => {
    const userId = lookingUpBuyer(req);
    const orderId = req.params.orderId as string;
    const found = await dependency(lookUpOrder({ pool, reservations, logger }, orderId, userId));
    if (found.kind === "unknown_order") throw new HttpError(ApiErrors.unknownOrder);
    if (found.kind === "rebuilding") throw new HttpError(ApiErrors.saleRebuilding);
    const { saleId } = parseOrderId(orderId)!;
    res.json({ orderId, saleId, userId, ...orderState(found) });
  });

  /** What a buyer learns of a payment, or the error that says why there is none. */
  function paymentReply(orderId: string, outcome: PaymentOutcome): { orderId: string; status: "paid" } {
    switch (outcome.kind) {
      case "paid":
        return { orderId, status: "paid" };
      case "window_closed":
        throw new HttpError(ApiErrors.paymentWindowClosed);
      case "paid_otherwise":
        throw new HttpError(ApiErrors.alreadyPaid);
      case "reference_reused":
        throw new HttpError(ApiErrors.paymentRefReused);
      case "not_found":
        throw new HttpError(ApiErrors.unknownOrder);
    }
  }

  app.post(ROUTES.payOrder.path, express.json({ limit: MAX_BODY_BYTES, strict: false }), async (req, res) => {
    const userId = lookingUpBuyer(req);
    const orderId = req.params.orderId as string;
    const body: unknown = req.body;
    const empty =
      body === undefined || (typeof body === "object" && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
    if (!empty) throw new HttpError(ApiErrors.invalidBody);
    if (!ORDER_ID_PATTERN.test(orderId)) throw new HttpError(ApiErrors.unknownOrder);
    // One payment per order from the buyer API: paying again is the same payment.
    const payment = { orderId, userId, paymentRef: `buyer:${orderId}` };
    let outcome = await dependency(payOrder(pool, payment));
    if (outcome.kind === "not_found") {
      const found = await dependency(lookUpOrder({ pool, reservations, logger }, orderId, userId));
      if (found.kind === "pending") throw new HttpError(ApiErrors.orderPending);
      if (found.kind === "rebuilding") throw new HttpError(ApiErrors.saleRebuilding);
      // Confirmed between the two reads: it can be paid now.
      if (found.kind === "confirmed") outcome = await dependency(payOrder(pool, payment));
    }
    res.json(paymentReply(orderId, outcome));
  });

  if (deps.paymentWebhookSecret !== undefined) {
    const webhookSecret = deps.paymentWebhookSecret;
    // The signature covers the exact bytes sent, so the body is verified raw and parsed only afterwards.
    app.post(ROUTES.paymentCallback.path, requireJson, express.raw({ type: () => true, limit: MAX_BODY_BYTES }), async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifyPaymentSignature(webhookSecret, raw, req.get(PAYMENT_SIGNATURE_HEADER))) {
        logger.warn({ requestId: res.locals.requestId }, "payment callback with a bad signature refused");
        throw new HttpError(ApiErrors.badSignature);
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new HttpError(ApiErrors.malformedJson);
      }
      const { orderId, paymentRef, paidAt } = parseBody(paymentCallbackBody, json);
      const outcome = await dependency(payOrder(pool, { orderId, paymentRef, paidAt: Date.parse(paidAt) }));
      logger.info({ requestId: res.locals.requestId, orderId, paymentRef, outcome: outcome.kind }, "payment callback");
      res.json(paymentReply(orderId, outcome));
    });
  }

  // How a buyer whose order attempt got no clear answer learns whether they hold a unit.
  app.get(ROUTES.myOrder.path, async (req, res) => {
    const userId = lookingUpBuyer(req);
    const saleId = req.params.saleId as string;
    if (!SALE_ID_PATTERN.test(saleId)) throw new HttpError(ApiErrors.noOrder);
    const order = await buyersOrder(saleId, userId);
    if (order === undefined) throw new HttpError(ApiErrors.noOrder);
    res.json(order);
  });

  if (deps.webRoot !== undefined) {
    // Local runs and the demo: file names are not content-hashed here, so browsers revalidate every time.
    app.use(express.static(deps.webRoot, { setHeaders: (res) => res.setHeader("cache-control", "no-cache") }));
  }

  app.use(() => {
    throw new HttpError(ApiErrors.notFound);
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const apiError = toApiError(error);
    const requestId = res.locals.requestId as string;
    if (apiError.status >= 500) logger.error({ err: error, requestId }, "request failed");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Do not read the rest of an oversized body just to keep the connection alive.
    if (apiError === ApiErrors.payloadTooLarge) res.set("connection", "close");
    if (apiError.retryAfterSeconds !== undefined) res.set("retry-after", String(apiError.retryAfterSeconds));
    res.status(apiError.status).type("application/json").send(errorBody(apiError));
  });

  return app;
}

/** The status of an order as the buyer API shows it: payBy once MySQL confirmed it, why it was lost if it was. */
function orderState(found: Exclude<OrderLookup, { kind: "unknown_order" | "rebuilding" }>): {
  status: string;
  payBy?: string;
  reason?: string;
} {
  if (found.kind === "lost") return { status: found.kind, reason: found.reason };
  if (found.kind === "pending") return { status: found.kind };
  return { status: found.kind, ...(found.payBy === undefined ? {} : { payBy: new Date(found.payBy).toISOString() }) };
}

/** What body-parser's errors (by `type`) mean to a client. */
const BODY_PARSER_ERRORS: Readonly<Record<string, ApiError>> = {
  "entity.too.large": ApiErrors.payloadTooLarge,
  "entity.parse.failed": ApiErrors.malformedJson,
  "charset.unsupported": ApiErrors.unsupportedMediaType,
  "encoding.unsupported": ApiErrors.unsupportedMediaType,
};

/** Maps anything thrown in a handler (ours, body-parser's, Express's) to an API error; never leaks a stack. */
function toApiError(error: unknown): ApiError {
  if (error instanceof HttpError) return error.apiError;
  const { type, status } = (error ?? {}) as { type?: string; status?: number };
  const bodyError = type === undefined ? undefined : BODY_PARSER_ERRORS[type];
  if (bodyError) return bodyError;
  if (typeof status === "number" && status >= 400 && status < 500) return ApiErrors.badRequest;
  return ApiErrors.internal;
}

/** The service's request listener: the hot routes first, Express for the rest. */
export function createRequestListener(deps: ServiceDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const hot = hotRoutes(deps);
  const app = createExpressApp(deps);
  return (req, res) => {
    if (!hot(req, res)) app(req, res);
  };
}

export function createHttpServer(deps: ServiceDeps): Server {
  const server = createServer(createRequestListener(deps));
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  server.on("clientError", answerUnparsableRequest);
  return server;
}

/** Requests Node cannot parse never reach a handler; answer them in JSON too (Node's default is plain text). */
function answerUnparsableRequest(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const apiError =
    error.code === "HPE_HEADER_OVERFLOW"
      ? ApiErrors.headersTooLarge
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? ApiErrors.requestTimeout
        : ApiErrors.badRequest;
  const body = errorBody(apiError);
  socket.end(
    `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
