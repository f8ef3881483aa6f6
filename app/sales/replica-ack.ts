import type { RedisClient } from "../platform/redis";

/**
 * `WAIT 1 <timeoutMs>` shared by every reservation on one connection. A WAIT covers all the writes its connection
 * made before it, so reservations that finish while one is in flight wait for the next one together, instead of
 * each queueing a WAIT (which blocks the connection) behind the others.
 */
export class ReplicaAck {
  private waiting: ((acknowledged: boolean) => void)[] = [];
  private inFlight = false;
  /** Counts lost connections: a WAIT on a new connection proves nothing about writes made on the old one. */
  private connection = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly timeoutMs: number,
  ) {
    redis.on("close", () => this.connection++);
  }

  /** Resolves true once at least one replica has every write this client made so far; false on timeout or failure. */
  replicated(): Promise<boolean> {
    const connection = this.connection;
    return new Promise((resolve) => {
      this.waiting.push((acknowledged) => resolve(acknowledged && this.connection === connection));
      if (!this.inFlight) this.sendWait();
    });
  }

  private sendWait(): void {
    const covered = this.waiting;
    this.waiting = [];
    this.inFlight = true;
    this.redis.wait(1, this.timeoutMs).then(
      (replicas) => this.settle(covered, replicas >= 1),
      () => this.settle(covered, false),
    );
  }

  private settle(covered: ((acknowledged: boolean) => void)[], acknowledged: boolean): void {
    this.inFlight = false;
    for (const done of covered) done(acknowledged);
    if (this.waiting.length > 0) this.sendWait();
  }
}
