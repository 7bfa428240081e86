import { z } from "zod";
import { EventId, JsonObject, Timestamp } from "./primitives";

export const ProjectionDomain = z
  .enum(["execution", "orchestration", "memory", "governance"])
  .meta({ id: "ProjectionDomain" });

/**
 * A fact derived from the AgentEvent log for one of the four domains (seed 004 §1.1), e.g. the
 * memory projector's "run row settled" or a governance "budget crossed". Derived, so it can
 * always be rebuilt by replaying the log.
 */
export const ProjectionEvent = z
  .object({
    event_id: EventId,
    domain: ProjectionDomain,
    projection: z
      .string()
      .regex(
        /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/,
        "a dotted lowercase name, e.g. memory.runs",
      ),
    payload: JsonObject,
    ts: Timestamp,
    source_event_id: EventId.nullable().describe("the AgentEvent it was derived from, if one"),
  })
  .meta({ id: "ProjectionEvent" });
export type ProjectionEvent = z.infer<typeof ProjectionEvent>;
