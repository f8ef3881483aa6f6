import { ADMIN_PLANE_PATHS, API_PREFIX, ROUTES, albPathMatches, albPathPattern, type RouteName } from "../../contract/routes";

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

describe("every route is either public API or admin plane", () => {
  const adminPlane = (name: RouteName) =>
    ADMIN_PLANE_PATHS.some((pattern) => albPathMatches(pattern, albPathPattern(name).replace(/\*/g, "x")));

  test.each(Object.keys(ROUTES) as RouteName[])("%s", (name) => {
    expect(adminPlane(name)).not.toBe(ROUTES[name].path.startsWith(API_PREFIX));
  });

  test("metrics, readiness and health belong to the admin plane with the admin API", () => {
    expect((["metrics", "readiness", "health", "createSale", "saleStats"] as const).filter(adminPlane)).toHaveLength(5);
  });
});
