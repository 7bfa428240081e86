import { z } from "zod";
import { defineMachine } from "./machine";

export const INTENT_STATUSES = [
  "queued",
  "active",
  "completed",
  "failed",
  "cancelled",
  "expired",
] as const;
export const IntentStatus = z.enum(INTENT_STATUSES).meta({ id: "IntentStatus" });
export type IntentStatus = z.infer<typeof IntentStatus>;

export const INTENT_EVENTS = [
  "dispatch",
  "requeue",
  "complete",
  "fail",
  "cancel",
  "expire",
] as const;
export type IntentEvent = (typeof INTENT_EVENTS)[number];

/** An intent is queued until a run of it is with an agent, and ends with that run. */
export const intentMachine = defineMachine({
  name: "intent",
  states: INTENT_STATUSES,
  events: INTENT_EVENTS,
  initial: "queued",
  terminal: ["completed", "failed", "cancelled", "expired"],
  edges: [
    { from: "queued", on: "dispatch", to: "active", why: "its run was dispatched to an agent" },
    {
      from: "active",
      on: "requeue",
      to: "queued",
      why: "its run went back to the queue (retry, ack timeout)",
    },
    { from: "active", on: "complete", to: "completed", why: "its run completed" },
    { from: "active", on: "fail", to: "failed", why: "its run failed for good" },
    { from: "queued", on: "fail", to: "failed", why: "attempts exhausted while waiting" },
    { from: "queued", on: "cancel", to: "cancelled", why: "cancelled while waiting" },
    { from: "active", on: "cancel", to: "cancelled", why: "cancelled while running" },
    {
      from: "queued",
      on: "expire",
      to: "expired",
      why: "its deadline passed before any agent took it",
    },
  ],
});
