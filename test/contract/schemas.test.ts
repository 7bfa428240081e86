import { describe, expect, it } from "vitest";
import {
  AgentEvent,
  check,
  EVENT_KINDS,
  Lease,
  PUBLISHED_SCHEMAS,
  type PublishedSchemaName,
  RunState,
  uuidv7,
} from "../../contract";
import {
  BAD_PAYLOADS,
  event,
  intent,
  PAYLOADS,
  RUN_ID,
  runState,
  skill,
  TS,
  usage,
} from "./fixtures";

const gatewayConfig = {
  providers: [
    { id: "openai", kind: "openai", models: ["gpt-4.1-mini"], key: { secret: "OPENAI_API_KEY" } },
    {
      id: "lab-vllm",
      kind: "openai-compatible",
      base_url: "http://gpu-1:8000/v1",
      models: ["llama"],
    },
  ],
  aliases: { fast: { candidates: ["lab-vllm/llama", "openai/gpt-4.1-mini"], strategy: "latency" } },
  rules: [{ id: "notes-fast", when: { app: ["lab-notes"] }, use: { alias: "fast" } }],
  prices: { version: "2026-06", models: { "openai/gpt-4.1-mini": { input: 0.4, output: 1.6 } } },
  budgets: { tenant: { usd: 100, period: "month" }, run: { usd: 2 } },
};

const key = {
  id: "key_01",
  tenant: "acme",
  role: "operator",
  name: "ci",
  app: null,
  prefix: "aur_op_AbCd",
  created_at: TS,
  created_by: "bootstrap",
  last_used_at: null,
  revoked_at: null,
};
const secret = `aur_op_acme_${"A".repeat(43)}`;
const agentInfo = {
  agent_id: "notes-1",
  app: "lab-notes",
  status: "online",
  skills: [skill],
  capabilities: ["fs"],
  harness: { name: "pi", version: "0.73.1" },
  agent_version: "0.1.0",
  max_concurrency: 1,
  running: [],
  connected_at: TS,
  last_heartbeat_at: TS,
  status_since: TS,
};
const registration = {
  agent_id: "notes-1",
  app: "lab-notes",
  skills: [skill],
  capabilities: ["fs"],
  harness: { name: "pi", version: "0.73.1" },
  agent_version: "0.1.0",
  contract_version: "1.0.0",
};
const audit = {
  id: 1,
  at: TS,
  principal: "key_01",
  role: "admin",
  action: "keys.create",
  target: "key_02",
  outcome: "ok",
  status: 201,
  request_id: "r1",
  detail: null,
};
const stored = { ...event("message"), attempt: null, cursor: 7 };

type Example = { valid: unknown[]; invalid: { value: unknown; path: string }[] };

