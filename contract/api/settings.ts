import { z } from "zod";
import { DEFAULT_HEARTBEAT } from "../machines/agent";
import { RetryPolicy } from "../run-state";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Agirunner's worker timings by default: 30 s heartbeats, degraded after one missed, disconnected after two. */
export const HeartbeatSettings = z
  .strictObject({
    interval_ms: z.number().int().min(100).max(HOUR).default(DEFAULT_HEARTBEAT.interval_ms),
    degraded_after: z.number().int().min(1).max(100).default(DEFAULT_HEARTBEAT.degraded_after),
    disconnected_after: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(DEFAULT_HEARTBEAT.disconnected_after),
    offline_grace_ms: z
      .number()
      .int()
      .min(0)
      .max(7 * DAY)
      .default(DEFAULT_HEARTBEAT.offline_grace_ms)
      .describe("time in `disconnected` before an agent is `offline`"),
    forget_after_ms: z
      .number()
      .int()
      .min(0)
      .max(365 * DAY)
      .default(7 * DAY)
      .describe(
        "time in `offline` before an agent that holds no run is forgotten (its registration deleted; it registers again when it next connects)",
      ),
  })
  .refine((h) => h.disconnected_after > h.degraded_after, {
    message: "disconnected_after must be greater than degraded_after",
    path: ["disconnected_after"],
  })
  .meta({ id: "HeartbeatSettings" });
export type HeartbeatSettings = z.output<typeof HeartbeatSettings>;

export const DispatchSettings = z
  .strictObject({
    ack_timeout_ms: z
      .number()
      .int()
      .min(100)
      .max(HOUR)
      .default(10_000)
      .describe("an agent must ack a dispatch within this, else the run goes back to the queue"),
    lease_ms: z
      .number()
      .int()
      .min(200)
      .max(DAY)
      .default(90_000)
      .describe("a claimed run's lease; the agent's events and heartbeats renew it"),
    queue_timeout_ms: z
      .number()
      .int()
      .min(1_000)
      .max(30 * DAY)
      .nullable()
      .default(HOUR)
      .describe(
        "a queued run that no online agent serves for this long fails (reason queue_timeout); null waits for ever",
      ),
  })
  .meta({ id: "DispatchSettings" });
export type DispatchSettings = z.output<typeof DispatchSettings>;

export const ArchiveSettings = z
  .strictObject({
    segment_max_events: z.number().int().min(1).max(100_000).default(10_000),
    seal_after_ms: z
      .number()
      .int()
      .min(0)
      .max(30 * DAY)
      .default(HOUR)
      .describe("events older than this are sealed into R2 even when a segment is not full"),
    retention_ms: z
      .number()
      .int()
      .min(0)
      .max(365 * DAY)
      .default(7 * DAY)
      .describe("sealed events stay in SQLite this long, then are read from R2"),
    dedupe_window_ms: z
      .number()
      .int()
      .min(HOUR)
      .max(365 * DAY)
      .default(30 * DAY)
      .describe("event ids are remembered this long; older events are refused, not re-stored"),
  })
  .refine((a) => a.dedupe_window_ms >= a.retention_ms, {
    message: "dedupe_window_ms must be at least retention_ms",
    path: ["dedupe_window_ms"],
  })
  .meta({ id: "ArchiveSettings" });
export type ArchiveSettings = z.output<typeof ArchiveSettings>;

/**
 * An external PDDL planner that takes over large problems from central's own solver. Central
 * POSTs `{"domain", "problem", "optimal"}` (PDDL text) as JSON and takes `{"plan": [...]}` (ground
 * actions) or `{"plan": "..."}` (a plan file's text, `;` comments ignored), then checks the plan
 * against the domain before using it.
 */
export const ExternalPddlPlanner = z
  .strictObject({
    url: z
      .string()
      .min(1)
      .max(2048)
      .describe(
        "https to a public host; loopback and private hosts, and http, only where the operator allows private upstreams",
      ),
    token: z
      .strictObject({ secret: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/) })
      .optional()
      .describe(
        "sent as `authorization: Bearer`: a Worker secret the operator offers to this tenant for the endpoint's host (AURAISON_PROVIDER_SECRETS)",
      ),
    above: z
      .strictObject({
        objects: z.number().int().min(0).optional(),
        ground_actions: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe(
            "an upper bound counted before grounding: each action's parameter domains multiplied",
          ),
      })
      .refine((a) => a.objects !== undefined || a.ground_actions !== undefined, {
        message: "give objects, ground_actions or both",
      })
      .describe("a problem larger than either goes to the endpoint (0: every problem)"),
    optimal: z
      .boolean()
      .default(false)
      .describe(
        "also send problems that ask for an optimal plan (central checks that the plan is valid, not that it is optimal)",
      ),
    timeout_ms: z.number().int().min(100).max(HOUR).default(60_000),
    on_failure: z
      .enum(["solve_here", "fail"])
      .default("solve_here")
      .describe(
        "when the endpoint fails, times out or answers a plan that does not check: central's solver plans instead, or the planning attempt fails with the reason",
      ),
  })
  .meta({ id: "ExternalPddlPlanner" });
export type ExternalPddlPlanner = z.output<typeof ExternalPddlPlanner>;

export const PlanningSettings = z
  .strictObject({
    external_pddl: ExternalPddlPlanner.nullable()
      .default(null)
      .describe("null: the operator's endpoint (AURAISON_PDDL_PLANNER) if there is one"),
  })
  .meta({ id: "PlanningSettings" });
export type PlanningSettings = z.output<typeof PlanningSettings>;

/**
 * A tenant's timings and policies (`GET`/`PUT /v1/settings`, admin only). `PUT` replaces the
 * whole document; omitted fields take their defaults.
 */
export const TenantSettings = z
  .strictObject({
    heartbeat: HeartbeatSettings.prefault({}),
    dispatch: DispatchSettings.prefault({}),
    retry: RetryPolicy.prefault({}),
    archive: ArchiveSettings.prefault({}),
    planning: PlanningSettings.prefault({}),
  })
  .refine((s) => s.dispatch.lease_ms > s.heartbeat.interval_ms, {
    message:
      "dispatch.lease_ms must be longer than heartbeat.interval_ms (heartbeats renew leases)",
    path: ["dispatch", "lease_ms"],
  })
  .meta({ id: "TenantSettings" });
export type TenantSettings = z.infer<typeof TenantSettings>;

export const DEFAULT_TENANT_SETTINGS: TenantSettings = TenantSettings.parse({});
