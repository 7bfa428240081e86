import {
  type AgentEventInput,
  type EventKind,
  type EventPayload,
  emptyUsage,
  uuidv7,
} from "../../contract";

export const TS = "2026-11-21T12:00:00.000Z";
export const RUN_ID = uuidv7();
export const INTENT_ID = uuidv7();
export const PLAN_ID = uuidv7();

export const usage = {
  ...emptyUsage(),
  tokens_in: 120,
  tokens_out: 40,
  cost_usd: 0.0012,
  model_calls: 2,
  tool_calls: 1,
};
export const treeRef = { session_file: "sessions/lab-notes/run.jsonl", entry_id: "a1b2c3d4" };

/** A valid payload for every event kind. */
export const PAYLOADS: { [K in EventKind]: unknown } = {
  run_dispatched: { intent_id: INTENT_ID, agent_id: "notes-1", attempt: 1, ack_deadline: TS },
  run_started: {
    intent_id: INTENT_ID,
    intent_type: "task",
    app: "lab-notes",
    attempt: 1,
    model: "faux/faux-1",
    tree_ref: treeRef,
  },
  run_completed: { result: "done", usage, duration_ms: 1200, tree_ref: treeRef },
  run_failed: {
    error: {
      category: "budget_exceeded",
      reason: "budget_exceeded",
      message: "token budget 1000 reached",
    },
    usage,
    duration_ms: 900,
    tree_ref: treeRef,
  },
  run_cancelled: { reason: "cancelled by user", by: "key_123", usage, tree_ref: null },
  run_retrying: {
    attempt: 1,
    cause: "failed",
    error: { category: "infrastructure", reason: "tool_host_down", message: "host down" },
    retry_at: TS,
  },
  lease_expired: { agent_id: "notes-1", attempt: 1, next: "retry", retry_at: TS },
  message: { role: "assistant", text: "I will list the notes.", entry_id: "e1", turn: 1 },
  turn_started: { turn: 1 },
  turn_completed: { turn: 1, tool_calls: 2, stop_reason: "toolUse" },
  compaction: { tokens_before: 90_000, reason: "threshold", entry_id: "e9" },
  model_call: {
    call_id: "mc-1",
    provider: "openai",
    request_model: "gpt-4.1",
    response_model: "gpt-4.1-2026-04-14",
    alias: "smart",
    response_id: "chatcmpl-1",
    finish_reasons: ["stop"],
    stream: true,
    input_tokens: 100,
    output_tokens: 20,
    cost_usd: 0.001,
    latency_ms: 840,
    ttft_ms: 210,
    attempts: [
      {
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        outcome: "error",
        error_type: "429",
        http_status: 429,
        latency_ms: 30,
      },
      {
        provider: "openai",
        model: "gpt-4.1",
        outcome: "ok",
        error_type: null,
        http_status: 200,
        latency_ms: 800,
      },
    ],
    observer: "gateway",
  },
  tool_call_started: {
    tool_call_id: "call-1",
    tool: "read",
    arguments: '{"path":"notes.md"}',
    args_digest: "0123456789abcdef",
  },
  tool_call_progress: { tool_call_id: "call-1", tool: "bash", partial: "line 1\n" },
  tool_call_finished: {
    tool_call_id: "call-1",
    tool: "read",
    status: "ok",
    result: "# Notes",
    error_message: null,
    error_type: null,
    duration_ms: 3,
    blocked_by: null,
  },
  policy_decision: {
    hook: "tool_call",
    decision: {
      effect: "deny",
      rule_id: "path_guard",
      reason: "/etc/passwd is outside the workdir",
    },
    tool: "read",
    tool_call_id: "call-2",
    subject: "/etc/passwd",
  },
  budget: { dimension: "tokens", used: 1000, limit: 1000, state: "exceeded" },
  loop_detected: {
    tool: "bash",
    args_digest: "0123456789abcdef",
    repeats: 4,
    threshold: 3,
    action: "steer",
    failing: true,
  },
  heartbeat: {
    status: "busy",
    running: [RUN_ID],
    outbox_pending: 0,
    load: { cpu: 0.3, rss_mb: 180 },
  },
  error: {
    category: "infrastructure",
    code: "central_unreachable",
    message: "connection refused",
    fatal: false,
  },
  plan_status: {
    plan_id: PLAN_ID,
    status: "running",
    version: 1,
    reason: "version 1: 2 steps",
    error: null,
    usage,
  },
  plan_version: {
    plan_id: PLAN_ID,
    version: 1,
    round: "initial",
    planner: "model",
    steps: [
      {
        id: "survey",
        type: "task",
        targets: ["app lab-notes"],
        depends_on: [],
        action: null,
        requires_approval: false,
      },
    ],
  },
  plan_step: {
    plan_id: PLAN_ID,
    step_id: "survey",
    version: 1,
    status: "running",
    attempt: 1,
    run_id: RUN_ID,
    error: null,
  },
  approval_requested: {
    approval_id: "a-1",
    plan_id: PLAN_ID,
    step_id: "survey",
    deadline: null,
  },
  approval_decided: {
    approval_id: "a-1",
    plan_id: PLAN_ID,
    step_id: "survey",
    status: "approved",
    by: "key_1",
    reason: null,
  },
};

