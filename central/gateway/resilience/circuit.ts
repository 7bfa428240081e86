import {
  type BreakerEvent,
  type BreakerState,
  breakerMachine,
  mustTransition,
} from "../../../contract";

/** One provider's circuit, as the tenant object keeps it. */
export interface Circuit {
  state: BreakerState;
  since: number;
  consecutiveFailures: number;
  /** Open: when a probe may go through. Half-open: when the probe's report is overdue. */
  until: number | null;
}

export interface CircuitSettings {
  breaker_failures: number;
  breaker_cooldown_ms: number;
}

export const closedCircuit = (now: number): Circuit => ({
  state: "closed",
  since: now,
  consecutiveFailures: 0,
  until: null,
});

const move = (c: Circuit, on: BreakerEvent, now: number, until: number | null): Circuit => ({
  state: mustTransition(breakerMachine, c.state, on),
  since: now,
  consecutiveFailures: 0,
  until,
});

/** A probe that never reported back by its deadline counts as lost: open again, probe next call. */
export function expireProbe(c: Circuit, now: number): Circuit {
  if (c.state === "half_open" && c.until !== null && c.until <= now)
    return move(c, "probe_lost", now, now);
  return c;
}

/** An open circuit whose cooldown has passed lets the next call probe. */
export const probeDue = (c: Circuit, now: number) => c.state === "open" && (c.until ?? 0) <= now;

/** This call takes the probe: half-open until it reports, or until `deadline`. */
export const takeProbe = (c: Circuit, now: number, deadline: number): Circuit =>
  move(c, "probe", now, deadline);

/** The probe's call told nothing of the provider: open, and the next call probes. */
export const skipProbe = (c: Circuit, now: number): Circuit =>
  c.state === "half_open" ? move(c, "probe_skipped", now, now) : c;

/** A config change gives the provider a clean slate. */
export const resetCircuit = (c: Circuit, now: number): Circuit =>
  c.state === "closed" ? { ...c, consecutiveFailures: 0 } : move(c, "reset", now, null);

/**
 * An attempt's outcome: consecutive breaker failures trip a closed circuit; a probe's outcome
 * closes or reopens a half-open one. Reports for an open circuit (calls admitted before it
 * tripped) change nothing.
 */
export function recordOutcome(
  c: Circuit,
  outcome: { ok: boolean; breakerFailure: boolean; probe: boolean },
  settings: CircuitSettings,
  now: number,
): Circuit {
  if (c.state === "half_open") {
    if (!outcome.probe) return c;
    return outcome.ok
      ? move(c, "probe_succeeded", now, null)
      : move(c, "probe_failed", now, now + settings.breaker_cooldown_ms);
  }
  if (c.state === "open") return c;
  if (outcome.ok) return c.consecutiveFailures === 0 ? c : { ...c, consecutiveFailures: 0 };
  if (!outcome.breakerFailure) return c;
  const failures = c.consecutiveFailures + 1;
  if (failures >= settings.breaker_failures)
    return move(c, "trip", now, now + settings.breaker_cooldown_ms);
  return { ...c, consecutiveFailures: failures };
}