/** At least one valid and one invalid example per published schema; the invalid one names its path. */
const EXAMPLES: Record<PublishedSchemaName, Example> = {
  Intent: {
    valid: [
      intent,
      { ...intent, idempotency_key: undefined, deadline: undefined, fork_of: { run_id: RUN_ID } },
    ],
    invalid: [
      { value: { ...intent, targets: [] }, path: "targets" },
      { value: { ...intent, targets: [{}] }, path: "targets[0]" },
      { value: { ...intent, type: "Bad Type" }, path: "type" },
      { value: { ...intent, deadline: "tomorrow" }, path: "deadline" },
      {
        value: { ...intent, policy_ctx: { ...intent.policy_ctx, budget: { max_tokens: -5 } } },
        path: "policy_ctx.budget.max_tokens",
      },
    ],
  },
  IntentRequest: {
    valid: [{ targets: [{ app: "lab-notes" }], params: { prompt: "hi" } }],
    invalid: [
      { value: { targets: [{ app: "lab-notes" }], idempotencyKey: "typo" }, path: "$" },
      { value: { targets: [{ app: "lab-notes" }], budget: { max_tokenz: 5 } }, path: "budget" },
      { value: { targets: [{ agent_id: "x", app: "y" }] }, path: "targets[0]" },
    ],
  },
  Skill: {
    valid: [skill, { ...skill, tools: undefined }],
    invalid: [
      { value: { ...skill, name: "Summarise Notes" }, path: "name" },
      { value: { ...skill, version: "one" }, path: "version" },
    ],
  },
  ToolCall: {
    valid: [
      {
        tool_call_id: "c1",
        tool: "http.get_status",
        input_schema: { type: "object" },
        input: { id: 3 },
        result: { status: "ok", output: { up: true } },
        duration_ms: 12,
      },
      {
        tool_call_id: "c2",
        tool: "bash",
        input_schema: {},
        input: "ls",
        result: { status: "error", message: "exit 1" },
      },
    ],
    invalid: [
      {
        value: {
          tool_call_id: "c1",
          tool: "bash",
          input_schema: {},
          input: 1,
          result: { status: "maybe" },
        },
        path: "result.status",
      },
      {
        value: { tool_call_id: "c1", tool: "has space", input_schema: {}, input: 1 },
        path: "tool",
      },
    ],
  },
  RunState: {
    valid: [
      runState,
      { ...runState, status: "pending", agent_id: null, lease: null, tree_ref: null, attempt: 0 },
    ],
    invalid: [
      { value: { ...runState, status: "paused" }, path: "status" },
      { value: { ...runState, targets: [{}] }, path: "targets[0]" },
      { value: { ...runState, usage: { ...usage, tokens_in: -1 } }, path: "usage.tokens_in" },
    ],
  },
  RetryPolicy: {
    valid: [{}, { max_attempts: 5, backoff: "linear", retryable: ["infrastructure"] }],
    invalid: [
      { value: { max_attempts: 0 }, path: "max_attempts" },
      { value: { retryable: ["flaky"] }, path: "retryable[0]" },
    ],
  },
  AgentEvent: {
    valid: EVENT_KINDS.map((kind) => event(kind)),
    invalid: [
      { value: { ...event("message"), kind: "telepathy" }, path: "kind" },
      { value: { ...event("message"), event_id: "not-a-uuid" }, path: "event_id" },
      {
        value: { ...event("message"), event_id: "0190c8b1-7a4e-4b2c-8d3e-123456789abc" },
        path: "event_id",
      },
      { value: { ...event("message"), seq: -1 }, path: "seq" },
    ],
  },
  StoredEvent: {
    valid: [stored],
    invalid: [{ value: { ...stored, cursor: 0 }, path: "cursor" }],
  },
  ProjectionEvent: {
    valid: [
      {
        event_id: uuidv7(),
        domain: "memory",
        projection: "memory.runs",
        payload: { run_id: RUN_ID },
        ts: TS,
        source_event_id: null,
      },
    ],
    invalid: [
      {
        value: {
          event_id: uuidv7(),
          domain: "finance",
          projection: "x",
          payload: {},
          ts: TS,
          source_event_id: null,
        },
        path: "domain",
      },
    ],
  },
  PolicyDecision: {
    valid: [
      { effect: "allow", rule_id: "default", reason: "" },
      {
        effect: "modify",
        rule_id: "clamp",
        reason: "timeout clamped",
        modified_input: { timeout: 60 },
      },
    ],
    invalid: [
      { value: { effect: "shrug", rule_id: "x", reason: "y" }, path: "effect" },
      { value: { effect: "deny", rule_id: "x", reason: "" }, path: "reason" },
    ],
  },
  AgentRegistration: {
    valid: [registration],
    invalid: [{ value: { ...registration, agent_id: "Has Space" }, path: "agent_id" }],
  },
  EdgeMessage: {
    valid: [
      { type: "hello", registration },
      { type: "heartbeat", status: "busy", running: [{ run_id: RUN_ID, attempt: 1 }] },
      { type: "events", batch_id: "b1", events: [event("message")] },
      { type: "ack", run_id: RUN_ID, attempt: 1 },
      { type: "claim", run_id: RUN_ID, attempt: 1 },
      {
        type: "refuse",
        run_id: RUN_ID,
        attempt: 1,
        reason: "invalid_intent",
        message: "targets missing",
      },
      { type: "drain" },
      { type: "goodbye", reason: "SIGTERM" },
    ],
    invalid: [
      { value: { type: "heartbeat", status: "offline", running: [] }, path: "status" },
      { value: { type: "events", batch_id: "b1", events: [] }, path: "events" },
      { value: { type: "shout" }, path: "type" },
    ],
  },
  CentralMessage: {
    valid: [
      {
        type: "welcome",
        tenant: "acme",
        agent_id: "notes-1",
        contract_version: "1.0.0",
        heartbeat_interval_ms: 30_000,
        lease_ms: 90_000,
        server_time: TS,
      },
      { type: "dispatch", run_id: RUN_ID, attempt: 1, intent, ack_timeout_ms: 5000 },
      { type: "claimed", run_id: RUN_ID, attempt: 1, lease_expires_at: TS },
      { type: "claim_rejected", run_id: RUN_ID, attempt: 1, reason: "run was cancelled" },
      { type: "lease", run_id: RUN_ID, attempt: 1, lease_expires_at: TS },
      { type: "events_ack", batch_id: "b1", stored: ["x"], duplicates: 0, rejected: [] },
      { type: "cancel", run_id: RUN_ID, reason: "user" },
      { type: "error", code: "bad_frame", message: "not JSON", fatal: false },
    ],
    invalid: [
      {
        value: { type: "claimed", run_id: RUN_ID, attempt: 0, lease_expires_at: TS },
        path: "attempt",
      },
    ],
  },
  EventsPage: {
    valid: [{ events: [stored], next_cursor: 7, has_more: false }],
    invalid: [
      {
        value: { events: [{ ...stored, cursor: -3 }], next_cursor: 7, has_more: false },
        path: "events[0].cursor",
      },
    ],
  },
  IngestResult: {
    valid: [{ stored: 2, duplicates: 1, rejected: [{ index: 3, event_id: null, issues: [] }] }],
    invalid: [{ value: { stored: -1, duplicates: 0, rejected: [] }, path: "stored" }],
  },
  AgentInfo: {
    valid: [agentInfo],
    invalid: [{ value: { ...agentInfo, status: "asleep" }, path: "status" }],
  },
  ApiError: {
    valid: [
      {
        error: {
          code: "invalid_request",
          message: "bad",
          issues: [{ path: "targets", expected: "array", message: "m", code: "c" }],
        },
      },
    ],
    invalid: [{ value: { error: { message: "no code" } }, path: "error.code" }],
  },
  TenantCreateRequest: {
    valid: [{ tenant: "acme" }, { tenant: "lab-2", name: "Lab 2" }],
    invalid: [
      { value: { tenant: "-acme" }, path: "tenant" },
      { value: { tenant: "acme", owner: "me" }, path: "$" },
    ],
  },
  TenantCreated: {
    valid: [
      {
        tenant: "acme",
        name: null,
        created_at: TS,
        admin_key: { ...key, role: "admin", key: secret },
      },
    ],
    invalid: [
      {
        value: { tenant: "acme", name: null, created_at: TS, admin_key: { ...key, key: "short" } },
        path: "admin_key.key",
      },
    ],
  },
  KeyCreateRequest: {
    valid: [{ role: "agent", name: "edge lab-1", app: "lab-notes" }],
    invalid: [
      { value: { role: "root", name: "x" }, path: "role" },
      { value: { role: "viewer" }, path: "name" },
    ],
  },
  KeyCreated: {
    valid: [{ ...key, key: secret }],
    invalid: [{ value: { ...key }, path: "key" }],
  },
  KeyInfo: {
    valid: [key],
    invalid: [{ value: { ...key, created_at: "yesterday" }, path: "created_at" }],
  },
  AuditEntry: {
    valid: [audit],
    invalid: [{ value: { ...audit, outcome: "meh" }, path: "outcome" }],
  },
  AuditList: {
    valid: [{ entries: [audit], next: null }],
    invalid: [{ value: { entries: [{ ...audit, id: "one" }], next: null }, path: "entries[0].id" }],
  },
  KeyList: {
    valid: [{ keys: [key] }],
    invalid: [{ value: { keys: [{ ...key, role: "god" }] }, path: "keys[0].role" }],
  },
  AgentList: {
    valid: [{ agents: [agentInfo], next: null }],
    invalid: [
      { value: { agents: [{ ...agentInfo, running: ["nope"] }] }, path: "agents[0].running[0]" },
    ],
  },
  IntentAccepted: {
    valid: [{ intent, run: runState, duplicate: false }],
    invalid: [{ value: { intent, run: runState }, path: "duplicate" }],
  },
  RunList: {
    valid: [{ runs: [runState], next: null }],
    invalid: [
      { value: { runs: [{ ...runState, attempt: -1 }], next: null }, path: "runs[0].attempt" },
    ],
  },
  ForkRequest: {
    valid: [{}, { entry_id: "e5" }, { entry_id: "e5", prompt: "try it another way" }],
    invalid: [
      { value: { entry_id: "" }, path: "entry_id" },
      { value: { prompt: "" }, path: "prompt" },
    ],
  },
  IntentInfo: {
    valid: [
      { intent, status: "active", principal: "key_01", run: runState },
      { intent, status: "queued", principal: "key_01", run: null },
    ],
    invalid: [
      { value: { intent, status: "paused", principal: "key_01", run: null }, path: "status" },
    ],
  },
  IntentList: {
    valid: [{ intents: [], next: null }],
    invalid: [{ value: { intents: [{ intent }], next: null }, path: "intents[0].status" }],
  },
  CancelRequest: {
    valid: [{}, { reason: "no longer needed" }],
    invalid: [{ value: { reason: "x", force: true }, path: "$" }],
  },
  IngestRequest: {
    valid: [{ events: [event("message")] }, { events: [{ not: "an event yet" }] }],
    invalid: [{ value: { events: [] }, path: "events" }],
  },
  TenantSettings: {
    valid: [
      {},
      { heartbeat: { interval_ms: 1_000 }, dispatch: { lease_ms: 5_000, ack_timeout_ms: 500 } },
    ],
    invalid: [
      {
        value: { dispatch: { lease_ms: 1_000 }, heartbeat: { interval_ms: 2_000 } },
        path: "dispatch.lease_ms",
      },
      {
        value: { heartbeat: { degraded_after: 2, disconnected_after: 2 } },
        path: "heartbeat.disconnected_after",
      },
      { value: { archive: { retention_ms: -1 } }, path: "archive.retention_ms" },
    ],
  },
  Health: {
    valid: [{ ok: true, contract: "1.0.0" }],
    invalid: [{ value: { ok: "yes", contract: "1.0.0" }, path: "ok" }],
  },
  GatewayConfig: {
    valid: [{}, gatewayConfig],
    invalid: [
      {
        value: { ...gatewayConfig, aliases: { fast: { candidates: ["openai/nope"] } } },
        path: "aliases.fast.candidates[0]",
      },
      {
        value: { providers: [{ id: "x", kind: "openai", models: ["m"], key: { value: "short" } }] },
        path: "providers[0].key.value",
      },
      { value: { rules: [{ id: "r", use: { alias: "missing" } }] }, path: "rules[0].use.alias" },
      // A valid alias name that is also a member of every object is still undefined.
      {
        value: { rules: [{ id: "r", use: { alias: "constructor" } }] },
        path: "rules[0].use.alias",
      },
    ],
  },
  GatewayConfigView: {
    valid: [
      {
        ...gatewayConfig,
        providers: [
          { ...gatewayConfig.providers[0], key: { stored: true, set_at: TS } },
          gatewayConfig.providers[1],
        ],
        version: 3,
        updated_at: TS,
      },
    ],
    invalid: [
      {
        value: {
          ...gatewayConfig,
          providers: [
            { ...gatewayConfig.providers[0], key: { value: "sk-never-shown-0123" } },
            gatewayConfig.providers[1],
          ],
          version: 1,
          updated_at: null,
        },
        path: "providers[0].key",
      },
    ],
  },
  GatewayStatus: {
    valid: [
      {
        config_version: 1,
        providers: [
          {
            id: "openai",
            kind: "openai",
            circuit: "open",
            circuit_since: TS,
            next_probe_at: TS,
            consecutive_failures: 5,
            latency_ms: 812.5,
            ttft_ms: null,
            error_rate: 0.4,
            calls: 20,
            failures: 8,
            last_error: "500",
            last_error_at: TS,
          },
        ],
        budgets: [],
        rates: [],
        cache: { entries: 0, bytes: 0, hits: 0 },
        prices: { version: "2026-06", versions: [{ version: "2026-06", created_at: TS }] },
      },
    ],
    invalid: [
      {
        value: {
          config_version: 1,
          providers: [],
          budgets: [],
          rates: [],
          cache: { entries: -1, bytes: 0, hits: 0 },
          prices: { version: null, versions: [] },
        },
        path: "cache.entries",
      },
    ],
  },
  LimitRefusal: {
    valid: [
      {
        kind: "budget",
        scope: "app",
        subject: "lab-notes",
        dimension: "usd",
        limit: 5,
        used: 4.99,
        requested: 0.05,
        period: "day",
        retry_after_ms: null,
      },
    ],
    invalid: [
      {
        value: {
          kind: "quota",
          scope: "app",
          subject: "x",
          dimension: "usd",
          limit: 1,
          used: 1,
          requested: 1,
          period: null,
          retry_after_ms: null,
        },
        path: "kind",
      },
    ],
  },
};

