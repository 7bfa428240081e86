import type { Clock } from "../../../edge/timers";

/** A clock the test moves by hand: timers fire when `advance` passes their time. */
export function handClock(start = 1_800_000_000_000) {
  let now = start;
  let due: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    set: (fn, ms) => {
      const timer = { at: now + ms, fn };
      due.push(timer);
      return timer;
    },
    clear: (timer) => {
      due = due.filter((t) => t !== timer);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    const firing = due.filter((t) => t.at <= now);
    due = due.filter((t) => t.at > now);
    for (const t of firing) t.fn();
  };
  return { clock, advance, pending: () => due.length };
}
