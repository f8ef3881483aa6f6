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

/** Where the sale's API lives under the ALB; the sale page calls nothing else (CORS preflights are answered here). */
export const API_PREFIX = "/api/";
