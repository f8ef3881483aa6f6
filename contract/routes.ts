/**
 * The service's HTTP routes, as the service serves them and the ALB's listener rules match them. Paths use
 * Express's `:param` syntax; {@link albPathPattern} turns one into the ALB's wildcard form.
 */
export const ROUTES = {
  /** The hot path: take one unit of the sale for the bearer. */
  placeOrder: { method: "POST", path: "/api/sales/:saleId/orders" },
  getSale: { method: "GET", path: "/api/sales/:saleId" },
  getOrder: { method: "GET", path: "/api/orders/:orderId" },
  /** The bearer's order in the sale: how a buyer whose attempt had an unknown outcome learns whether it took a unit. */
  myOrder: { method: "GET", path: "/api/sales/:saleId/my-order" },
  /** The buyer pays their confirmed order (stands in for the payment provider in local runs and the demo). */
  payOrder: { method: "POST", path: "/api/orders/:orderId/payment" },
  /** The payment provider's signed callback: public, but not for browsers (see PAYMENT_PROVIDER_PATHS). */
  paymentCallback: { method: "POST", path: "/payments/callback" },
  health: { method: "GET", path: "/healthz" },
  readiness: { method: "GET", path: "/readyz" },
  metrics: { method: "GET", path: "/metrics" },
  createSale: { method: "POST", path: "/admin/sales" },
  saleStats: { method: "GET", path: "/admin/sales/:saleId/stats" },
} as const satisfies Record<string, { readonly method: "GET" | "POST"; readonly path: string }>;

export type RouteName = keyof typeof ROUTES;

/** `GET /api/sales/:saleId`: the label metrics and logs give a route. */
export function routeLabel(name: RouteName): string {
  return `${ROUTES[name].method} ${ROUTES[name].path}`;
}

/** The ALB path condition for a route: every `:param` segment becomes `*` (`/api/sales/*\/orders`). */
export function albPathPattern(name: RouteName): string {
  return ROUTES[name].path.replace(/:[A-Za-z]+/g, "*");
}

/**
 * Whether an ALB path condition value matches a request path: literally and case-sensitively, `*` standing for any run
 * of characters (slashes included) and `?` for one (website/docs/r/alb_rule.html.markdown, rule_conditions-path_config).
 */
export function albPathMatches(pattern: string, path: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(path);
}

/** Where the sale's API lives under the ALB; the sale page calls nothing else (CORS preflights are answered here). */
export const API_PREFIX = "/api/";

/**
 * Public paths outside the sale's API: the payment provider's callback, which the ALB forwards from anywhere (the
 * provider's addresses are not ours to list) under a rate limit of its own; the HMAC signature is what admits a call.
 */
export const PAYMENT_PROVIDER_PATHS: readonly string[] = [albPathPattern("paymentCallback")];

/** Where the admin API lives. */
export const ADMIN_PREFIX = "/admin/";

/**
 * The operator-only paths, as ALB path conditions: the admin API, metrics, and the readiness and health probes (which
 * ping the data tier, or say which instance is up). The ALB forwards them only from the operators' networks and
 * answers everyone else itself; its own health check reaches the instances directly, not through listener rules.
 */
export const ADMIN_PLANE_PATHS: readonly string[] = [
  `${ADMIN_PREFIX}*`,
  albPathPattern("metrics"),
  albPathPattern("readiness"),
  albPathPattern("health"),
];
