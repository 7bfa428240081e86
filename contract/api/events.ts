import { z } from "zod";
import { EVENT_KINDS, type EventKind, StoredEvent } from "../events/agent-event";
import { AgentId, LIMITS, NonNegInt, queryInt, RunId } from "../primitives";
import { ApiIssue } from "./errors";

/** An event refused at ingest, by its position in the batch, with what was wrong. */
export const RejectedEvent = z
  .object({ index: NonNegInt, event_id: z.string().nullable(), issues: z.array(ApiIssue) })
  .meta({ id: "RejectedEvent" });

/** One page of `GET /v1/events?after=<cursor>`; pass `next_cursor` as `after` to continue. */
export const EventsPage = z
  .object({
    events: z.array(StoredEvent),
    next_cursor: NonNegInt.describe(
      "the last cursor in this page; when it is empty, where the read ended (at least `after`)",
    ),
    has_more: z.boolean(),
  })
  .meta({ id: "EventsPage" });
export type EventsPage = z.infer<typeof EventsPage>;

/** Answer to `POST /v1/events`: what was stored, what was already there, what was refused. */
export const IngestResult = z
  .object({
    stored: NonNegInt,
    duplicates: NonNegInt,
    rejected: z.array(RejectedEvent),
  })
  .meta({ id: "IngestResult" });
export type IngestResult = z.infer<typeof IngestResult>;

/** `POST /v1/events` body: a batch validated event by event, like the WebSocket `events` message. */
export const IngestRequest = z
  .strictObject({ events: z.array(z.unknown()).min(1).max(LIMITS.batchEvents) })
  .meta({ id: "IngestRequest" });
export type IngestRequest = z.infer<typeof IngestRequest>;

// The pattern names every kind, so the published document accepts exactly what central does.
const KIND = `(?:${EVENT_KINDS.join("|")})`;
const kindList = z
  .string()
  .regex(
    new RegExp(`^${KIND}(?:,${KIND})*$`),
    `comma-separated event kinds, each one of ${EVENT_KINDS.join(", ")}`,
  )
  .transform((s) => s.split(",") as EventKind[]);

const eventFilter = {
  run: RunId.optional(),
  agent: AgentId.optional(),
  kind: kindList.optional().describe("comma-separated kinds, e.g. `run_started,run_completed`"),
};
/** An event's cursor in a query parameter or header (`after`, `Last-Event-ID`). */
export const EventCursor = queryInt(0);

/** Query of `GET /v1/events`. */
export const EventsQuery = z.strictObject({
  after: EventCursor.default(0).describe("return events with a cursor above this"),
  limit: queryInt(1, LIMITS.batchEvents).default(100),
  tail: z
    .enum(["true", "false"])
    .optional()
    .describe(
      "`true`: the newest `limit` matching events above `after` instead of the oldest, still in cursor order, and `has_more: false`; the R2 archive is searched back at most 8 segments",
    ),
  ...eventFilter,
});
export type EventsQuery = z.output<typeof EventsQuery>;

/**
 * Query of `GET /v1/events/stream`. Where it starts: `Last-Event-ID` (a reconnect), else
 * `after`, else the end of the log (only what happens from now on).
 */
export const EventStreamQuery = z.strictObject({
  after: EventCursor.optional().describe(
    "replay events with a cursor above this first; absent: only new events",
  ),
  ...eventFilter,
});
export type EventStreamQuery = z.output<typeof EventStreamQuery>;
