import { z } from "zod";
import { defineMachine } from "./machine";

export const AGENT_STATUSES = [
  "online",
  "busy",
  "draining",
  "degraded",
  "disconnected",
  "offline",
] as const;
export const AgentStatus = z.enum(AGENT_STATUSES).meta({ id: "AgentStatus" });
export type AgentStatus = z.infer<typeof AgentStatus>;

/** Statuses that take new work; degraded, draining, disconnected and offline agents do not. */
export const DISPATCHABLE_AGENT_STATUSES: ReadonlySet<AgentStatus> = new Set(["online", "busy"]);

export const AGENT_EVENTS = [
  "connect",
  "assign",
  "idle",
  "drain",
  "heartbeat_missed",
  "heartbeat",
  "disconnect",
  "grace_expired",
  "shutdown",
] as const;
export type AgentLifecycleEvent = (typeof AGENT_EVENTS)[number];

/**
 * Default timings follow Agirunner's worker protocol: heartbeat every interval; one missed
 * interval makes the agent degraded, two make it disconnected; after the grace period it is
 * offline. An agent is never terminal: any state can come back with a fresh connection.
 */
export const agentMachine = defineMachine({
  name: "agent",
  states: AGENT_STATUSES,
  events: AGENT_EVENTS,
  initial: "offline",
  terminal: [],
  edges: [
    { from: "offline", on: "connect", to: "online", why: "registered over a new WebSocket" },
    {
      from: "disconnected",
      on: "connect",
      to: "online",
      why: "reconnected within the grace period",
    },
    { from: "degraded", on: "connect", to: "online", why: "replaced a stale connection" },
    { from: "online", on: "connect", to: "online", why: "replaced its connection (restart)" },
    { from: "busy", on: "connect", to: "busy", why: "replaced its connection while holding runs" },
    { from: "draining", on: "connect", to: "online", why: "restarted after draining" },
    { from: "online", on: "assign", to: "busy", why: "claimed a run" },
    { from: "busy", on: "idle", to: "online", why: "its last run ended" },
    { from: "online", on: "drain", to: "draining", why: "asked to take no new work" },
    { from: "busy", on: "drain", to: "draining", why: "finishes current runs, takes no new work" },
    {
      from: "online",
      on: "heartbeat_missed",
      to: "degraded",
      why: "one interval without a heartbeat",
    },
    {
      from: "busy",
      on: "heartbeat_missed",
      to: "degraded",
      why: "one interval without a heartbeat",
    },
    {
      from: "draining",
      on: "heartbeat_missed",
      to: "degraded",
      why: "one interval without a heartbeat",
    },
    { from: "degraded", on: "heartbeat", to: "online", why: "heartbeats resumed" },
    {
      from: "degraded",
      on: "heartbeat_missed",
      to: "disconnected",
      why: "two intervals without a heartbeat",
    },
    { from: "online", on: "disconnect", to: "disconnected", why: "its WebSocket closed" },
    { from: "busy", on: "disconnect", to: "disconnected", why: "its WebSocket closed" },
    { from: "draining", on: "disconnect", to: "disconnected", why: "its WebSocket closed" },
    { from: "degraded", on: "disconnect", to: "disconnected", why: "its WebSocket closed" },
    {
      from: "disconnected",
      on: "grace_expired",
      to: "offline",
      why: "did not come back within the grace period",
    },
    { from: "online", on: "shutdown", to: "offline", why: "said goodbye" },
    { from: "draining", on: "shutdown", to: "offline", why: "said goodbye after draining" },
    { from: "degraded", on: "shutdown", to: "offline", why: "said goodbye" },
  ],
});

export interface HeartbeatTimings {
  interval_ms: number;
  /** Missed intervals before degraded, and before disconnected. */
  degraded_after: number;
  disconnected_after: number;
  /** Time in disconnected before offline. */
  offline_grace_ms: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatTimings = {
  interval_ms: 30_000,
  degraded_after: 1,
  disconnected_after: 2,
  offline_grace_ms: 5 * 60_000,
};