describe("published schemas", () => {
  it("every published schema has examples", () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(Object.keys(PUBLISHED_SCHEMAS).sort());
  });

  for (const [name, examples] of Object.entries(EXAMPLES) as [PublishedSchemaName, Example][]) {
    describe(name, () => {
      const schema = PUBLISHED_SCHEMAS[name];
      examples.valid.forEach((value, i) => {
        it(`accepts valid example ${i}`, () => {
          const result = check(schema, value);
          expect(result.ok ? [] : result.issues).toEqual([]);
        });
      });
      examples.invalid.forEach(({ value, path }, i) => {
        it(`refuses invalid example ${i}, naming ${path}`, () => {
          const result = check(schema, value);
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.issues.map((issue) => issue.path)).toContain(path);
          for (const issue of result.issues) {
            expect(issue.expected.length).toBeGreaterThan(0);
            expect(issue.message.length).toBeGreaterThan(0);
          }
        });
      });
    });
  }
});

describe("AgentEvent kinds", () => {
  for (const kind of EVENT_KINDS) {
    it(`${kind}: valid payload parses and keeps its kind`, () => {
      const parsed = check(AgentEvent, event(kind));
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(parsed.value.kind).toBe(kind);
    });
    it(`${kind}: invalid payload is refused at ${BAD_PAYLOADS[kind].path}`, () => {
      const parsed = check(AgentEvent, event(kind, BAD_PAYLOADS[kind].payload));
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.issues.map((i) => i.path)).toContain(BAD_PAYLOADS[kind].path);
    });
  }

  it("a payload of another kind does not pass under this kind", () => {
    const parsed = check(AgentEvent, event("model_call", PAYLOADS.tool_call_finished));
    expect(parsed.ok).toBe(false);
  });

  it("fills defaults an emitter may leave out", () => {
    const parsed = check(AgentEvent, event("model_call"));
    expect(parsed.ok && parsed.value.kind === "model_call" && parsed.value.payload).toMatchObject({
      cache_hit: false,
      scripted: false,
      cache_read_tokens: 0,
      operation: "chat",
    });
    expect(parsed.ok && parsed.value.attempt).toBeNull();
  });

  it("refuses a run attempt past a 32-bit integer, in the envelope and in run payloads", () => {
    const big = 2 ** 31;
    expect(check(AgentEvent, { ...event("run_dispatched"), attempt: big - 1 }).ok).toBe(true);
    // The envelope, and every payload that carries a run's attempt (a plan step's attempt counts
    // the step's tries, a number of its own).
    const withAttempt = EVENT_KINDS.filter(
      (kind) =>
        !kind.startsWith("plan_") &&
        typeof (PAYLOADS[kind] as { attempt?: unknown }).attempt === "number",
    );
    expect(withAttempt).toEqual(
      expect.arrayContaining(["run_dispatched", "run_started", "run_retrying", "lease_expired"]),
    );
    const cases: [unknown, string][] = [
      [{ ...event("run_dispatched"), attempt: big }, "attempt"],
      ...withAttempt.map((kind): [unknown, string] => [
        event(kind, { ...(PAYLOADS[kind] as object), attempt: big }),
        "payload.attempt",
      ]),
    ];
    // A run's state and its lease hold the same attempt.
    expect(check(RunState, { ...runState, attempt: big }).ok).toBe(false);
    expect(check(RunState, { ...runState, attempt: big - 1 }).ok).toBe(true);
    expect(check(Lease, { agent_id: "notes-1", attempt: big, expires_at: TS }).ok).toBe(false);
    for (const [value, path] of cases) {
      const parsed = check(AgentEvent, value);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.issues[0]!.path).toBe(path);
    }
  });

  it("an unknown kind names the allowed kinds", () => {
    const parsed = check(AgentEvent, { ...event("message"), kind: "telepathy" });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.issues[0]!.path).toBe("kind");
      expect(parsed.issues[0]!.expected).toContain('"run_started"');
    }
  });
});
