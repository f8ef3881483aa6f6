/** A wait given up on. Its code is Node's for a timed-out socket, so retry logic reads it as transient. */
export class TimeoutError extends Error {
  readonly code = "ETIMEDOUT";

  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** `work`, or a TimeoutError after `ms`. The work itself goes on; the caller decides what to do with it. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
