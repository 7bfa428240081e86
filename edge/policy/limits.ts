import type { PolicyHook } from "../../contract";

/**
 * Per-run limits judged per call: the tool-call budget (a call past it is refused; the budget
 * guard then stops the run) and a ceiling on shell timeouts, which is clamped rather than
 * refused so the call still runs, bounded.
 */
export function limitsRule(options: {
  toolCallsUsed: () => number;
  maxBashTimeoutS: number | null;
}): PolicyHook {
  return (request, scope) => {
    if (request.hook !== "tool_call") return null;
    const max = scope.budget.max_tool_calls;
    if (max !== undefined && options.toolCallsUsed() >= max) {
      return {
        effect: "deny",
        rule_id: "limits.max_tool_calls",
        reason: `the run has used its ${max} tool calls`,
      };
    }
    if (request.tool === "bash" && options.maxBashTimeoutS !== null) {
      const input = request.input as { command?: unknown; timeout?: unknown };
      const timeout = typeof input.timeout === "number" ? input.timeout : undefined;
      if (timeout === undefined || timeout > options.maxBashTimeoutS) {
        return {
          effect: "modify",
          rule_id: "limits.bash_timeout",
          reason: `shell timeout clamped to ${options.maxBashTimeoutS}s`,
          modified_input: { ...(input as Record<string, never>), timeout: options.maxBashTimeoutS },
        };
      }
    }
    return null;
  };
}
