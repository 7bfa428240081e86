import { z } from "zod";
import { StoredEvent } from "../events/agent-event";
import { NonNegInt } from "../primitives";
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
