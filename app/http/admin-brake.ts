import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { adminTokenVerifier } from "./auth";
import { ApiErrors, HttpError } from "./reply";
import type { Logger } from "../platform/logger";

/** Failed admin authentications one client address may make per window before it is refused outright. */
export const ADMIN_FAILURES_PER_WINDOW = 10;
export const ADMIN_BRAKE_WINDOW_MS = 60_000;

/**
 * Per-process count of failed admin authentications by client address, in fixed windows: once an address has failed
 * `maxFailures` times in the current window, it is refused until the window ends, even with the right token, so the
 * token cannot be guessed at speed. The whole map is replaced when a window ends, so memory is bounded by one window's
 * distinct failing addresses. Each worker brakes on its own; the ALB's SourceIp rule keeps everyone outside
 * `admin_cidrs` away from the admin plane in the first place.
 */
export class AdminBrake {
  private failures = new Map<string, number>();
  private windowStartedAt = 0;

  constructor(
    private readonly maxFailures = ADMIN_FAILURES_PER_WINDOW,
    private readonly windowMs = ADMIN_BRAKE_WINDOW_MS,
  ) {}

  /** Whole seconds until `address` may try again; 0 when it may now. */
  retryAfterSeconds(address: string, now: number): number {
    this.roll(now);
    if ((this.failures.get(address) ?? 0) < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((this.windowStartedAt + this.windowMs - now) / 1000));
  }

  recordFailure(address: string, now: number): void {
    this.roll(now);
    this.failures.set(address, (this.failures.get(address) ?? 0) + 1);
  }

  private roll(now: number): void {
    if (now - this.windowStartedAt >= this.windowMs) {
      this.failures = new Map();
      this.windowStartedAt = now;
    }
  }
}

/**
 * The client's address: the last X-Forwarded-For entry (the ALB appends the address it was connected from; the
 * fleet's security group admits nobody else), or the connection's own address when no proxy is in between.
 */
export function clientAddress(req: IncomingMessage): string {
  const forwarded = req.headers["x-forwarded-for"];
  const last = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? "")).split(",").pop()!.trim();
  return last || req.socket.remoteAddress || "unknown";
}

/**
 * Express middleware in front of every admin route: refuses a braked address (429 with Retry-After), checks the admin
 * token in constant time, counts a failure against the address, and logs every admin request with who (the client
 * address) and what (method, path, status) once it is answered.
 */
export function adminAuthentication(
  adminToken: string,
  logger: Logger,
  brake: AdminBrake,
): (req: Request, res: Response, next: NextFunction) => void {
  const isAdmin = adminTokenVerifier(adminToken);
  return (req, res, next) => {
    const source = clientAddress(req);
    const what = { requestId: res.locals.requestId as string, source, method: req.method, path: req.originalUrl };
    const now = Date.now();
    const retryAfter = brake.retryAfterSeconds(source, now);
    if (retryAfter > 0) {
      res.setHeader("retry-after", String(retryAfter));
      logger.warn(what, "admin request refused: too many failed authentications from this address");
      next(new HttpError(ApiErrors.tooManyFailedAuthentications));
      return;
    }
    if (!isAdmin(req.headers.authorization)) {
      brake.recordFailure(source, now);
      logger.warn(what, "admin authentication failed");
      next(new HttpError(ApiErrors.unauthorized));
      return;
    }
    res.on("finish", () => logger.info({ ...what, status: res.statusCode }, "admin request"));
    next();
  };
}
