const WINDOW_MS = 1000;

/**
 * Per-user fixed one-second windows, in process. The whole map is replaced when a window ends, so
 * memory is bounded by one window's distinct users and there is nothing to sweep.
 */
export class UserRateLimiter {
  private counts = new Map<string, number>();
  private windowStartedAt = 0;

  constructor(private readonly limitPerSecond: () => number) {}

  allow(userId: string, now: number): boolean {
    if (now - this.windowStartedAt >= WINDOW_MS) {
      this.counts = new Map();
      this.windowStartedAt = now;
    }
    const count = (this.counts.get(userId) ?? 0) + 1;
    this.counts.set(userId, count);
    return count <= this.limitPerSecond();
  }
}
