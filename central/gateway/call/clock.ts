/**
 * Times one call: total elapsed, and how much of it was spent waiting on providers (requests,
 * answers, backoff sleeps). The difference is the gateway's own added time. (In Workers the
 * clock moves at I/O, so this is the time between I/O events, not CPU time.)
 */
export class Clock {
  private readonly startedAt = performance.now();
  private waited = 0;

  /** ms since the call arrived. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** Awaits something upstream, counting the wait as the provider's time. */
  async upstream<T>(promise: Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await promise;
    } finally {
      this.waited += performance.now() - t;
    }
  }

  /** The gateway's own time so far: elapsed minus upstream waits. */
  gatewayMs(): number {
    return Math.max(0, this.now() - this.waited);
  }
}
