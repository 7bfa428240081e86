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
 * A tenant's timings and policies (`GET`/`PUT /v1/settings`, admin only). `PUT` replaces the
 * whole document; omitted fields take their defaults.
 */
export const TenantSettings = z
  .strictObject({
    heartbeat: HeartbeatSettings.prefault({}),
    dispatch: DispatchSettings.prefault({}),
    retry: RetryPolicy.prefault({}),
    archive: ArchiveSettings.prefault({}),
  })
  .refine((s) => s.dispatch.lease_ms > s.heartbeat.interval_ms, {
    message:
      "dispatch.lease_ms must be longer than heartbeat.interval_ms (heartbeats renew leases)",
    path: ["dispatch", "lease_ms"],
  })
  .meta({ id: "TenantSettings" });
export type TenantSettings = z.infer<typeof TenantSettings>;

export const DEFAULT_TENANT_SETTINGS: TenantSettings = TenantSettings.parse({});
