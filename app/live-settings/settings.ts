import { z } from "zod";

/**
 * Operational knobs read on every order request. They start from these defaults; a live-config
 * source (e.g. Nacos) calls `update` in each worker to change them without a restart.
 */
export const liveSettings = z.object({
  /** Kill switch: false answers every new order with 503 orders_paused before touching Redis. */
  ordersEnabled: z.boolean(),
  /** Order attempts one user may make per second in one worker process before getting 429. */
  userOrderRateLimitPerSecond: z.number().int().min(1).max(1000),
});

export type LiveSettings = z.infer<typeof liveSettings>;

export const DEFAULT_SETTINGS: LiveSettings = Object.freeze({
  ordersEnabled: true,
  userOrderRateLimitPerSecond: 5,
});

export class Settings {
  private current: LiveSettings;

  constructor(initial: LiveSettings = DEFAULT_SETTINGS) {
    this.current = Object.freeze(liveSettings.parse(initial));
  }

  get ordersEnabled(): boolean {
    return this.current.ordersEnabled;
  }

  get userOrderRateLimitPerSecond(): number {
    return this.current.userOrderRateLimitPerSecond;
  }

  snapshot(): LiveSettings {
    return this.current;
  }

  /** Applies a partial change; throws (changing nothing) when a value is invalid. */
  update(change: Partial<LiveSettings>): LiveSettings {
    this.current = Object.freeze(liveSettings.parse({ ...this.current, ...change }));
    return this.current;
  }
}
