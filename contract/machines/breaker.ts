import { z } from "zod";
import { defineMachine } from "./machine";

export const BREAKER_STATES = ["closed", "open", "half_open"] as const;
export const BreakerState = z.enum(BREAKER_STATES).meta({ id: "BreakerState" });
export type BreakerState = z.infer<typeof BreakerState>;

export const BREAKER_EVENTS = [
  "trip",
  "probe",
  "probe_succeeded",
  "probe_failed",
  "probe_lost",
  "probe_skipped",
  "reset",
] as const;
export type BreakerEvent = (typeof BREAKER_EVENTS)[number];

/**
 * The model gateway's circuit breaker, one per provider: repeated failures open it, so calls stop
 * going to a provider that is down; after a cooldown one call is let through as a probe, and
 * its outcome closes the circuit or opens it again.
 */
export const breakerMachine = defineMachine({
  name: "breaker",
  states: BREAKER_STATES,
  events: BREAKER_EVENTS,
  initial: "closed",
  terminal: [],
  edges: [
    {
      from: "closed",
      on: "trip",
      to: "open",
      why: "consecutive failures reached the threshold",
    },
    {
      from: "open",
      on: "probe",
      to: "half_open",
      why: "the cooldown passed: one call goes through to test the provider",
    },
    {
      from: "half_open",
      on: "probe_succeeded",
      to: "closed",
      why: "the probe call worked",
    },
    {
      from: "half_open",
      on: "probe_failed",
      to: "open",
      why: "the probe call failed: cool down again",
    },
    {
      from: "half_open",
      on: "probe_lost",
      to: "open",
      why: "the probe never reported back in time",
    },
    {
      from: "half_open",
      on: "probe_skipped",
      to: "open",
      why: "the probe was never made, or its call was refused as the request's own fault (a 4xx that says nothing of the provider): the next call probes",
    },
    { from: "open", on: "reset", to: "closed", why: "an admin changed the provider" },
    { from: "half_open", on: "reset", to: "closed", why: "an admin changed the provider" },
  ],
});
