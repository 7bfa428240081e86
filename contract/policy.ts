import { z } from "zod";
import type { Intent, PolicyContext } from "./intent";
import { JsonValue } from "./primitives";

export const PolicyHookName = z
  .enum(["intent", "tool_call", "model_call"])
  .meta({ id: "PolicyHookName" });
export type PolicyHookName = z.infer<typeof PolicyHookName>;

/** A hook's answer. `modify` replaces the input (e.g. a clamped argument) and lets it proceed. */
export const PolicyDecision = z
  .discriminatedUnion("effect", [
    z.object({
      effect: z.literal("allow"),
      rule_id: z.string().min(1).max(100),
      reason: z.string().max(1024),
    }),
    z.object({
      effect: z.literal("deny"),
      rule_id: z.string().min(1).max(100),
      reason: z.string().min(1).max(1024),
    }),
    z.object({
      effect: z.literal("modify"),
      rule_id: z.string().min(1).max(100),
      reason: z.string().min(1).max(1024),
      modified_input: JsonValue,
    }),
  ])
  .meta({ id: "PolicyDecision" });
export type PolicyDecision = z.infer<typeof PolicyDecision>;

/** What a hook is asked to judge. */
export type PolicyRequest =
  | { hook: "intent"; intent: Intent }
  | {
      hook: "tool_call";
      run_id: string;
      tool_call_id: string;
      tool: string;
      input: unknown;
      /** The run's working directory; file and shell tools must stay inside it. */
      workdir: string;
    }
  | { hook: "model_call"; run_id: string | null; model: string; estimated_tokens: number };

/** Who is acting and under which limits, plus where (app/agent) when known. */
export interface PolicyScope extends PolicyContext {
  app?: string;
  agent_id?: string;
}

/**
 * The one signature both runtimes call. A hook returns `null` when the request is none of its
 * business, so only rules that actually judged something are logged as decisions.
 */
export type PolicyHook = (
  request: PolicyRequest,
  scope: PolicyScope,
) => PolicyDecision | null | Promise<PolicyDecision | null>;

export interface PolicyOutcome {
  /** The deciding answer: the first deny, else the last modify, else allow. */
  final: PolicyDecision;
  /** Every non-null answer in evaluation order, for the audit trail. */
  decisions: PolicyDecision[];
  /** The input after all modifications (tool_call hooks). */
  input: unknown;
}

const DEFAULT_ALLOW: PolicyDecision = {
  effect: "allow",
  rule_id: "default",
  reason: "no rule objected",
};

/**
 * Runs hooks in order. A deny stops evaluation; a modify feeds its output to later hooks; a hook
 * that throws is a deny (fail closed), never a silent allow.
 */
export async function evaluatePolicies(
  hooks: readonly PolicyHook[],
  request: PolicyRequest,
  scope: PolicyScope,
): Promise<PolicyOutcome> {
  const decisions: PolicyDecision[] = [];
  let current = request;
  let final: PolicyDecision = DEFAULT_ALLOW;
  for (const hook of hooks) {
    let decision: PolicyDecision | null;
    try {
      decision = await hook(current, scope);
    } catch (error) {
      decision = {
        effect: "deny",
        rule_id: "policy_error",
        reason: `policy hook failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    if (!decision) continue;
    decisions.push(decision);
    if (decision.effect === "deny") return { final: decision, decisions, input: inputOf(current) };
    if (decision.effect === "modify") {
      final = decision;
      if (current.hook === "tool_call") current = { ...current, input: decision.modified_input };
    }
  }
  if (final.effect !== "modify" && decisions.length > 0) final = decisions[decisions.length - 1]!;
  return { final, decisions, input: inputOf(current) };
}

function inputOf(request: PolicyRequest): unknown {
  return request.hook === "tool_call" ? request.input : undefined;
}
