import { appendFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { type AgentEvent, EVENT_KINDS, ProjectionEvent, type StoredEvent } from "../../../contract";
import {
  DirectorySource,
  type EventSource,
  MAX_LINE_BYTES,
  rebuild,
  rebuildFrom,
  sync,
} from "../../../lakehouse";
import {
  count,
  LogBuilder,
  localLake,
  projectionDigest,
  tableRows,
  tempDir,
  withCursors,
  withLake,
  writeLog,
} from "../fixture";

const usage = (tokens_in: number, tokens_out: number, cost_usd: number | null) => ({
  tokens_in,
  tokens_out,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  cost_usd,
  model_calls: 1,
  tool_calls: 2,
});
const tree = (run: string) => ({ session_file: `sessions/${run}.jsonl`, entry_id: "e9" });

/**
 * A log with every event kind: one run that does everything, one that fails, one cancelled by
 * central while it waited to be dispatched again, one whose lease expired and that completed on
 * a second attempt, plus agent-level events and a plan's events outside any run.
 */
function everyKindLog() {
  const log = new LogBuilder();
  const runs = { full: log.id(), failed: log.id(), cancelled: log.id(), retried: log.id() };
  const intents = { full: log.id(), failed: log.id(), cancelled: log.id(), retried: log.id() };
  const r = (run_id: string, attempt = 1) => ({ run_id, attempt });
  const central = (run_id: string, attempt: number | null = 1) => ({
    run_id,
    attempt,
    agent_id: "central",
  });

  log.add(
    "run_dispatched",
    {
      intent_id: intents.full,
      agent_id: "lab-notes-1",
      attempt: 1,
      ack_deadline: "2026-06-01T10:01:00.000Z",
    },
    central(runs.full),
  );
  log.add(
    "run_started",
    {
      intent_id: intents.full,
      intent_type: "notes.summarize",
      app: "lab-notes",
      attempt: 1,
      model: "anthropic/claude-sonnet-4-5",
      tree_ref: { session_file: "s.jsonl", entry_id: null },
      resumed: false,
      forked_from: null,
    },
    r(runs.full),
  );
  log.add("turn_started", { turn: 1 }, r(runs.full));
  log.add(
    "message",
    { role: "user", text: "summarise today's notes", entry_id: "e1", turn: 1 },
    r(runs.full),
  );
  log.add(
    "model_call",
    {
      call_id: "mc-1",
      operation: "chat",
      provider: "openai",
      request_model: "claude-sonnet-4-5",
      response_model: "gpt-4.1",
      alias: "smart",
      response_id: "resp-1",
      finish_reasons: ["tool_calls"],
      stream: true,
      input_tokens: 1200,
      output_tokens: 80,
      cache_read_tokens: 600,
      cache_write_tokens: 0,
      cost_usd: 0.0031,
      latency_ms: 900,
      ttft_ms: 250,
      cache_hit: false,
      attempts: [
        {
          provider: "anthropic",
          model: "claude-sonnet-4-5",
          outcome: "error",
          error_type: "429",
          http_status: 429,
          latency_ms: 40,
        },
        {
          provider: "openai",
          model: "gpt-4.1",
          outcome: "ok",
          error_type: null,
          http_status: 200,
          latency_ms: 850,
        },
      ],
      error_type: null,
      observer: "gateway",
      scripted: false,
    },
    central(runs.full),
  );
  log.add(
    "message",
    { role: "assistant", text: "I will read the notes.", entry_id: "e2", turn: 1 },
    r(runs.full),
  );
  log.add(
    "tool_call_started",
    {
      tool_call_id: "t1",
      tool: "read",
      tool_type: "function",
      arguments: '{"path":"notes.md"}',
      args_digest: "0123456789abcdef",
    },
    r(runs.full),
  );
  log.add(
    "policy_decision",
    {
      hook: "tool_call",
      decision: { effect: "allow", rule_id: "default", reason: "no rule objected" },
      tool: "read",
      tool_call_id: "t1",
      subject: "notes.md",
    },
    r(runs.full),
  );
  log.add(
    "tool_call_progress",
    { tool_call_id: "t1", tool: "read", partial: "# Notes" },
    r(runs.full),
  );
  log.add(
    "tool_call_finished",
    {
      tool_call_id: "t1",
      tool: "read",
      status: "ok",
      result: "# Notes\n- calibrated",
      error_message: null,
      error_type: null,
      duration_ms: 12,
      blocked_by: null,
    },
    r(runs.full),
  );
  log.add(
    "tool_call_started",
    {
      tool_call_id: "t2",
      tool: "bash",
      tool_type: "function",
      arguments: '{"cmd":"cat /etc/passwd"}',
      args_digest: "fedcba9876543210",
    },
    r(runs.full),
  );
  log.add(
    "policy_decision",
    {
      hook: "tool_call",
      decision: {
        effect: "deny",
        rule_id: "workdir",
        reason: "/etc/passwd is outside the workdir",
      },
      tool: "bash",
      tool_call_id: "t2",
      subject: "/etc/passwd",
    },
    r(runs.full),
  );
  log.add(
    "tool_call_finished",
    {
      tool_call_id: "t2",
      tool: "bash",
      status: "blocked",
      result: null,
      error_message: "outside the workdir",
      error_type: "policy_denied",
      duration_ms: 0,
      blocked_by: "workdir",
    },
    r(runs.full),
  );
  log.add(
    "loop_detected",
    {
      tool: "bash",
      args_digest: "fedcba9876543210",
      repeats: 3,
      threshold: 3,
      action: "steer",
      failing: true,
    },
    r(runs.full),
  );
  log.add(
    "budget",
    { dimension: "tokens", used: 1280, limit: 1600, state: "warning", scope: "run" },
    r(runs.full),
  );
  log.add(
    "compaction",
    { tokens_before: 90_000, reason: "threshold", entry_id: "e3" },
    r(runs.full),
  );
  log.add("turn_completed", { turn: 1, tool_calls: 2, stop_reason: "stop" }, r(runs.full));
  log.add(
    "error",
    {
      category: "tool",
      code: "tool_retry",
      message: "bash was blocked once",
      fatal: false,
      detail: { tool: "bash" },
    },
    r(runs.full),
  );
  log.add(
    "run_completed",
    {
      result: "Two notes, one calibration.",
      usage: usage(1200, 80, 0.0031),
      duration_ms: 1500,
      tree_ref: tree(runs.full),
    },
    { ...r(runs.full), ms: 1000 },
  );

  log.add(
    "run_dispatched",
    {
      intent_id: intents.failed,
      agent_id: "lab-notes-2",
      attempt: 1,
      ack_deadline: "2026-06-01T10:02:00.000Z",
    },
    central(runs.failed),
  );
  log.add(
    "run_started",
    {
      intent_id: intents.failed,
      intent_type: "task",
      app: "lab-notes",
      attempt: 1,
      model: null,
      tree_ref: { session_file: "f.jsonl", entry_id: null },
      resumed: false,
      forked_from: null,
    },
    { ...r(runs.failed), agent_id: "lab-notes-2" },
  );
  log.add(
    "run_failed",
    {
      error: { category: "infrastructure", reason: "host_down", message: "the GPU host rebooted" },
      usage: usage(0, 0, 0),
      duration_ms: 300,
      tree_ref: null,
    },
    { ...r(runs.failed), agent_id: "lab-notes-2", ms: 300 },
  );
  // Central rules on the failure the holder reported: another attempt.
  log.add(
    "run_retrying",
    {
      attempt: 1,
      cause: "failed",
      error: { category: "infrastructure", reason: "host_down", message: "the GPU host rebooted" },
      retry_at: "2026-06-01T10:02:30.000Z",
    },
    central(runs.failed),
  );
  log.add(
    "run_dispatched",
    {
      intent_id: intents.failed,
      agent_id: "lab-notes-2",
      attempt: 2,
      ack_deadline: "2026-06-01T10:03:00.000Z",
    },
    central(runs.failed, 2),
  );
  log.add(
    "run_started",
    {
      intent_id: intents.failed,
      intent_type: "task",
      app: "lab-notes",
      attempt: 2,
      model: null,
      tree_ref: { session_file: "f2.jsonl", entry_id: null },
      resumed: false,
      forked_from: null,
    },
    { ...r(runs.failed, 2), agent_id: "lab-notes-2" },
  );
  log.add(
    "model_call",
    {
      call_id: "mc-direct",
      operation: "chat",
      provider: "vllm",
      request_model: "qwen",
      response_model: "qwen",
      alias: null,
      response_id: null,
      finish_reasons: ["length"],
      stream: false,
      input_tokens: 900,
      output_tokens: 100,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: null,
      latency_ms: 400,
      ttft_ms: null,
      cache_hit: false,
      attempts: [],
      error_type: null,
      observer: "edge",
      scripted: false,
    },
    { ...r(runs.failed, 2), agent_id: "lab-notes-2" },
  );
  const budget = {
    category: "budget_exceeded",
    reason: "budget_exceeded",
    message: "token budget 1000 reached",
  } as const;
  log.add(
    "run_failed",
    { error: budget, usage: usage(900, 100, null), duration_ms: 700, tree_ref: null },
    { ...r(runs.failed, 2), agent_id: "lab-notes-2", ms: 700 },
  );
  // ... and fails the run: a budget is not retried.
  log.add(
    "run_failed",
    { error: budget, usage: usage(900, 100, null), duration_ms: 1000, tree_ref: null },
    central(runs.failed, 2),
  );

  log.add(
    "run_dispatched",
    {
      intent_id: intents.cancelled,
      agent_id: "lab-notes-1",
      attempt: 1,
      ack_deadline: "2026-06-01T10:03:00.000Z",
    },
    central(runs.cancelled),
  );
  // Its agent never acknowledged: central sent it back to the queue, where it was cancelled.
  log.add(
    "run_retrying",
    {
      attempt: 1,
      cause: "ack_timeout",
      error: { category: "timeout", reason: "ack_timeout", message: "no ack within 10000 ms" },
      retry_at: "2026-06-01T10:03:30.000Z",
    },
    central(runs.cancelled),
  );
  log.add(
    "run_cancelled",
    { reason: "cancelled by user", by: "key_1", usage: usage(0, 0, 0), tree_ref: null },
    central(runs.cancelled),
  );

  log.add(
    "run_dispatched",
    {
      intent_id: intents.retried,
      agent_id: "lab-notes-1",
      attempt: 1,
      ack_deadline: "2026-06-01T10:04:00.000Z",
    },
    central(runs.retried),
  );
  log.add(
    "run_started",
    {
      intent_id: intents.retried,
      intent_type: "task",
      app: "lab-notes",
      attempt: 1,
      model: null,
      tree_ref: { session_file: "r.jsonl", entry_id: null },
      resumed: false,
      forked_from: null,
    },
    r(runs.retried),
  );
  log.add(
    "lease_expired",
    { agent_id: "lab-notes-1", attempt: 1, next: "retry", retry_at: "2026-06-01T10:05:00.000Z" },
    central(runs.retried),
  );
  log.add(
    "run_dispatched",
    {
      intent_id: intents.retried,
      agent_id: "lab-notes-2",
      attempt: 2,
      ack_deadline: "2026-06-01T10:06:00.000Z",
    },
    central(runs.retried, 2),
  );
  log.add(
    "run_started",
    {
      intent_id: intents.retried,
      intent_type: "task",
      app: "lab-notes",
      attempt: 2,
      model: null,
      tree_ref: { session_file: "r2.jsonl", entry_id: null },
      resumed: false,
      forked_from: null,
    },
    { ...r(runs.retried, 2), agent_id: "lab-notes-2" },
  );
  log.add(
    "run_completed",
    { result: "done", usage: usage(300, 30, 0.001), duration_ms: 400, tree_ref: null },
    { ...r(runs.retried, 2), agent_id: "lab-notes-2", ms: 400 },
  );

  log.add("heartbeat", {
    status: "online",
    running: [],
    outbox_pending: 0,
    load: { cpu: 0.1, rss_mb: 200 },
  });
  log.add("error", {
    category: "infrastructure",
    code: "central_unreachable",
    message: "connection refused",
    fatal: false,
    detail: null,
  });
  log.add(
    "model_call",
    {
      call_id: "mc-embed",
      operation: "embeddings",
      provider: "vllm",
      request_model: "bge-m3",
      response_model: null,
      alias: null,
      response_id: null,
      finish_reasons: [],
      stream: false,
      input_tokens: 64,
      output_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: null,
      latency_ms: 30,
      ttft_ms: null,
      cache_hit: false,
      attempts: [],
      error_type: null,
      observer: "gateway",
      scripted: false,
    },
    { agent_id: "central" },
  );
  log.add(
    "policy_decision",
    {
      hook: "intent",
      decision: { effect: "deny", rule_id: "quota", reason: "tenant quota reached" },
      tool: null,
      tool_call_id: null,
      subject: "notes.summarize",
    },
    { agent_id: "central" },
  );
  // A plan's life is logged by central outside any run (contract/events/plan.ts).
  const plan = log.id();
  const about = { agent_id: "central" };
  log.add(
    "plan_version",
    {
      plan_id: plan,
      version: 1,
      round: "initial",
      planner: "model",
      steps: [
        {
          id: "summarise",
          type: "task",
          targets: ["app lab-notes"],
          depends_on: [],
          action: null,
          requires_approval: true,
        },
      ],
    },
    about,
  );
  log.add(
    "approval_requested",
    { approval_id: `${plan}:summarise:1`, plan_id: plan, step_id: "summarise", deadline: null },
    about,
  );
  log.add(
    "approval_decided",
    {
      approval_id: `${plan}:summarise:1`,
      plan_id: plan,
      step_id: "summarise",
      status: "approved",
      by: "key_op",
      reason: null,
    },
    about,
  );
  log.add(
    "plan_step",
    {
      plan_id: plan,
      step_id: "summarise",
      version: 1,
      status: "running",
      attempt: 1,
      run_id: runs.full,
      error: null,
    },
    about,
  );
  log.add(
    "plan_status",
    {
      plan_id: plan,
      status: "completed",
      version: 1,
      reason: "all 1 steps completed",
      error: null,
      usage: usage(1200, 80, 0.0031),
    },
    about,
  );
  return { events: log.events, runs, intents };
}

describe("memory sync (projection)", () => {
  it("projects every event kind into its table", async () => {
    const { events, runs, intents } = everyKindLog();
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(EVENT_KINDS));
    const dir = tempDir();
    writeLog(join(dir, "000000000001-000000000100.ndjson"), withCursors(events));
    await withLake(localLake(), async (lake) => {
      const report = await sync(lake, new DirectorySource(dir));
      expect(report).toMatchObject({ events: events.length, duplicates: 0, quarantined: 0 });

      const stored = await tableRows(lake, "events");
      expect(stored).toHaveLength(events.length);
      const byId = new Map(stored.map((row) => [row.event_id, row]));
      events.forEach((e, i) => {
        const row = byId.get(e.event_id)!;
        expect(row).toMatchObject({
          kind: e.kind,
          tenant: "lab",
          run_id: e.run_id,
          agent_id: e.agent_id,
          seq: e.seq,
          cursor: i + 1,
          ts: e.ts,
        });
        expect(JSON.parse(row.payload as string)).toEqual(e.payload);
      });

      const runRows = new Map((await tableRows(lake, "runs")).map((row) => [row.run_id, row]));
      expect(runRows.size).toBe(4);
      expect(runRows.get(runs.full)).toMatchObject({
        intent_id: intents.full,
        app: "lab-notes",
        agent_id: "lab-notes-1",
        intent_type: "notes.summarize",
        model: "anthropic/claude-sonnet-4-5",
        status: "completed",
        attempts: 1,
        tokens_in: 1200,
        tokens_out: 80,
        cost_usd: 0.0031,
        model_calls: 1,
        // The blocked call did not run: it is not counted (the contract's rule), only listed.
        tool_calls: 1,
        blocked_tool_calls: 1,
        result: "Two notes, one calibration.",
        error_reason: null,
        events: 19,
        anomalies: [],
      });
      const full = runRows.get(runs.full)!;
      expect(full.duration_ms).toBe(
        Date.parse(full.finished_at as string) - Date.parse(full.started_at as string),
      );
      expect(runRows.get(runs.failed)).toMatchObject({
        status: "failed",
        attempts: 2,
        agent_id: "lab-notes-2",
        error_category: "budget_exceeded",
        error_reason: "budget_exceeded",
        error_message: "token budget 1000 reached",
        tokens_in: 900,
        tokens_out: 100,
        model_calls: 1,
        cost_usd: null,
        anomalies: [],
      });
      expect(runRows.get(runs.cancelled)).toMatchObject({
        status: "cancelled",
        app: null,
        started_at: null,
        error_category: "cancelled",
        error_message: "cancelled by user",
      });
      expect(runRows.get(runs.retried)).toMatchObject({
        status: "completed",
        attempts: 2,
        agent_id: "lab-notes-2",
      });

      const intentRows = new Map(
        (await tableRows(lake, "intents")).map((row) => [row.intent_id, row]),
      );
      expect(intentRows.get(intents.full)).toMatchObject({
        status: "completed",
        run_id: runs.full,
        app: "lab-notes",
      });
      expect(intentRows.get(intents.failed)).toMatchObject({ status: "failed", attempts: 2 });
      expect(intentRows.get(intents.cancelled)).toMatchObject({ status: "cancelled" });
      expect(intentRows.get(intents.retried)).toMatchObject({ status: "completed", attempts: 2 });

      const tools = new Map(
        (await tableRows(lake, "tool_calls")).map((row) => [row.tool_call_id, row]),
      );
      expect(tools.get("t1")).toMatchObject({
        run_id: runs.full,
        app: "lab-notes",
        tool: "read",
        tool_type: "function",
        args_digest: "0123456789abcdef",
        arguments: '{"path":"notes.md"}',
        status: "ok",
        ok: true,
        blocked: false,
        duration_ms: 12,
        result: "# Notes\n- calibrated",
        progress_events: 1,
      });
      expect(tools.get("t2")).toMatchObject({
        tool: "bash",
        status: "blocked",
        ok: false,
        blocked: true,
        blocked_by: "workdir",
        policy_reason: "/etc/passwd is outside the workdir",
        error_type: "policy_denied",
      });

      const calls = await tableRows(lake, "model_calls");
      expect(calls).toHaveLength(3);
      expect(calls.find((c) => c.call_id === "mc-1")).toMatchObject({
        run_id: runs.full,
        app: "lab-notes",
        provider: "openai",
        request_model: "claude-sonnet-4-5",
        model: "gpt-4.1",
        alias: "smart",
        input_tokens: 1200,
        output_tokens: 80,
        cache_read_tokens: 600,
        cost_usd: 0.0031,
        latency_ms: 900,
        ttft_ms: 250,
        cache_hit: false,
        upstream_attempts: 2,
        fallbacks: 1,
        upstream_chain: ["anthropic/claude-sonnet-4-5", "openai/gpt-4.1"],
        finish_reasons: ["tool_calls"],
        observer: "gateway",
      });
      expect(calls.find((c) => c.call_id === "mc-embed")).toMatchObject({
        run_id: null,
        app: null,
        cost_usd: null,
        operation: "embeddings",
        fallbacks: 0,
      });

      const decisions = await tableRows(lake, "policy_decisions");
      expect(decisions.map((d) => [d.hook, d.effect, d.rule_id, d.tool_call_id, d.app])).toEqual(
        expect.arrayContaining([
          ["tool_call", "allow", "default", "t1", "lab-notes"],
          ["tool_call", "deny", "workdir", "t2", "lab-notes"],
          ["intent", "deny", "quota", null, null],
        ]),
      );

      const projections = await tableRows(lake, "projections");
      expect(projections).toHaveLength(4);
      for (const p of projections) {
        const event = ProjectionEvent.parse({ ...p, payload: JSON.parse(p.payload as string) });
        expect(event).toMatchObject({ domain: "memory", projection: "memory.runs" });
        expect(runRows.get(event.payload.run_id)?.settled_event_id).toBe(event.source_event_id);
        expect(event.ts).toBe(runRows.get(event.payload.run_id)?.finished_at);
      }
      expect(await count(lake, "SELECT count(*) FROM memory.quarantine")).toBe(0);
    });
  });

  it("syncs incrementally: a run that straddles two syncs is derived from all its events", async () => {
    const { events, runs } = everyKindLog();
    const outbox = tempDir();
    const cut = events.findIndex((e) => e.kind === "tool_call_started");
    const segment = join(outbox, "000000000000.ndjson");
    writeLog(segment, events.slice(0, cut));
    await withLake(localLake(), async (lake) => {
      const first = await sync(lake, new DirectorySource(outbox));
      expect(first.events).toBe(cut);
      const running = (await tableRows(lake, "runs")).find((r) => r.run_id === runs.full)!;
      expect(running).toMatchObject({
        status: "running",
        tokens_in: 1200,
        cost_usd: 0.0031,
        finished_at: null,
      });

      appendFileSync(
        segment,
        `${events
          .slice(cut)
          .map((e) => JSON.stringify(e))
          .join("\n")}\n`,
      );
      const second = await sync(lake, new DirectorySource(outbox));
      expect(second.events).toBe(events.length - cut);
      expect(second.duplicates).toBe(0);
      const done = (await tableRows(lake, "runs")).find((r) => r.run_id === runs.full)!;
      expect(done).toMatchObject({ status: "completed", tool_calls: 1, events: 19 });
      expect(await count(lake, "SELECT count(*) FROM memory.runs")).toBe(4);
      expect(await count(lake, "SELECT count(*) FROM memory.projections")).toBe(4);
    });
  });

  it("is idempotent: a re-run finds nothing new and commits nothing", async () => {
    const dir = tempDir();
    writeLog(join(dir, "000000000001-000000002000.ndjson"), [
      ...syntheticEvents({ events: 2_000, days: 1, seed: 3 }),
    ]);
    await withLake(localLake(), async (lake) => {
      await sync(lake, new DirectorySource(dir), { batchSize: 700 });
      const before = await projectionDigest(lake);
      const snapshot = await count(
        lake,
        "SELECT max(snapshot_id) FROM ducklake_snapshots('memory')",
      );
      const again = await sync(lake, new DirectorySource(dir), { batchSize: 700 });
      expect(again).toMatchObject({ batches: 0, events: 0, duplicates: 0 });
      expect(await count(lake, "SELECT max(snapshot_id) FROM ducklake_snapshots('memory')")).toBe(
        snapshot,
      );
      expect(await projectionDigest(lake)).toEqual(before);
    });
  });

  it("stores an event once when it arrives from central's archive and from an edge outbox", async () => {
    const events = [...syntheticEvents({ events: 1_500, days: 1, seed: 5 })];
    const archive = tempDir();
    const outbox = tempDir();
    writeLog(join(archive, "000000000001-000000001500.ndjson.gz"), events, { gzip: true });
    writeLog(
      join(outbox, "000000000000.ndjson"),
      events.slice(500, 1_200).map(({ cursor: _c, ...e }) => e),
    );
    await withLake(localLake(), async (lake) => {
      const fromOutbox = await sync(lake, new DirectorySource(outbox));
      expect(fromOutbox.events).toBe(700);
      const fromArchive = await sync(lake, new DirectorySource(archive));
      expect(fromArchive).toMatchObject({ events: 800, duplicates: 700 });
      expect(await count(lake, "SELECT count(DISTINCT event_id) FROM memory.events")).toBe(1_500);
      expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(1_500);
      // Same rows as a lake fed from the archive alone, whichever copy of an event came first.
      const reference = await withLake(localLake(), async (other) => {
        await sync(other, new DirectorySource(archive));
        return projectionDigest(other);
      });
      const digest = await projectionDigest(lake);
      for (const table of Object.keys(reference).filter((t) => t !== "events"))
        expect(digest[table], table).toEqual(reference[table]);
    });
  });

  it("rebuild derives exactly what incremental syncs derived, from the lake or from the source", async () => {
    const dir = tempDir();
    writeLog(join(dir, "000000000001-000000006000.ndjson"), [
      ...syntheticEvents({ events: 6_000, days: 1, seed: 11 }),
    ]);
    await withLake(localLake(), async (lake) => {
      await sync(lake, new DirectorySource(dir), { batchSize: 450, compact: false });
      const incremental = await projectionDigest(lake);
      expect(incremental.runs!.length).toBeGreaterThan(50);
      const report = await rebuild(lake);
      expect(report.events).toBe(6_000);
      expect(await projectionDigest(lake)).toEqual(incremental);
      const replay = await rebuildFrom(lake, new DirectorySource(dir), { batchSize: 6_000 });
      expect(replay.events).toBe(6_000);
      expect(await projectionDigest(lake)).toEqual(incremental);
    });
  }, 120_000);

  it("counts a call through the gateway once, as the gateway saw it, in run costs and rollups", async () => {
    const log = new LogBuilder();
    const run = log.id();
    const intent = log.id();
    const r = { run_id: run, attempt: 1 };
    log.add(
      "run_started",
      {
        intent_id: intent,
        intent_type: "task",
        app: "lab-notes",
        attempt: 1,
        model: "auraison/auto",
        tree_ref: tree(run),
        resumed: false,
        forked_from: null,
      },
      r,
    );
    const call = {
      operation: "chat",
      request_model: "auto",
      alias: "auto",
      response_id: "resp-9",
      finish_reasons: ["stop"],
      stream: true,
      input_tokens: 500,
      output_tokens: 40,
      latency_ms: 700,
      ttft_ms: 200,
    };
    log.add(
      "model_call",
      {
        ...call,
        call_id: "gw-1",
        provider: "anthropic",
        response_model: "claude-haiku-4-5",
        cost_usd: 0.0007,
        observer: "gateway",
        attempts: [],
      },
      { ...r, agent_id: "central" },
    );
    log.add(
      "model_call",
      {
        ...call,
        call_id: "resp-9",
        provider: "auraison",
        response_model: "auto",
        cost_usd: null,
        observer: "edge",
      },
      r,
    );
    log.add(
      "run_completed",
      { result: "done", usage: usage(500, 40, null), tree_ref: tree(run), duration_ms: 800 },
      r,
    );
    const dir = tempDir();
    writeLog(join(dir, "000000000001.ndjson"), log.events);
    await withLake(localLake(), async (lake) => {
      await sync(lake, new DirectorySource(dir));
      const [row] = await tableRows(lake, "runs");
      expect(row).toMatchObject({
        status: "completed",
        tokens_in: 500,
        cost_usd: 0.0007,
        model_calls: 1,
      });
      expect(await count(lake, "SELECT count(*) FROM memory.model_calls")).toBe(2);
      const rollup = await lake.connection.runAndReadAll(
        "SELECT provider, calls::INTEGER, cost_usd, unpriced_calls::INTEGER FROM memory.cost_by_app_model",
      );
      expect(rollup.getRows()).toEqual([["anthropic", 1, 0.0007, 0]]);
    });
  });

  it("counts a call's billed failed tries under their own provider and model in the cost rollup", async () => {
    const log = new LogBuilder();
    const failed = {
      provider: "claude",
      model: "claude-x",
      outcome: "error",
      error_type: "stream_error",
      http_status: 200,
      latency_ms: 90,
    };
    const call = {
      operation: "chat",
      request_model: "auto",
      alias: "auto",
      response_id: "r1",
      finish_reasons: ["stop"],
      stream: true,
      latency_ms: 700,
      ttft_ms: 200,
      observer: "gateway",
      response_model: "m",
      provider: "secondary",
    };
    log.add("model_call", {
      ...call,
      call_id: "gw-1",
      input_tokens: 50_012,
      output_tokens: 6,
      cost_usd: 0.150037,
      attempts: [
        {
          ...failed,
          input_tokens: 50_000,
          output_tokens: 1,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          cost_usd: 0.150015,
        },
        { ...failed, provider: "secondary", model: "m", outcome: "ok", error_type: null },
      ],
    });
    // A priced answer after an unpriced billed try: the call's cost is unknown.
    log.add("model_call", {
      ...call,
      call_id: "gw-2",
      input_tokens: 1_012,
      output_tokens: 6,
      cost_usd: null,
      attempts: [
        {
          ...failed,
          model: "free",
          input_tokens: 1_000,
          output_tokens: 1,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          cost_usd: null,
        },
        { ...failed, provider: "secondary", model: "m", outcome: "ok", error_type: null },
      ],
    });
    const dir = tempDir();
    writeLog(join(dir, "000000000001.ndjson"), log.events);
    await withLake(localLake(), async (lake) => {
      await sync(lake, new DirectorySource(dir));
      const rollup = await lake.connection.runAndReadAll(
        `SELECT provider, model, calls::INTEGER, tokens_in::INTEGER, tokens_out::INTEGER,
           cost_usd, unpriced_calls::INTEGER
         FROM memory.cost_by_app_model ORDER BY provider, model`,
      );
      expect(rollup.getRows()).toEqual([
        ["claude", "claude-x", 0, 50_000, 1, 0.150015, 0],
        ["claude", "free", 0, 1_000, 1, null, 0],
        ["secondary", "m", 2, 24, 10, 0.000022, 1],
      ]);
      const [row] = (
        await lake.connection.runAndReadAll(
          "SELECT input_tokens::INTEGER, len(billed_tries)::INTEGER FROM memory.model_calls WHERE call_id = 'gw-1'",
        )
      ).getRows();
      expect(row).toEqual([50_012, 1]);
    });
  });

  it("names the line of a refused entry in a log file checked in many slices, blank lines counted", async () => {
    // More lines than a validation thread checks at once (5,000), with blank and CRLF lines.
    const events = [...syntheticEvents({ events: 12_000, days: 1, seed: 17 })];
    const lines: string[] = [];
    const refused = new Map<number, string>();
    events.forEach((event, i) => {
      if (i % 997 === 0) lines.push(i % 2 ? "" : "  \r");
      if (i === 5_003 || i === 11_998) {
        lines.push(`{"refused": ${i}}`);
        refused.set(lines.length, `{"refused": ${i}}`);
      }
      lines.push(JSON.stringify(event) + (i % 1_001 === 0 ? "\r" : ""));
    });
    const dir = tempDir();
    writeLog(join(dir, "000000000001.ndjson"), lines);
    await withLake(localLake(), async (lake) => {
      const report = await sync(lake, new DirectorySource(dir));
      expect(report).toMatchObject({ events: events.length, quarantined: 2 });
      const rows = await tableRows(lake, "quarantine");
      expect(new Map(rows.map((r) => [r.position, r.raw]))).toEqual(
        new Map([...refused].map(([line, raw]) => [`000000000001.ndjson:${line}`, raw])),
      );
    });
  });

  it("quarantines what fails validation, with the reason and where it was, never dropping it", async () => {
    const { events } = everyKindLog();
    const good = withCursors(events.slice(0, 5));
    const badPayload = {
      ...good[1],
      event_id: "019e82a0-3d00-7fff-8000-0000000000aa",
      cursor: 6,
      payload: { ...(good[1] as AgentEvent & { payload: object }).payload, app: "Lab Notes" },
    };
    const badCursor = { ...good[2], event_id: "019e82a0-3d00-7fff-8000-0000000000bb", cursor: -3 };
    const dir = tempDir();
    writeLog(
      join(dir, "000000000001-000000000009.ndjson"),
      [good[0], "{not json", badPayload, good[1], badCursor, "[1,2]", good[2], good[3], good[4]],
      { tail: '{"event_id":"torn' },
    );
    await withLake(localLake(), async (lake) => {
      const report = await sync(lake, new DirectorySource(dir));
      expect(report).toMatchObject({ events: 5, quarantined: 4 });
      expect(report.notes).toEqual([
        "000000000001-000000000009.ndjson: ignored 17 bytes after the last complete line",
      ]);
      const rows = await tableRows(lake, "quarantine");
      const byPosition = new Map(rows.map((r) => [r.position, r]));
      expect([...byPosition.keys()].sort()).toEqual([
        "000000000001-000000000009.ndjson:2",
        "000000000001-000000000009.ndjson:3",
        "000000000001-000000000009.ndjson:5",
        "000000000001-000000000009.ndjson:6",
      ]);
      expect(byPosition.get("000000000001-000000000009.ndjson:2")).toMatchObject({
        raw: "{not json",
        event_id: null,
      });
      expect(byPosition.get("000000000001-000000000009.ndjson:2")!.reason).toMatch(/^not JSON/);
      const invalid = byPosition.get("000000000001-000000000009.ndjson:3")!;
      expect(invalid).toMatchObject({
        event_id: badPayload.event_id,
        kind: "run_started",
        origin: `dir:${dir}`,
      });
      expect(invalid.reason).toMatch(/^invalid AgentEvent at payload\.app/);
      expect(JSON.parse(invalid.issues as string)[0]).toMatchObject({ path: "payload.app" });
      expect(JSON.parse(invalid.raw as string)).toEqual(badPayload);
      expect(byPosition.get("000000000001-000000000009.ndjson:5")!.reason).toBe("invalid cursor");

      const again = await sync(lake, new DirectorySource(dir));
      expect(again.quarantined).toBe(0);
      expect(await count(lake, "SELECT count(*) FROM memory.quarantine")).toBe(4);
    });
  });

  it("quarantines ids spelled in upper case, which DuckDB's UUID would take for another event's", async () => {
    const { events } = everyKindLog();
    const good = withCursors(events.slice(0, 3));
    const upper = {
      ...good[2]!,
      event_id: good[2]!.event_id.toUpperCase(),
      run_id: good[2]!.run_id?.toUpperCase() ?? null,
      cursor: 4,
    };
    const dir = tempDir();
    writeLog(join(dir, "000000000001-000000000004.ndjson"), [...good, upper]);
    await withLake(localLake(), async (lake) => {
      const report = await sync(lake, new DirectorySource(dir));
      expect(report).toMatchObject({ events: 3, duplicates: 0, quarantined: 1 });
      const [row] = await tableRows(lake, "quarantine");
      expect(row).toMatchObject({ position: "000000000001-000000000004.ndjson:4" });
      expect(row!.reason).toMatch(/^invalid AgentEvent at event_id: a UUIDv7 in lower-case hex/);
    });
  });

  it("reads valid segments straight from the log, and around refused, rewritten and torn lines only what passed", async () => {
    const events = [...syntheticEvents({ events: 60, seed: 7, days: 1 })] as StoredEvent[];
    const refused = { ...events[25]!, seq: -1 };
    // zod's output differs from these lines: a defaulted field left out, an unknown one stripped.
    const { attempt: _, ...noAttempt } = events[26]!;
    const extraKey = { ...events[27]!, note: "not in the contract" };
    const dir = tempDir();
    const sealed = join(dir, "000000000001.ndjson");
    const mixed = join(dir, "000000000002.ndjson");
    const open = join(dir, "000000000003.ndjson");
    writeLog(sealed, events.slice(0, 20));
    writeLog(mixed, [
      ...events.slice(20, 25),
      refused,
      noAttempt,
      extraKey,
      "",
      ...events.slice(28, 40),
    ]);
    const torn = JSON.stringify(events[50]);
    writeLog(open, events.slice(40, 50), { tail: torn.slice(0, 40) });
    const ids = async (lake: Parameters<Parameters<typeof withLake>[1]>[0]) =>
      (
        await lake.connection.runAndReadAll(
          "SELECT event_id::VARCHAR, attempt FROM memory.events ORDER BY cursor",
        )
      ).getRows();
    await withLake(localLake(), async (lake) => {
      const first = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(first).toMatchObject({ events: 49, quarantined: 1 });
      const rows = await ids(lake);
      expect(rows.map(([id]) => id)).toEqual(
        [...events.slice(0, 25), ...events.slice(26, 50)].map((e) => e.event_id),
      );
      // The rewritten line is staged as the contract returned it.
      expect(rows[25]).toEqual([noAttempt.event_id, null]);
      const [quarantined] = await tableRows(lake, "quarantine");
      expect(quarantined).toMatchObject({
        position: "000000000002.ndjson:6",
        event_id: refused.event_id,
      });
      expect(quarantined!.reason).toMatch(/^invalid AgentEvent at seq/);

      // The torn line is completed and another appended: the next sync reads from where the
      // first stopped, no line twice.
      appendFileSync(open, `${torn.slice(40)}\n${JSON.stringify(events[51])}\n`);
      const second = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(second).toMatchObject({ events: 2, duplicates: 0, quarantined: 0 });
      expect((await ids(lake)).map(([id]) => id).slice(-3)).toEqual(
        events.slice(49, 52).map((e) => e.event_id),
      );
      expect(await count(lake, "SELECT count(*) FROM memory.quarantine")).toBe(1);
    });
  });

  it("lets two syncs of one directory overlap: each bad line quarantined once, the cursor never back", async () => {
    const lines = [...syntheticEvents({ events: 8, days: 1, seed: 33 })].map(
      ({ cursor: _c, ...e }) => JSON.stringify(e),
    );
    const dir = tempDir();
    const file = join(dir, "000000000000.ndjson");
    // A bad line both syncs read, and one only the sync that reads the grown log does.
    writeLog(file, [...lines.slice(0, 2), "not json 1", ...lines.slice(2, 4)]);
    const location = localLake();
    await withLake(location, (a) =>
      withLake(location, async (b) => {
        let read!: () => void;
        const readByB = new Promise<void>((resolve) => {
          read = resolve;
        });
        let release!: () => void;
        const committedByA = new Promise<void>((resolve) => {
          release = resolve;
        });
        // B reads the log, then is slow: A syncs the grown log meanwhile, B commits after it and
        // stops there (a follower told to stop), its cursor behind A's.
        const inner = new DirectorySource(dir);
        const slow: EventSource = {
          origin: inner.origin,
          next: async (cursors, max) => {
            const batch = await inner.next(cursors, max);
            read();
            await committedByA;
            return batch;
          },
          isOutage: () => false,
        };
        const stop = new AbortController();
        const late = sync(b, slow, {
          compact: false,
          signal: stop.signal,
          onBatch: () => stop.abort(),
        });
        await readByB;
        appendFileSync(file, `${["not json 2", ...lines.slice(4)].join("\n")}\n`);
        const first = await sync(a, new DirectorySource(dir), { compact: false });
        expect(first).toMatchObject({ events: 8, quarantined: 2 });
        release();
        expect(await late).toMatchObject({ batches: 1, events: 0, duplicates: 4, quarantined: 0 });

        const quarantined = await a.connection.runAndReadAll(
          "SELECT position, count(*)::INTEGER FROM memory.quarantine GROUP BY ALL ORDER BY ALL",
        );
        expect(quarantined.getRows()).toEqual([
          ["000000000000.ndjson:3", 1],
          ["000000000000.ndjson:6", 1],
        ]);
        const cursor = await a.connection.runAndReadAll(
          "SELECT position, lines FROM memory.sync_cursors",
        );
        expect(cursor.getRows()).toEqual([[BigInt(statSync(file).size), 10n]]);
        const third = await sync(a, new DirectorySource(dir), { compact: false });
        expect(third).toMatchObject({ batches: 0, events: 0, quarantined: 0 });
        expect(await count(a, "SELECT count(*) FROM memory.quarantine")).toBe(2);
      }),
    );
  });
});

