import { z } from "zod";
import { AgentId, AppName, IntentId, NonNegInt, RunId, Timestamp, Usage } from "../primitives";
import { RunError, TreeRef } from "../run-state";

/** Central picked an agent and pushed the intent (emitted by central). */
export const RunDispatched = z.object({
  intent_id: IntentId,
  agent_id: AgentId,
  attempt: z.number().int().min(1),
  ack_deadline: Timestamp,
});

export const RunStarted = z.object({
  intent_id: IntentId,
  intent_type: z.string().min(1).max(128),
  app: AppName,
  attempt: z.number().int().min(1),
  model: z.string().max(200).nullable().describe("provider/model the session starts with"),
  tree_ref: TreeRef,
  resumed: z.boolean().default(false).describe("continues an interrupted session of this run"),
  forked_from: z
    .object({ run_id: RunId, entry_id: z.string().max(128).nullable() })
    .nullable()
    .default(null),
});

export const RunCompleted = z.object({
  result: z.string().max(32_768).nullable(),
  usage: Usage,
  duration_ms: NonNegInt,
  tree_ref: TreeRef.nullable(),
});

export const RunFailed = z.object({
  error: RunError,
  usage: Usage,
  duration_ms: NonNegInt,
  tree_ref: TreeRef.nullable(),
});

export const RunCancelled = z.object({
  reason: z.string().min(1).max(1024),
  by: z.string().max(200).nullable().describe("principal who cancelled, if known"),
  usage: Usage,
  tree_ref: TreeRef.nullable(),
});

/** Central saw an agent's lease run out (emitted by central). */
export const LeaseExpired = z.object({
  agent_id: AgentId,
  attempt: z.number().int().min(1),
  next: z.enum(["retry", "fail"]),
  retry_at: Timestamp.nullable(),
});
