import { z } from "zod";
import {
  AgentId,
  AppName,
  IntentId,
  JsonObject,
  NonNegInt,
  NonNegNumber,
  RunId,
  TenantId,
  Timestamp,
} from "./primitives";
import { TraceContext } from "./trace-context";

/** Per-run ceilings; an absent field means no limit on that dimension. */
export const BudgetLimits = z
  .strictObject({
    max_tokens: NonNegInt.optional().describe(
      "input (cached prompt tokens included) + output tokens over the whole run",
    ),
    max_cost_usd: NonNegNumber.optional(),
    max_wall_ms: z.number().int().positive().optional(),
    max_tool_calls: NonNegInt.optional(),
    max_turns: z.number().int().positive().optional(),
  })
  .meta({ id: "BudgetLimits" });
export type BudgetLimits = z.infer<typeof BudgetLimits>;

/** A tool name or a glob over names (`*` matches any run of characters), e.g. `http.*`. */
export const ToolPattern = z
  .string()
  .regex(/^[A-Za-z0-9_*][A-Za-z0-9_.:*-]{0,127}$/, "a tool name, optionally with '*' wildcards")
  .meta({ id: "ToolPattern" });

export const PolicyContext = z
  .object({
    tenant: TenantId,
    principal: z.string().min(1).max(200).describe("who asked: the API key id or agent id"),
    budget: BudgetLimits.default({}),
    allowed_tools: z
      .array(ToolPattern)
      .max(256)
      .optional()
      .describe("absent: every tool the agent has; [] allows none"),
  })
  .meta({ id: "PolicyContext" });
export type PolicyContext = z.infer<typeof PolicyContext>;

export const AgentTarget = z
  .strictObject({ agent_id: AgentId })
  .meta({ id: "AgentTarget", description: "This exact agent." });

export const SelectorTarget = z
  .strictObject({
    app: AppName.optional(),
    skill: z.string().min(1).max(64).optional(),
    capabilities: z.array(z.string().min(1).max(64)).min(1).max(32).optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message: "a selector needs at least one of app, skill, capabilities",
  })
  .meta({
    id: "SelectorTarget",
    description: "Any online agent with this app, skill and all these capabilities.",
    // The refinement above, as JSON Schema says it.
    minProperties: 1,
  });

export const Target = z.union([AgentTarget, SelectorTarget]).meta({ id: "Target" });
export type Target = z.infer<typeof Target>;

export function isAgentTarget(t: Target): t is z.infer<typeof AgentTarget> {
  return "agent_id" in t;
}

/** What a target is matched against: an agent's id, app, skills and capabilities. */
export interface TargetCandidate {
  agent_id: string;
  app: string;
  skills: readonly { name: string }[];
  capabilities: readonly string[];
}

/** Whether `agent` is one `target` asks for (whatever its status: see dispatch for that). */
export function targetMatches(target: Target, agent: TargetCandidate): boolean {
  if (isAgentTarget(target)) return agent.agent_id === target.agent_id;
  return (
    (target.app === undefined || agent.app === target.app) &&
    (target.skill === undefined || agent.skills.some((s) => s.name === target.skill)) &&
    (target.capabilities ?? []).every((c) => agent.capabilities.includes(c))
  );
}

/** A target in words: `agent lab-1`, `app lab-notes`, `app x, skill y, capabilities a+b`. */
export function describeTarget(target: Target): string {
  if (isAgentTarget(target)) return `agent ${target.agent_id}`;
  return [
    target.app !== undefined ? `app ${target.app}` : null,
    target.skill !== undefined ? `skill ${target.skill}` : null,
    target.capabilities?.length ? `capabilities ${target.capabilities.join("+")}` : null,
  ]
    .filter((part) => part !== null)
    .join(", ");
}

/** Start a new run from a point in an earlier run's session tree. */
export const ForkRef = z
  .strictObject({
    run_id: RunId,
    entry_id: z.string().min(1).max(128).optional().describe("absent: the run's latest entry"),
  })
  .meta({ id: "ForkRef" });
export type ForkRef = z.infer<typeof ForkRef>;

export const IntentType = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/,
    "a dotted lowercase name, e.g. `task` or `notes.summarize`",
  )
  .meta({ id: "IntentType" });

/** The work one agent is asked to do, as central stores and dispatches it. */
export const Intent = z
  .object({
    intent_id: IntentId,
    type: IntentType,
    params: JsonObject.describe(
      "type-specific input; `prompt` is the task text for `task` intents",
    ),
    policy_ctx: PolicyContext,
    targets: z.array(Target).min(1).max(32),
    idempotency_key: z.string().min(1).max(200).optional(),
    deadline: Timestamp.optional(),
    fork_of: ForkRef.optional(),
    trace: TraceContext.optional().describe(
      "the W3C trace context the intent was submitted in (its `traceparent` header): the run's spans continue that trace",
    ),
    created_at: Timestamp,
  })
  .meta({ id: "Intent" });
export type Intent = z.infer<typeof Intent>;

/**
 * What a client submits. Central fills in the id, tenant, principal and creation time, so
 * those cannot be forged; unknown keys are refused so a typo never silently drops a limit.
 */
export const IntentRequest = z
  .strictObject({
    type: IntentType.default("task"),
    params: JsonObject.default({}),
    budget: BudgetLimits.optional(),
    allowed_tools: z.array(ToolPattern).max(256).optional(),
    targets: z.array(Target).min(1).max(32),
    idempotency_key: z.string().min(1).max(200).optional(),
    deadline: Timestamp.optional(),
    fork_of: ForkRef.optional(),
  })
  .meta({ id: "IntentRequest" });
export type IntentRequest = z.infer<typeof IntentRequest>;

/** The prompt of a `task` intent, or a JSON rendering of the params for other types. */
export function intentPrompt(intent: Pick<Intent, "type" | "params">): string {
  const prompt = intent.params.prompt;
  if (typeof prompt === "string") return prompt;
  return `${intent.type}: ${JSON.stringify(intent.params)}`;
}

/** True when `tool` is matched by one of the patterns (or when no allow-list is set). */
export function toolAllowed(tool: string, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  return allowed.some((pattern) => globToRegExp(pattern).test(tool));
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}
