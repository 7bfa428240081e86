import { z } from "@hono/zod-openapi";
import {
  check,
  EventCursor,
  EventStreamQuery,
  EventsPage,
  EventsQuery,
  Failure,
  IngestRequest,
  IngestResult,
  PATHS,
  StoredEvent,
} from "../../../contract";
import { AGENT, body, errors, json, READERS } from "../../api/route";
import { pageJson } from "../../events/reader";
import { DEFAULT_BODY_LIMIT, readQuery } from "../../http/body";
import { audited, bodyJson, type TenantRoute, tenantRoute } from "./types";

export const eventRoutes: TenantRoute[] = [
  tenantRoute(
    READERS,
    {
      operationId: "listEvents",
      method: "get",
      path: PATHS.events,
      tags: ["events"],
      summary: "Page through the event log in cursor order (R2 archive and SQLite, seamlessly)",
      request: { query: EventsQuery },
      responses: { 200: json(EventsPage, "Events"), ...errors(400, 401, 403) },
    },
    async (c) => {
      const q = readQuery(new URL(c.req.url), EventsQuery);
      const page =
        q.tail === "true"
          ? await c.env.reader.tail(q.after, q.limit, q)
          : await c.env.reader.page(q.after, q.limit, q);
      return c.body(pageJson(page), 200, { "content-type": "application/json" });
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "streamEvents",
      method: "get",
      path: PATHS.eventStream,
      tags: ["events"],
      summary:
        "Live Server-Sent Events (`event: event`, `id: <cursor>`): from `Last-Event-ID`, else `after`, else only new events",
      request: {
        query: EventStreamQuery,
        headers: z.object({ "last-event-id": EventCursor.optional() }),
      },
      responses: {
        200: {
          description: "A text/event-stream of StoredEvents",
          content: { "text/event-stream": { schema: z.string(), itemSchema: StoredEvent } },
        },
        ...errors(400, 401, 403),
      },
    },
    (c) => {
      const q = readQuery(new URL(c.req.url), EventStreamQuery);
      const last = lastEventId(c.req.header("last-event-id"));
      // A stream asked for no history starts at the end of the log: only what happens next.
      const after = last ?? q.after ?? c.env.log.peekCursor() - 1;
      const principal = c.get("principal");
      // Checked again here, where nothing awaits before the stream is registered: a revocation
      // served while this request was being authenticated would otherwise miss the stream.
      if (c.env.keys.get(principal.id)?.revoked_at !== null)
        throw new Failure(401, "unauthorized", "unknown or revoked API key");
      return c.env.streams.open(after, q, principal);
    },
  ),
  tenantRoute(
    AGENT,
    {
      operationId: "ingestEvents",
      method: "post",
      path: PATHS.events,
      tags: ["events"],
      summary: "Ingest a batch of AgentEvents (deduplicated by event_id; bad ones reported)",
      request: body(IngestRequest),
      responses: { 200: json(IngestResult, "Ingested"), ...errors(400, 401, 403, 413, 415) },
    },
    { action: "events.ingest", bodyLimit: 16 * DEFAULT_BODY_LIMIT },
    async (c) => {
      const { events } = bodyJson(c, IngestRequest);
      const outcome = c.env.ingest.ingest(events, { kind: "http", keyApp: c.get("principal").app });
      audited(c, null, {
        stored: outcome.stored,
        duplicates: outcome.duplicates,
        rejected: outcome.rejected.length,
      });
      return c.json({
        stored: outcome.stored,
        duplicates: outcome.duplicates,
        rejected: outcome.rejected,
      });
    },
  ),
];

/** `Last-Event-ID` read as `after` is (an empty one is none), or 400 naming the header. */
function lastEventId(header: string | undefined): number | undefined {
  if (header === undefined || header === "") return undefined;
  const parsed = check(EventCursor, header);
  if (parsed.ok) return parsed.value;
  const issue = parsed.issues[0]!;
  throw new Failure(400, "invalid_request", `invalid header Last-Event-ID: ${issue.message}`, {
    issues: [{ ...issue, path: "last-event-id" }],
  });
}