describe("memory sync of lines DuckDB cannot read", () => {
  const FILE = "000000000001.ndjson";
  /** A valid error event's line made unreadable by `spoil` (on its JSON text), and why. */
  const cases: [string, (line: string) => Buffer, RegExp][] = [
    [
      "half a surrogate pair (an emoji cut in two)",
      (line) => Buffer.from(line.replace('"message":"hi"', '"message":"hi\\ud83d"')),
      /^half a UTF-16 surrogate pair at payload\.message/,
    ],
    [
      "bytes that are not UTF-8",
      (line) => {
        const bytes = Buffer.from(line);
        bytes[bytes.indexOf('"hi"') + 1] = 0xff;
        return bytes;
      },
      /^not UTF-8$/,
    ],
    [
      // The contract's bound is the lake column's (the stage's own guard: stage.test.ts).
      "an attempt too large for its column",
      (line) => Buffer.from(line.replace('"attempt":1', '"attempt":3000000000')),
      /^invalid AgentEvent at attempt: /,
    ],
    [
      "a payload nested 20,000 arrays deep",
      (line) =>
        Buffer.from(
          line.replace(
            '"detail":null',
            `"detail":{"a":${"[".repeat(20_000)}${"]".repeat(20_000)}}`,
          ),
        ),
      /^invalid AgentEvent at payload\.detail\.a(\[0\])+: nested deeper than 64 levels$/,
    ],
  ];

  /** Three errors of a run in one log file (plain, or a gzipped segment), the second spoilt. */
  function spoiltLog(spoil: (line: string) => Buffer, file: string) {
    const log = new LogBuilder();
    const run_id = log.id();
    const events = [1, 2, 3].map(() =>
      log.add(
        "error",
        { category: "tool", code: "x", message: "hi", fatal: false, detail: null },
        { run_id, attempt: 1 },
      ),
    );
    const dir = tempDir();
    const lines: Buffer[] = events.map((e) => Buffer.from(JSON.stringify(e)));
    lines[1] = spoil(lines[1]!.toString());
    const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")]));
    writeFileSync(join(dir, file), file.endsWith(".gz") ? gzipSync(body) : body);
    return { dir, events, bytes: body.length };
  }

  // A gzipped segment's lines are decoded on the sync's thread and staged as text, where a
  // plain file's are decoded on the validation threads and DuckDB reads the file itself.
  it.each(
    cases.flatMap(([name, spoil, reason]) => [
      [name, FILE, spoil, reason] as const,
      [name, `${FILE}.gz`, spoil, reason] as const,
    ]),
  )("quarantines %s in %s, projects the rest and moves on", async (_, file, spoil, reason) => {
    const { dir, events, bytes } = spoiltLog(spoil, file);
    await withLake(localLake(), async (lake) => {
      const first = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(first).toMatchObject({ events: 2, quarantined: 1 });
      const ids = await lake.connection.runAndReadAll(
        "SELECT event_id::VARCHAR FROM memory.events ORDER BY seq",
      );
      expect(ids.getRows().flat()).toEqual([events[0]!.event_id, events[2]!.event_id]);
      const [row] = await tableRows(lake, "quarantine");
      expect(row).toMatchObject({ position: `${file}:2`, event_id: events[1]!.event_id });
      expect(row!.reason).toMatch(reason);
      const cursor = await lake.connection.runAndReadAll(
        "SELECT position, lines FROM memory.sync_cursors",
      );
      expect(cursor.getRows()).toEqual([[BigInt(bytes), 3n]]);

      const again = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(again).toMatchObject({ batches: 0, events: 0, quarantined: 0 });
      expect(await count(lake, "SELECT count(*) FROM memory.quarantine")).toBe(1);
    });
  });

  it("reads a line longer than a read whole, quarantines one past what a sync reads, and goes on", async () => {
    const log = new LogBuilder();
    const run_id = log.id();
    const detail = { blob: "x".repeat(17 * 2 ** 20) };
    const [a, big, b] = [{}, detail, {}].map((d) =>
      log.add(
        "error",
        { category: "tool", code: "x", message: "hi", fatal: false, detail: d },
        { run_id, attempt: 1 },
      ),
    );
    const dir = tempDir();
    const file = join(dir, FILE);
    const tooLong = `"${"y".repeat(MAX_LINE_BYTES)}"`;
    writeLog(file, [a, big, "z".repeat(17 * 2 ** 20), tooLong, b]);
    await withLake(localLake(), async (lake) => {
      const report = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(report).toMatchObject({ events: 3, quarantined: 2 });
      const stored = await lake.connection.runAndReadAll(
        "SELECT event_id::VARCHAR, length(payload) FROM memory.events ORDER BY seq",
      );
      expect(stored.getRows().map(([id]) => id)).toEqual([a, big, b].map((e) => e!.event_id));
      expect(Number(stored.getRows()[1]![1])).toBeGreaterThan(17 * 2 ** 20);
      const rows = await lake.connection.runAndReadAll(
        "SELECT position, reason, length(raw) FROM memory.quarantine ORDER BY position",
      );
      expect(rows.getRows()).toEqual([
        [`${FILE}:3`, expect.stringMatching(/^not JSON/), BigInt(17 * 2 ** 20)],
        [`${FILE}:4`, `longer than a sync reads (${MAX_LINE_BYTES + 3} bytes)`, 4096n],
      ]);
      const cursor = await lake.connection.runAndReadAll(
        "SELECT position, lines FROM memory.sync_cursors",
      );
      expect(cursor.getRows()).toEqual([[BigInt(statSync(file).size), 5n]]);
    });
  }, 120_000);
});
