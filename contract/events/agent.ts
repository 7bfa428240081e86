import { z } from "zod";
import { AgentStatus } from "../machines/agent";
import { JsonObject, NonNegInt, RunId } from "../primitives";

export const Heartbeat = z.object({
  status: AgentStatus,
  running: z.array(RunId).max(256),
  outbox_pending: NonNegInt.describe("events not yet acknowledged by central"),
  load: z
    .object({ cpu: z.number().min(0).nullable(), rss_mb: z.number().min(0).nullable() })
    .nullable(),
});

export const ErrorEvent = z.object({
  category: z.enum([
    "infrastructure",
    "timeout",
    "model",
    "tool",
    "invalid_intent",
    "internal",
    "policy",
  ]),
  code: z.string().max(64),
  message: z.string().min(1).max(4096),
  fatal: z.boolean().describe("the run (or agent, when run_id is null) cannot continue"),
  detail: JsonObject.nullable().default(null),
});
