import { describe, expect, it } from "vitest";
import { nowTs } from "../../../contract";
import { type FenceClock, LeaseFence } from "../../../edge/fleet/lease-fence";

/** A clock the test moves by hand: timers fire when `advance` passes their time. */
function manualClock() {
  let now = 1_800_000_000_000;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const clock: FenceClock = {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = ++ids;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimer: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    const due = timers.filter((t) => t.at <= now);
    timers = timers.filter((t) => t.at > now);
    for (const t of due) t.fn();
  };
  return { clock, advance, at: (ms: number) => nowTs(now + ms), pending: () => timers.length };
}

describe("lease fence", () => {
  it("stops a run attempt when its lease runs out, not before, and a renewal moves the deadline", () => {
    const { clock, advance, at } = manualClock();
    const lapsed: string[] = [];
    const fence = new LeaseFence((run, attempt) => lapsed.push(`${run}/${attempt}`), clock);
    fence.hold("r1", 1, at(1_000));
    advance(999);
    expect(lapsed).toEqual([]);
    fence.hold("r1", 1, at(1_000));
    advance(999);
    expect(lapsed).toEqual([]);
    advance(1);
    expect(lapsed).toEqual(["r1/1"]);
    advance(10_000);
    expect(lapsed).toEqual(["r1/1"]);
  });

  it("stops at once for a lease already past, ignores an older attempt's renewal, forgets a released one", () => {
    const { clock, advance, at, pending } = manualClock();
    const lapsed: string[] = [];
    const fence = new LeaseFence((run, attempt) => lapsed.push(`${run}/${attempt}`), clock);
    fence.hold("past", 1, at(-5_000));
    advance(0);
    expect(lapsed).toEqual(["past/1"]);

    fence.hold("r2", 2, at(1_000));
    fence.hold("r2", 1, at(60_000));
    advance(1_000);
    expect(lapsed).toEqual(["past/1", "r2/2"]);

    fence.hold("r3", 1, at(1_000));
    fence.release("r3", 2);
    fence.release("r3", 1);
    advance(5_000);
    expect(lapsed).toEqual(["past/1", "r2/2"]);

    fence.hold("r4", 1, at(1_000));
    fence.close();
    expect(pending()).toBe(0);
  });
});
