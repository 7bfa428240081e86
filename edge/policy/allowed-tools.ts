import { type PolicyHook, toolAllowed } from "../../contract";

/**
 * The run may use only tools matched by the intent's allow-list and by the app's own list.
 * Tools stay visible to the model; a call outside the lists is refused with the reason, so the
 * model can adapt and every refusal is on the record.
 */
export function allowedToolsRule(appAllowed: readonly string[] | undefined): PolicyHook {
  return (request, scope) => {
    if (request.hook !== "tool_call") return null;
    if (appAllowed === undefined && scope.allowed_tools === undefined) return null;
    if (!toolAllowed(request.tool, appAllowed)) {
      return {
        effect: "deny",
        rule_id: "allowed_tools.app",
        reason: `tool '${request.tool}' is not enabled for this app (allowed: ${list(appAllowed)})`,
      };
    }
    if (!toolAllowed(request.tool, scope.allowed_tools)) {
      return {
        effect: "deny",
        rule_id: "allowed_tools.intent",
        reason: `tool '${request.tool}' is not allowed for this run (allowed: ${list(scope.allowed_tools)})`,
      };
    }
    return {
      effect: "allow",
      rule_id: "allowed_tools",
      reason: `'${request.tool}' is on the allow-list`,
    };
  };
}

function list(patterns: readonly string[] | undefined): string {
  if (patterns === undefined) return "any";
  return patterns.length === 0 ? "none" : patterns.join(", ");
}
