import type { ExtensionAPI, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import {
  evaluatePolicies,
  type PolicyDecision,
  type PolicyHook,
  type PolicyScope,
  redactedExcerpt,
} from "../../contract";
import { pathSubject } from "../policy/path-guard";
import type { RunContext } from "../runs/run-context";
import type { EventBridge } from "./event-bridge";

/**
 * The policy hook: every tool call is judged by the run's policy chain before it executes.
 * Each rule's answer is logged as a policy_decision event; a deny blocks the call with its
 * reason (the model sees it as the tool result), a modify rewrites the arguments in place.
 */
export function policyGuard(
  run: RunContext,
  bridge: EventBridge,
  hooks: readonly PolicyHook[],
  onDeny: (decision: PolicyDecision) => Promise<void> | void,
): ExtensionFactory {
  const scope: PolicyScope = {
    ...run.record.intent.policy_ctx,
    budget: run.budget,
    app: run.app.app,
    agent_id: run.agentId,
  };
  return (pi: ExtensionAPI) => {
    pi.on("tool_call", async (event) => {
      if (run.control.stopped) {
        bridge.markBlocked(event.toolCallId, "run_stopping");
        return { block: true, reason: `the run is stopping (${run.control.describe()})` };
      }
      const outcome = await evaluatePolicies(
        hooks,
        {
          hook: "tool_call",
          run_id: run.record.run_id,
          tool_call_id: event.toolCallId,
          tool: event.toolName,
          input: event.input,
          workdir: run.workdir,
        },
        scope,
      );
      const subject = subjectOf(event.toolName, event.input, run.workdir);
      for (const decision of outcome.decisions) {
        await run.emitter.emit("policy_decision", {
          hook: "tool_call",
          decision,
          tool: event.toolName,
          tool_call_id: event.toolCallId,
          subject,
        });
      }
      const final = outcome.final;
      if (final.effect === "deny") {
        bridge.markBlocked(event.toolCallId, final.rule_id);
        await onDeny(final);
        return { block: true, reason: `blocked by policy (${final.rule_id}): ${final.reason}` };
      }
      if (final.effect === "modify") replaceInPlace(event.input, outcome.input);
      run.view.toolCallsAllowed += 1;
      return undefined;
    });
  };
}

function subjectOf(tool: string, input: unknown, workdir: string): string | null {
  if (tool === "bash") {
    const command = (input as { command?: unknown })?.command;
    return typeof command === "string" ? redactedExcerpt(command, 1024) : null;
  }
  const path = pathSubject(tool, input, workdir);
  return path === null ? null : redactedExcerpt(path, 1024);
}

/** pi executes the object it handed to the hook, so a modification has to happen in it. */
function replaceInPlace(target: Record<string, unknown>, replacement: unknown): void {
  if (!replacement || typeof replacement !== "object" || Array.isArray(replacement)) return;
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, replacement);
}
