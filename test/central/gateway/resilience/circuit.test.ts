import { describe, expect, it } from "vitest";
import {
  closedCircuit,
  expireProbe,
  probeDue,
  recordOutcome,
  resetCircuit,
  skipProbe,
  takeProbe,
} from "../../../../central/gateway/resilience/circuit";

const settings = { breaker_failures: 3, breaker_cooldown_ms: 10_000 };
const fail = { ok: false, breakerFailure: true, probe: false };
const ok = { ok: true, breakerFailure: false, probe: false };

describe("circuit breaker", () => {
  it("opens after consecutive failures; a success or a rate limit in between does not count", () => {
    let c = closedCircuit(0);
    c = recordOutcome(c, fail, settings, 1);
    c = recordOutcome(c, fail, settings, 2);
    c = recordOutcome(c, ok, settings, 3);
    expect(c).toMatchObject({ state: "closed", consecutiveFailures: 0 });
    c = recordOutcome(c, fail, settings, 4);
    c = recordOutcome(c, { ok: false, breakerFailure: false, probe: false }, settings, 5);
    c = recordOutcome(c, fail, settings, 6);
    expect(c).toMatchObject({ state: "closed", consecutiveFailures: 2 });
    c = recordOutcome(c, fail, settings, 7);
    expect(c).toEqual({ state: "open", since: 7, consecutiveFailures: 0, until: 10_007 });
  });

  it("lets one probe through after the cooldown; its outcome closes or reopens the circuit", () => {
    const open = { state: "open" as const, since: 0, consecutiveFailures: 0, until: 10_000 };
    expect(probeDue(open, 9_999)).toBe(false);
    expect(probeDue(open, 10_000)).toBe(true);
    const probing = takeProbe(open, 10_000, 70_000);
    expect(probing).toMatchObject({ state: "half_open", until: 70_000 });
    // Late reports of calls admitted before the trip change nothing.
    expect(recordOutcome(probing, ok, settings, 10_001)).toBe(probing);
    expect(recordOutcome(probing, { ...ok, probe: true }, settings, 10_002)).toMatchObject({
      state: "closed",
    });
    expect(recordOutcome(probing, { ...fail, probe: true }, settings, 10_002)).toMatchObject({
      state: "open",
      until: 20_002,
    });
  });

  it("gives back a probe that was never made, or never reported, so the next call probes", () => {
    const probing = takeProbe(
      { state: "open", since: 0, consecutiveFailures: 0, until: 0 },
      100,
      5_000,
    );
    expect(skipProbe(probing, 200)).toMatchObject({ state: "open", until: 200 });
    expect(expireProbe(probing, 4_999)).toBe(probing);
    const lost = expireProbe(probing, 5_000);
    expect(lost).toMatchObject({ state: "open", until: 5_000 });
    expect(probeDue(lost, 5_000)).toBe(true);
  });

  it("resets when an admin changes the provider", () => {
    expect(resetCircuit({ state: "open", since: 0, consecutiveFailures: 0, until: 9 }, 5)).toEqual(
      closedCircuit(5),
    );
    expect(
      resetCircuit({ state: "closed", since: 1, consecutiveFailures: 2, until: null }, 5),
    ).toEqual({ state: "closed", since: 1, consecutiveFailures: 0, until: null });
  });
});
