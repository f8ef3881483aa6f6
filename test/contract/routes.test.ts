import {
  ADMIN_PLANE_PATHS,
  API_PREFIX,
  PAYMENT_PROVIDER_PATHS,
  ROUTES,
  albPathMatches,
  albPathPattern,
  type RouteName,
} from "../../contract/routes";

describe("ALB path matching", () => {
  test("is literal and case-sensitive, * spanning any characters (slashes too), ? one", () => {
    expect(albPathMatches("/api/sales/*/orders", "/api/sales/0123/orders")).toBe(true);
    expect(albPathMatches("/api/sales/*", "/api/sales/0123/orders")).toBe(true);
    expect(albPathMatches("/api/orders/*", "/API/orders/x")).toBe(false);
    expect(albPathMatches("/healthz", "/healthz/")).toBe(false);
    expect(albPathMatches("/*", "/")).toBe(true);
    expect(albPathMatches("/a.b?", "/a.bc")).toBe(true);
    expect(albPathMatches("/a.b", "/axb")).toBe(false);
  });
});

describe("every route is either public (the API, the payment provider's callback) or admin plane", () => {
  const matchesAny = (patterns: readonly string[], name: RouteName) =>
    patterns.some((pattern) => albPathMatches(pattern, albPathPattern(name).replace(/\*/g, "x")));
  const adminPlane = (name: RouteName) => matchesAny(ADMIN_PLANE_PATHS, name);

  test.each(Object.keys(ROUTES) as RouteName[])("%s", (name) => {
    const isPublic = ROUTES[name].path.startsWith(API_PREFIX) || matchesAny(PAYMENT_PROVIDER_PATHS, name);
    expect(adminPlane(name)).not.toBe(isPublic);
  });

  test("the payment callback is public, outside the API", () => {
    expect(matchesAny(PAYMENT_PROVIDER_PATHS, "paymentCallback")).toBe(true);
    expect(adminPlane("paymentCallback")).toBe(false);
    expect(ROUTES.paymentCallback.path.startsWith(API_PREFIX)).toBe(false);
  });

  test("metrics, readiness and health belong to the admin plane with the admin API", () => {
    expect((["metrics", "readiness", "health", "createSale", "saleStats"] as const).filter(adminPlane)).toHaveLength(5);
  });
});