/** An invalid payload for every kind, and the path the error must name. */
export const BAD_PAYLOADS: { [K in EventKind]: { payload: unknown; path: string } } = {
  run_dispatched: {
    payload: { ...(PAYLOADS.run_dispatched as object), attempt: 0 },
    path: "payload.attempt",
  },
  run_started: {
    payload: { ...(PAYLOADS.run_started as object), app: "Lab Notes" },
    path: "payload.app",
  },
  run_completed: {
    payload: { ...(PAYLOADS.run_completed as object), duration_ms: -1 },
    path: "payload.duration_ms",
  },
  run_failed: {
    payload: {
      ...(PAYLOADS.run_failed as object),
      error: { category: "oops", reason: "x", message: "m" },
    },
    path: "payload.error.category",
  },
  run_cancelled: {
    payload: { ...(PAYLOADS.run_cancelled as object), reason: "" },
    path: "payload.reason",
  },
  run_retrying: {
    payload: { ...(PAYLOADS.run_retrying as object), cause: "bored" },
    path: "payload.cause",
  },
  lease_expired: {
    payload: { ...(PAYLOADS.lease_expired as object), next: "later" },
    path: "payload.next",
  },
  message: { payload: { ...(PAYLOADS.message as object), role: "robot" }, path: "payload.role" },
  turn_started: { payload: { turn: 1.5 }, path: "payload.turn" },
  turn_completed: { payload: { turn: 1, stop_reason: null }, path: "payload.tool_calls" },
  compaction: {
    payload: { ...(PAYLOADS.compaction as object), tokens_before: "many" },
    path: "payload.tokens_before",
  },
  model_call: {
    payload: { ...(PAYLOADS.model_call as object), cost_usd: -0.5 },
    path: "payload.cost_usd",
  },
  tool_call_started: {
    payload: { ...(PAYLOADS.tool_call_started as object), args_digest: "not-hex" },
    path: "payload.args_digest",
  },
  tool_call_progress: { payload: { tool_call_id: "c", tool: "bash" }, path: "payload.partial" },
  tool_call_finished: {
    payload: { ...(PAYLOADS.tool_call_finished as object), status: "meh" },
    path: "payload.status",
  },
  policy_decision: {
    payload: {
      ...(PAYLOADS.policy_decision as object),
      decision: { effect: "deny", rule_id: "r", reason: "" },
    },
    path: "payload.decision.reason",
  },
  budget: {
    payload: { ...(PAYLOADS.budget as object), dimension: "vibes" },
    path: "payload.dimension",
  },
  loop_detected: {
    payload: { ...(PAYLOADS.loop_detected as object), action: "ignore" },
    path: "payload.action",
  },
  heartbeat: {
    payload: { ...(PAYLOADS.heartbeat as object), status: "sleepy" },
    path: "payload.status",
  },
  error: { payload: { ...(PAYLOADS.error as object), message: "" }, path: "payload.message" },
  plan_status: {
    payload: { ...(PAYLOADS.plan_status as object), status: "sleeping" },
    path: "payload.status",
  },
  plan_version: {
    payload: { ...(PAYLOADS.plan_version as object), round: "third" },
    path: "payload.round",
  },
  plan_step: {
    payload: { ...(PAYLOADS.plan_step as object), attempt: -1 },
    path: "payload.attempt",
  },
  approval_requested: {
    payload: { ...(PAYLOADS.approval_requested as object), deadline: "tomorrow" },
    path: "payload.deadline",
  },
  approval_decided: {
    payload: { ...(PAYLOADS.approval_decided as object), status: "maybe" },
    path: "payload.status",
  },
};

export function event<K extends EventKind>(
  kind: K,
  payload: unknown = PAYLOADS[kind],
  seq = 0,
): AgentEventInput {
  return {
    event_id: uuidv7(),
    tenant: "acme",
    run_id: kind === "heartbeat" ? null : RUN_ID,
    agent_id: "notes-1",
    source:
      kind === "run_dispatched" ||
      kind === "lease_expired" ||
      kind === "run_retrying" ||
      kind.startsWith("plan_") ||
      kind.startsWith("approval_")
        ? "central"
        : "edge",
    seq,
    kind,
    payload: payload as EventPayload<K>,
    ts: TS,
  } as AgentEventInput;
}

export const intent = {
  intent_id: INTENT_ID,
  type: "task",
  params: { prompt: "summarise today's notes" },
  policy_ctx: {
    tenant: "acme",
    principal: "key_1",
    budget: { max_tokens: 10_000, max_cost_usd: 0.5, max_wall_ms: 600_000 },
    allowed_tools: ["read", "bash", "http.*"],
  },
  targets: [{ app: "lab-notes" }, { agent_id: "notes-1" }],
  idempotency_key: "daily-2026-11-21",
  deadline: TS,
  created_at: TS,
};

export const skill = {
  name: "summarise-notes",
  description: "Summarise lab notes in the workdir.",
  app: "lab-notes",
  tools: ["read", "bash"],
  version: "1.0.0",
};

export const runState = {
  run_id: RUN_ID,
  intent_id: INTENT_ID,
  tenant: "acme",
  app: "lab-notes",
  agent_id: "notes-1",
  targets: [{ app: "lab-notes" }],
  tree_ref: treeRef,
  status: "running",
  attempt: 1,
  lease: { agent_id: "notes-1", attempt: 1, expires_at: TS },
  timings: { created_at: TS, dispatched_at: TS, started_at: TS, finished_at: null },
  usage,
  error: null,
  result: null,
};
