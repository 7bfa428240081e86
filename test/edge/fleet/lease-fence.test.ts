import { describe, expect, it } from "vitest";
import { nowTs } from "../../../contract";
import { LeaseFence } from "../../../edge/fleet/lease-fence";
import { handClock } from "../helpers/hand-clock";

/** A hand-moved clock, and a lease end `ms` from its present time. */
function manualClock() {
  const hand = handClock();
  return { ...hand, at: (ms: number) => nowTs(hand.clock.now() + ms) };
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
