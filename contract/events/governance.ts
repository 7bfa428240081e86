import { z } from "zod";
import { PolicyDecision, PolicyHookName } from "../policy";
import { NonNegInt, NonNegNumber, ToolName } from "../primitives";

/** A policy hook answered; every decision is logged, allows included. */
export const PolicyDecisionEvent = z.object({
  hook: PolicyHookName,
  decision: PolicyDecision,
  tool: ToolName.nullable(),
  tool_call_id: z.string().max(128).nullable(),
  subject: z
    .string()
    .max(1024)
    .nullable()
    .describe("what was judged, e.g. a path or a command excerpt"),
});

export const BudgetDimension = z.enum(["tokens", "cost_usd", "wall_ms", "tool_calls", "turns"]);

/** A budget crossed a threshold: 80% (warning) or 100% (exceeded). */
export const BudgetEvent = z.object({
  dimension: BudgetDimension,
  used: NonNegNumber,
  limit: NonNegNumber,
  state: z.enum(["warning", "exceeded"]),
  scope: z.enum(["run", "app", "tenant"]).default("run"),
});

/** The same tool call kept repeating: first the agent is steered, then the run is stopped. */
export const LoopDetected = z.object({
  tool: ToolName,
  args_digest: z.string().max(64),
  repeats: NonNegInt,
  threshold: NonNegInt,
  action: z.enum(["steer", "stop"]),
  failing: z.boolean().describe("the repeated call was failing each time"),
});
