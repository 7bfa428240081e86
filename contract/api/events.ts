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
    next_cursor: NonNegInt.describe("the last cursor in this page, or `after` when empty"),
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

/** Query of `GET /v1/events` and `GET /v1/events/stream` (where `Last-Event-ID` overrides `after`). */
export const EventsQuery = z.strictObject({
  after: queryInt(0).default(0).describe("return events with a cursor above this"),
  limit: queryInt(1, LIMITS.batchEvents).default(100),
  run: RunId.optional(),
  agent: AgentId.optional(),
  kind: kindList.optional().describe("comma-separated kinds, e.g. `run_started,run_completed`"),
});
export type EventsQuery = z.output<typeof EventsQuery>;
