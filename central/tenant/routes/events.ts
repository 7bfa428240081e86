import { EventStreamQuery, EventsQuery, IngestRequest } from "../../../contract";
import { pageJson } from "../../events/reader";
import { readQuery } from "../../http/body";
import { ApiFailure } from "../../http/errors";
import { audited, bodyJson, type Handlers } from "./types";

export const eventHandlers: Handlers = {
  async listEvents(c) {
    const q = readQuery(new URL(c.req.url), EventsQuery);
    const page = await c.env.reader.page(q.after, q.limit, q);
    return c.body(pageJson(page), 200, { "content-type": "application/json" });
  },

  streamEvents(c) {
    const q = readQuery(new URL(c.req.url), EventStreamQuery);
    const last = c.req.header("last-event-id");
    // A stream asked for no history starts at the end of the log: only what happens next.
    let after = q.after ?? c.env.log.peekCursor() - 1;
    if (last !== undefined && last !== "") {
      if (!/^\d+$/.test(last))
        throw new ApiFailure(400, "invalid_request", "Last-Event-ID must be an event cursor", [
          {
            path: "last-event-id",
            expected: "a non-negative integer",
            message: "not a cursor",
            code: "invalid_type",
          },
        ]);
      after = Number(last);
    }
    return c.env.streams.open(after, q);
  },

  async ingestEvents(c) {
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
};
