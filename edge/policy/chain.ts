import type { BudgetLimits, PolicyHook } from "../../contract";
import type { ExecutionAdapter } from "../adapters/adapter";
import type { AppFolder } from "../config/app-folder";
import { allowedToolsRule } from "./allowed-tools";
import { limitsRule } from "./limits";
import { pathGuardRule } from "./path-guard";
import { BUILTIN_SHELL_DENY, shellGuardRule } from "./shell-guard";

/**
 * The tool_call policy chain of a run, in evaluation order: allow-lists (the app's and the
 * intent's, then the adapters' own), per-run limits (which may clamp a shell timeout), the path
 * guard, the shell guard. The first deny wins.
 */
export function policyChain(
  app: AppFolder,
  toolCallsUsed: () => number,
  adapters: readonly ExecutionAdapter[] = [],
  withheld: () => readonly string[] = () => [],
): PolicyHook[] {
  const policy = app.config.policy;
  return [
    allowedToolsRule(policy.allowed_tools),
    ...adapters.flatMap((a) => (a.policy ? [a.policy] : [])),
    limitsRule({ toolCallsUsed, maxBashTimeoutS: policy.max_bash_timeout_s }),
    pathGuardRule(app.readRoots, withheld),
    shellGuardRule({
      deny: [
        ...(policy.shell.builtin_deny ? BUILTIN_SHELL_DENY : []),
        ...policy.shell.deny.map((r) => ({
          id: r.id,
          pattern: new RegExp(r.pattern),
          reason: r.reason,
        })),
      ],
      allow: policy.shell.allow?.map((source) => new RegExp(source)) ?? null,
    }),
  ];
}

/** Per dimension, the lower of the intent's limit and the app's ceiling. */
export function effectiveBudget(intent: BudgetLimits, app: BudgetLimits): BudgetLimits {
  const out: Record<string, number> = {};
  for (const key of [
    "max_tokens",
    "max_cost_usd",
    "max_wall_ms",
    "max_tool_calls",
    "max_turns",
  ] as const) {
    const values = [intent[key], app[key]].filter((v): v is number => v !== undefined);
    if (values.length > 0) out[key] = Math.min(...values);
  }
  return out as BudgetLimits;
}
