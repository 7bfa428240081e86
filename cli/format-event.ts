import type { AgentEvent } from "../contract";

/**
 * One line per event, for people watching a run. Events that point into the run's session
 * tree show the entry in brackets, as `runs fork --at` takes it.
 */
export function formatEvent(e: AgentEvent): string {
  const time = e.ts.slice(11, 23);
  const entry = entryOf(e);
  return `${time} ${e.agent_id.padEnd(14)} ${e.kind.padEnd(18)} ${entry ? `[${entry}] ` : ""}${summary(e)}`.trimEnd();
}

function entryOf(e: AgentEvent): string | null {
  switch (e.kind) {
    case "message":
    case "compaction":
      return e.payload.entry_id;
    case "run_completed":
    case "run_failed":
    case "run_cancelled":
      return e.payload.tree_ref?.entry_id ?? null;
    default:
      return null;
  }
}

function summary(e: AgentEvent): string {
  switch (e.kind) {
    case "run_dispatched":
      return `attempt ${e.payload.attempt} -> ${e.payload.agent_id}`;
    case "run_started":
      return `attempt ${e.payload.attempt} on ${e.payload.app}${e.payload.model ? ` with ${e.payload.model}` : ""}`;
    case "run_completed":
      return `${e.payload.duration_ms} ms, ${tokens(e.payload.usage)}${e.payload.result ? `: ${oneLine(e.payload.result)}` : ""}`;
    case "run_failed":
      return `${e.payload.error.reason}: ${oneLine(e.payload.error.message)}`;
    case "run_cancelled":
      return e.payload.reason;
    case "plan_status":
      return `plan ${e.payload.plan_id.slice(0, 13)} ${e.payload.status} (v${e.payload.version}): ${oneLine(e.payload.reason)}`;
    case "plan_version":
      return `plan ${e.payload.plan_id.slice(0, 13)} v${e.payload.version} (${e.payload.round}, ${e.payload.planner}): ${e.payload.steps.map((s) => s.id).join(", ")}`;
    case "plan_step":
      return `plan ${e.payload.plan_id.slice(0, 13)} step ${e.payload.step_id} ${e.payload.status}${e.payload.attempt ? ` (attempt ${e.payload.attempt})` : ""}${e.payload.error ? `: ${oneLine(e.payload.error.message)}` : ""}`;
    case "approval_requested":
      return `approval ${e.payload.approval_id} requested${e.payload.deadline ? ` (until ${e.payload.deadline})` : ""}`;
    case "approval_decided":
      return `approval ${e.payload.approval_id} ${e.payload.status}${e.payload.by ? ` by ${e.payload.by}` : ""}`;
    case "run_retrying":
      return `attempt ${e.payload.attempt} ${e.payload.cause}: ${e.payload.error.reason}, retry at ${e.payload.retry_at}`;
    case "lease_expired":
      return `${e.payload.agent_id} attempt ${e.payload.attempt}, next: ${e.payload.next}`;
    case "message":
      return `${e.payload.role}: ${oneLine(e.payload.text)}`;
    case "turn_started":
      return `turn ${e.payload.turn}`;
    case "turn_completed":
      return `turn ${e.payload.turn}, ${e.payload.tool_calls} tool calls`;
    case "compaction":
      return `${e.payload.tokens_before} tokens before (${e.payload.reason})`;
    case "model_call":
      return `${e.payload.provider}/${e.payload.response_model ?? e.payload.request_model}${e.payload.scripted ? " [scripted]" : ""} in=${e.payload.input_tokens} out=${e.payload.output_tokens} ${e.payload.latency_ms} ms${e.payload.cost_usd === null ? " unpriced" : ` $${e.payload.cost_usd.toFixed(6)}`}`;
    case "tool_call_started":
      return `${e.payload.tool} ${oneLine(e.payload.arguments)}`;
    case "tool_call_progress":
      return `${e.payload.tool} ${oneLine(e.payload.partial)}`;
    case "tool_call_finished":
      return `${e.payload.tool} ${e.payload.status} ${e.payload.duration_ms} ms${e.payload.error_message ? `: ${oneLine(e.payload.error_message)}` : ""}`;
    case "policy_decision":
      return `${e.payload.decision.effect} ${e.payload.tool ?? e.payload.hook} (${e.payload.decision.rule_id}: ${e.payload.decision.reason})`;
    case "budget":
      return `${e.payload.dimension} ${e.payload.state}: ${e.payload.used}/${e.payload.limit}`;
    case "loop_detected":
      return `${e.payload.tool} repeated ${e.payload.repeats}x -> ${e.payload.action}`;
    case "heartbeat":
      return `${e.payload.status}, ${e.payload.running.length} running`;
    case "error":
      return `${e.payload.code}: ${oneLine(e.payload.message)}`;
  }
}

function tokens(u: { tokens_in: number; tokens_out: number; cost_usd: number | null }): string {
  return `${u.tokens_in}/${u.tokens_out} tokens${u.cost_usd === null ? ", unpriced" : `, $${u.cost_usd.toFixed(6)}`}`;
}

function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
