/** The longest delay setTimeout keeps: one of 2^31 ms (24.8 days) or more fires after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A timer set by `timerAt`. */
export interface TimerAt {
  cancel(): void;
}

/**
 * Calls `fire` once the clock reaches `at` (ms since the epoch), however far off that is: a run's
 * deadline or wall-time budget may be a month away, which setTimeout alone would fire at once.
 * A wait past setTimeout's limit is taken in steps, each reading the clock again. It keeps no
 * process alive (unref'd), as the timers it replaces did not.
 * Test: test/edge/timer-at.test.ts.
 */
export function timerAt(at: number, fire: () => void, now: () => number = Date.now): TimerAt {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const wait = at - now();
    timer = setTimeout(
      wait > MAX_TIMEOUT_MS ? arm : fire,
      Math.min(Math.max(0, wait), MAX_TIMEOUT_MS),
    );
    timer.unref();
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
