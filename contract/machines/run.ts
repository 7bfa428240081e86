import { z } from "zod";
import { defineMachine } from "./machine";

export const RUN_STATUSES = [
  "pending",
  "dispatched",
  "running",
  "completed",
  "failed",
  "cancelled",
] as const;
export const RunStatus = z.enum(RUN_STATUSES).meta({ id: "RunStatus" });
export type RunStatus = z.infer<typeof RunStatus>;

export const RUN_EVENTS = [
  "dispatch",
  "claim",
  "ack_timeout",
  "lease_expired",
  "retry",
  "drop",
  "complete",
  "fail",
  "cancel",
] as const;
export type RunEvent = (typeof RUN_EVENTS)[number];

/**
 * pending: queued, waiting for an eligible agent (or for a retry's backoff).
 * dispatched: pushed to an agent, waiting for its ack and claim.
 * running: claimed under a lease that the agent's events and heartbeats renew.
 */
export const runMachine = defineMachine({
  name: "run",
  states: RUN_STATUSES,
  events: RUN_EVENTS,
  initial: "pending",
  terminal: ["completed", "failed", "cancelled"],
  edges: [
    {
      from: "pending",
      on: "dispatch",
      to: "dispatched",
      why: "an eligible agent was picked and sent the intent",
    },
    {
      from: "dispatched",
      on: "claim",
      to: "running",
      why: "the agent acknowledged and took the lease",
    },
    {
      from: "dispatched",
      on: "ack_timeout",
      to: "pending",
      why: "no ack in time: back to the queue",
    },
    {
      from: "dispatched",
      on: "lease_expired",
      to: "pending",
      why: "agent lost before claiming: retry",
    },
    {
      from: "running",
      on: "lease_expired",
      to: "pending",
      why: "agent went silent: re-dispatch under the retry policy",
    },
    {
      from: "dispatched",
      on: "retry",
      to: "pending",
      why: "the agent refused it (no capacity, draining, unsupported): try another agent",
    },
    { from: "running", on: "retry", to: "pending", why: "a retryable failure with attempts left" },
    {
      from: "running",
      on: "drop",
      to: "pending",
      why: "its agent reconnected without it (it restarted): back to the queue, the attempt not counted",
    },
    { from: "running", on: "complete", to: "completed", why: "the agent reported success" },
    {
      from: "pending",
      on: "fail",
      to: "failed",
      why: "deadline passed or attempts exhausted while queued",
    },
    {
      from: "dispatched",
      on: "fail",
      to: "failed",
      why: "the agent refused the intent (invalid) or deadline passed",
    },
    {
      from: "running",
      on: "fail",
      to: "failed",
      why: "the agent reported failure, or deadline / attempts exhausted",
    },
    { from: "pending", on: "cancel", to: "cancelled", why: "cancelled before dispatch" },
    { from: "dispatched", on: "cancel", to: "cancelled", why: "cancelled before the claim" },
    {
      from: "running",
      on: "cancel",
      to: "cancelled",
      why: "cancelled while running; the edge is told to stop",
    },
  ],
});
