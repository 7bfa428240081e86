import { z } from "zod";
import {
  AgentId,
  AppName,
  Attempt,
  IntentId,
  NonNegInt,
  RunId,
  Timestamp,
  Usage,
} from "../primitives";
import { RunError, TreeRef } from "../run-state";

/** Central picked an agent and pushed the intent (emitted by central). */
export const RunDispatched = z.object({
  intent_id: IntentId,
  agent_id: AgentId,
  app: AppName.nullable().optional().describe("the app of the agent it went to"),
  attempt: Attempt,
  ack_deadline: Timestamp,
});

export const RunStarted = z.object({
  intent_id: IntentId,
  intent_type: z.string().min(1).max(128),
  app: AppName,
  attempt: Attempt,
  model: z.string().max(200).nullable().describe("provider/model the session starts with"),
  tree_ref: TreeRef,
  resumed: z.boolean().default(false).describe("continues an interrupted session of this run"),
  forked_from: z
    .object({ run_id: RunId, entry_id: z.string().max(128).nullable() })
    .nullable()
    .default(null),
  origin: z
    .enum(["central", "local"])
    .optional()
    .describe(
      "central: dispatched by central, which rules on its retries; local: started on the edge (`edge run`, or while central was away), which owns it",
    ),
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

/**
 * Central sent a run back to the queue (emitted by central): its holder did not acknowledge the
 * dispatch in time, refused it, or reported a failure the retry policy gives another attempt.
 * A lease that ran out is recorded by `lease_expired` instead.
 */
export const RunRetrying = z.object({
  attempt: Attempt.describe("the attempt that ended"),
  cause: z
    .enum(["ack_timeout", "refused", "failed", "dropped"])
    .describe(
      "`dropped`: the agent reconnected without the run it had claimed; that attempt does not count against the retry policy",
    ),
  error: RunError,
  retry_at: Timestamp.describe("not dispatched again before this"),
});

/** Central saw an agent's lease run out (emitted by central). */
export const LeaseExpired = z.object({
  agent_id: AgentId,
  attempt: Attempt,
  next: z.enum(["retry", "fail"]),
  retry_at: Timestamp.nullable(),
});
