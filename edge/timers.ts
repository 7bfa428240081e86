/**
 * The clock and timers a component waits on. Components that wait out a deadline (a lease, a
 * pong) take one, so their tests move time by hand (test/edge/helpers/hand-clock.ts) rather than
 * sleeping across it.
 */
export interface Clock {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(timer: unknown): void;
}

/** The host's clock; its timers keep no process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
