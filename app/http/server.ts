import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ROUTES } from "../../contract/routes";
import express, { type NextFunction, type Request, type Response } from "express";
import type Redis from "ioredis";
import type { Pool } from "mysql2/promise";
import { z } from "zod";
import { adminTokenVerifier, userTokenVerifier } from "./auth";
import { hotRoutes } from "./hot-routes";
import { ApiErrors, HttpError, MAX_BODY_BYTES, errorBody, requestIdOf, routeCounter, type ApiError } from "./reply";
import type { Logger } from "../platform/logger";
import { collectMetrics, metricsContentType } from "../platform/metrics";
import type { Reservations } from "../sales/reservations";
import { MAX_STOCK, SALE_ID_PATTERN, newSaleId, parseOrderId, saleView, type Sale } from "../sales/sale";
import type { Settings } from "../live-settings/settings";
import { countOrders, deleteUnusedSale, insertSale } from "../sales/sale-store";
import { lookUpOrder } from "../orders/order-lookup";
import { pingMysql } from "../platform/mysql";

export interface ServiceDeps {
  readonly adminToken: string;
  readonly userTokenSecret: string;
  /** A `requests` client (fails fast while Redis is down). */
  readonly redis: Redis;
  readonly reservations: Reservations;
  readonly pool: Pool;
  readonly settings: Settings;
  readonly logger: Logger;
  /** The sale page's directory, served at `/` after every API route; none on the ECS fleet. */
  readonly webRoot?: string;
}

/** Longer than the load balancer's idle timeout (ALB: 60 s), so the balancer closes idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const READINESS_TIMEOUT_MS = 1000;

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
  })
  .refine((body) => Date.parse(body.endsAt) > Date.parse(body.startsAt), { message: "must be after startsAt", path: ["endsAt"] })
  .refine((body) => Date.parse(body.endsAt) > Date.now(), { message: "must be in the future", path: ["endsAt"] });

/** Awaits a Redis or MySQL call; any failure becomes 503 unavailable. */
async function dependency<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new HttpError(ApiErrors.unavailable, { cause: error });
  }
}

function timeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    work,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Everything except the hot routes: health, admin, order lookup, metrics, and JSON 404s/errors. */
export function createExpressApp(deps: ServiceDeps): express.Express {
  const { reservations, pool, logger } = deps;
  const isAdmin = adminTokenVerifier(deps.adminToken);
  const verifyUser = userTokenVerifier(deps.userTokenSecret);
  const counters = new Map<string, (status: number) => void>();
  const countRoute = (route: string) => {
    let counter = counters.get(route);
    if (counter === undefined) counters.set(route, (counter = routeCounter(route)));
    return counter;
  };

  const app = express();
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

  const requireAdmin = (req: Request, _res: Response, next: NextFunction) => {
    next(isAdmin(req.headers.authorization) ? undefined : new HttpError(ApiErrors.unauthorized));
  };
  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    next(req.is("application/json") ? undefined : new HttpError(ApiErrors.unsupportedMediaType));
  };

  app.get(ROUTES.health.path, (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get(ROUTES.readiness.path, async (_req, res) => {
    const checks = await Promise.allSettled([
      timeout(deps.redis.ping(), READINESS_TIMEOUT_MS),
      timeout(pingMysql(pool), READINESS_TIMEOUT_MS),
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
    const parsed = createSaleBody.safeParse(req.body);
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
      res.status(400).json({ error: "invalid_request", message });
      return;
    }
    const body = parsed.data;
    const sale: Sale = {
      id: newSaleId(),
      itemName: body.itemName,
      stock: body.stock,
      sold: 0,
      startsAt: Date.parse(body.startsAt),
      endsAt: Date.parse(body.endsAt),
      ...(body.priceCents === undefined ? {} : { priceCents: body.priceCents }),
    };
    await dependency(insertSale(pool, sale));
    try {
      await reservations.loadSale(sale);
    } catch (error) {
      // Not visible anywhere yet, so nothing can have been sold: remove the row rather than leave a sale without stock.
      await deleteUnusedSale(pool, sale.id).catch((cleanupError: unknown) =>
        logger.error({ err: cleanupError, saleId: sale.id }, "could not remove a sale whose Redis load failed"),
      );
      throw new HttpError(ApiErrors.unavailable, { cause: error });
    }
    logger.info({ requestId: res.locals.requestId, saleId: sale.id, stock: sale.stock }, "sale created");
    res.status(201).json(saleView(sale, Date.now()));
  });

  app.get(ROUTES.saleStats.path, requireAdmin, async (req, res) => {
    const saleId = req.params.saleId as string;
    if (!SALE_ID_PATTERN.test(saleId)) throw new HttpError(ApiErrors.unknownSale);
    const snapshot = await dependency(reservations.readSale(saleId));
    if (snapshot.kind === "unknown_sale") throw new HttpError(ApiErrors.unknownSale);
    if (snapshot.kind === "rebuilding") throw new HttpError(ApiErrors.saleRebuilding);
    const { sale } = snapshot;
    const confirmed = await dependency(countOrders(pool, saleId));
    res.json({ stock: sale.stock, reserved: sale.sold, confirmed, pending: sale.sold - confirmed });
  });

  app.get(ROUTES.getOrder.path, async (req, res) => {
    const userId = verifyUser(req.headers.authorization);
    if (userId === undefined) throw new HttpError(ApiErrors.unauthorized);
    const orderId = req.params.orderId as string;
    const found = await dependency(lookUpOrder({ pool, reservations, logger }, orderId, userId));
    if (found.kind === "unknown_order") throw new HttpError(ApiErrors.unknownOrder);
    if (found.kind === "rebuilding") throw new HttpError(ApiErrors.saleRebuilding);
    const { saleId } = parseOrderId(orderId)!;
    res.json({ orderId, saleId, userId, status: found.kind, ...(found.kind === "lost" ? { reason: found.reason } : {}) });
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
    if ("retryAfterSeconds" in apiError) res.set("retry-after", String(apiError.retryAfterSeconds));
    res.status(apiError.status).type("application/json").send(errorBody(apiError));
  });

  return app;
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
