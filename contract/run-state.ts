import { z } from "zod";
import { Target } from "./intent";
import { RunStatus } from "./machines/run";
import {
  AgentId,
  AppName,
  Attempt,
  IntentId,
  MAX_ATTEMPT,
  NonNegInt,
  RunId,
  TenantId,
  Timestamp,
  Usage,
} from "./primitives";

/** Where a run's history lives: a pi session file (JSONL tree) and the entry it reached. */
export const TreeRef = z
  .object({
    session_file: z
      .string()
      .min(1)
      .max(1024)
      .describe("path relative to the edge agent's state dir"),
    entry_id: z.string().min(1).max(128).nullable().describe("latest entry; null before the first"),
  })
  .meta({ id: "TreeRef" });
export type TreeRef = z.infer<typeof TreeRef>;

/**
 * Why a run did not complete. The category decides retry: only `infrastructure` and `timeout`
 * are retryable by default (a policy denial or a blown budget will not get better by retrying).
 */
export const RunErrorCategory = z
  .enum([
    "infrastructure",
    "timeout",
    "policy",
    "budget_exceeded",
    "stuck_loop",
    "model",
    "tool",
    "invalid_intent",
    "cancelled",
    "internal",
  ])
  .meta({ id: "RunErrorCategory" });
export type RunErrorCategory = z.infer<typeof RunErrorCategory>;

export const RunError = z
  .object({
    category: RunErrorCategory,
    reason: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, "a snake_case code")
      .max(64)
      .describe("stable machine-readable code, e.g. budget_exceeded, lease_expired"),
    message: z.string().min(1).max(4096),
  })
  .meta({ id: "RunError" });
export type RunError = z.infer<typeof RunError>;

export const Backoff = z.enum(["fixed", "linear", "exponential"]).meta({ id: "Backoff" });

export const RetryPolicy = z
  .object({
    max_attempts: z.number().int().min(1).max(20).default(3),
    backoff: Backoff.default("exponential"),
    base_delay_ms: z.number().int().min(0).max(3_600_000).default(1_000),
    max_delay_ms: z.number().int().min(0).max(86_400_000).default(60_000),
    retryable: z.array(RunErrorCategory).default(["infrastructure", "timeout"]),
  })
  .meta({ id: "RetryPolicy" });
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = RetryPolicy.parse({});

/** Delay before attempt `nextAttempt` (2 for the first retry), without jitter. */
export function retryDelayMs(policy: RetryPolicy, nextAttempt: number): number {
  const n = Math.max(1, nextAttempt - 1);
  const raw =
    policy.backoff === "fixed"
      ? policy.base_delay_ms
      : policy.backoff === "linear"
        ? policy.base_delay_ms * n
        : policy.base_delay_ms * 2 ** (n - 1);
  return Math.min(raw, policy.max_delay_ms);
}

/** Whether a failure in `category` on attempt `attempt` gets another attempt. */
export function shouldRetry(
  policy: RetryPolicy,
  category: RunErrorCategory,
  attempt: number,
): boolean {
  return policy.retryable.includes(category) && attempt < policy.max_attempts;
}

export const RunTimings = z
  .object({
    created_at: Timestamp,
    dispatched_at: Timestamp.nullable(),
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
  })
  .meta({ id: "RunTimings" });

export const Lease = z
  .object({ agent_id: AgentId, attempt: Attempt, expires_at: Timestamp })
  .meta({ id: "Lease" });
export type Lease = z.infer<typeof Lease>;

/**
 * Why a queued run has not gone out: no online agent serves its `targets` (it times out under the
 * tenant's `dispatch.queue_timeout_ms`), the agents that do are at capacity, or a retry waits for
 * its backoff.
 */
export const RunWaiting = z
  .object({
    reason: z.enum(["no_agent", "at_capacity", "backoff"]),
    since: Timestamp.nullable().describe("no_agent: since when no online agent serves it"),
    until: Timestamp.nullable().describe(
      "no_agent: when it times out (null: never); backoff: when it may go out again",
    ),
  })
  .meta({ id: "RunWaiting" });
export type RunWaiting = z.infer<typeof RunWaiting>;

/** A run: one attempt-tracked execution of an intent by an edge agent. */
export const RunState = z
  .object({
    run_id: RunId,
    intent_id: IntentId,
    tenant: TenantId,
    app: AppName.nullable().describe("the app of the agent it was dispatched to"),
    agent_id: AgentId.nullable().describe("null until dispatched"),
    targets: z
      .array(Target)
      .describe("where the intent asked to run, in order: what a pending run waits for"),
    tree_ref: TreeRef.nullable(),
    status: RunStatus,
    attempt: NonNegInt.max(MAX_ATTEMPT).describe("0 before the first dispatch"),
    lease: Lease.nullable(),
    timings: RunTimings,
    usage: Usage,
    error: RunError.nullable(),
    result: z.string().max(32_768).nullable().describe("the agent's final answer, if any"),
    waiting: RunWaiting.nullable()
      .default(null)
      .describe("set while the run is queued: what it waits for and why"),
  })
  .meta({ id: "RunState" });
export type RunState = z.infer<typeof RunState>;
