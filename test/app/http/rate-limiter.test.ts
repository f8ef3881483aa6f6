import { UserRateLimiter } from "../../../app/http/rate-limiter";
import { DEFAULT_SETTINGS, Settings } from "../../../app/live-settings/settings";

describe("UserRateLimiter", () => {
  it("allows each user the limit per one-second window", () => {
    const limiter = new UserRateLimiter(() => 2);
    expect([1000, 1100, 1200].map((t) => limiter.allow("alice", t))).toEqual([true, true, false]);
    expect(limiter.allow("bob", 1300)).toBe(true);
    expect(limiter.allow("alice", 2000)).toBe(true);
  });

  it("reads the limit on every call, so a settings change applies at once", () => {
    const settings = new Settings();
    const limiter = new UserRateLimiter(() => settings.userOrderRateLimitPerSecond);
    settings.update({ userOrderRateLimitPerSecond: 1 });
    expect(limiter.allow("alice", 0)).toBe(true);
    expect(limiter.allow("alice", 1)).toBe(false);
  });
});

describe("Settings", () => {
  it("starts from the defaults: orders enabled, a small per-user limit", () => {
    expect(new Settings().snapshot()).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.ordersEnabled).toBe(true);
  });

  it("applies a valid partial update and rejects an invalid one without changing anything", () => {
    const settings = new Settings();
    settings.update({ ordersEnabled: false });
    expect(settings.ordersEnabled).toBe(false);
    expect(() => settings.update({ userOrderRateLimitPerSecond: 0 })).toThrow();
    expect(settings.snapshot()).toEqual({ ...DEFAULT_SETTINGS, ordersEnabled: false });
  });
});
