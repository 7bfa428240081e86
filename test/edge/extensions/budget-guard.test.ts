import { afterEach, describe, expect, it } from "vitest";
import { type AgentEvent, replayRun, usageOf } from "../../../contract";
import type { EdgeRuntime } from "../../../edge/runtime";
import { fauxProvider, overflowingModel } from "../helpers/faux";
import {
  admitRun,
  kinds,
  makeApp,
  ofKind,
  openRuntime,
  runTask,
  waitForEvents,
} from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const busyWork = Array.from({ length: 20 }, (_, i) => ({
  tool: "bash",
  args: { command: `echo step ${i}` },
}));

describe("budget guard", () => {
  it("stops a run at its token budget with run_failed budget_exceeded, after a warning", async () => {
    runtime = await openRuntime(makeApp(), busyWork);
    const { record, events } = await runTask(runtime, "work until stopped", {
      budget: { max_tokens: 10_000 },
    });
    expect(record.status).toBe("failed");
    expect(record.error).toMatchObject({ category: "budget_exceeded", reason: "budget_exceeded" });
    const budget = ofKind(events, "budget").map((e) => e.payload);
    expect(budget.map((b) => [b.dimension, b.state])).toEqual([
      ["tokens", "warning"],
      ["tokens", "exceeded"],
    ]);
    expect(budget[0]!.used).toBeGreaterThanOrEqual(8_000);
    expect(budget[1]!.used).toBeGreaterThanOrEqual(10_000);
    expect(budget[1]!.limit).toBe(10_000);
    const failed = ofKind(events, "run_failed")[0]!.payload;
    // Budgets count cached prompt tokens too (pi's faux model caches its prompt, as providers do).
    const { tokens_in, cache_read_tokens, cache_write_tokens, tokens_out } = failed.usage;
    expect(cache_read_tokens).toBeGreaterThan(0);
    expect(tokens_in + cache_read_tokens + cache_write_tokens + tokens_out).toBeGreaterThanOrEqual(
      budget[1]!.used,
    );
    expect(kinds(events).at(-1)).toBe("run_failed");
    // Stopped promptly: after the budget was exceeded no model call completed and no tool ran.
    const exceededAt = events.findIndex(
      (e) => e.kind === "budget" && e.payload.state === "exceeded",
    );
    expect(
      events
        .slice(exceededAt)
        .filter((e) => e.kind === "model_call" && e.payload.error_type !== "aborted"),
    ).toHaveLength(0);
    expect(
      events
        .slice(exceededAt)
        .filter((e) => e.kind === "tool_call_finished" && e.payload.status === "ok"),
    ).toHaveLength(0);
  });

  it("counts a run continued under a new attempt from all its attempts, warning once", async () => {
    // Distinct work for ever (no loop): only the budget ends it.
    const endless = fauxProvider((context) => ({
      tool: "bash",
      args: { command: `echo ${context.messages.filter((m) => m.role === "toolResult").length}` },
    }));
    runtime = await openRuntime(makeApp(), [], { extensionFactories: [endless] });
    const { runId, intent } = await admitRun(runtime, { budget: { max_tokens: 10_000 } });
    await runtime.runs.begin(runId);
    await waitForEvents(runtime, runId, (events) => ofKind(events, "budget").length > 0);
    // Central re-dispatched the run (its lease lapsed while the link was down): as the dispatch
    // handler does, this agent stops attempt 1 and continues its session as attempt 2.
    await runtime.runs.checkpoint(runId, "re-dispatched as attempt 2");
    await runtime.runs.admit(intent, runId, 2, "central");
    const record = await (await runtime.runs.begin(runId)).done;
    const events = await runtime.eventsOf(runId);

    expect(ofKind(events, "run_started").map((e) => [e.attempt, e.payload.resumed])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(record.error?.reason).toBe("budget_exceeded");
    // eventsOf orders by seq, which each attempt numbers from 0.
    const budget = ofKind(events, "budget").sort((a, b) => a.attempt! - b.attempt!);
    expect(budget.map((e) => [e.attempt, e.payload.dimension, e.payload.state])).toEqual([
      [1, "tokens", "warning"],
      [2, "tokens", "exceeded"],
    ]);
    // Stopped at the first call past the limit, counting both attempts' calls.
    const calls = ofKind(events, "model_call").map(
      (e) => e.payload.input_tokens + e.payload.output_tokens,
    );
    const total = calls.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(total - calls.at(-1)!).toBeLessThan(10_000);
    // One definition of a run's usage: the record's is the log's, every attempt included.
    expect(record.usage).toEqual(usageOf(replayRun(events).consumption));
  });

  it("counts a compaction's summary against the token budget and stops the run at it", async () => {
    const tokens = (events: AgentEvent[]) =>
      ofKind(events, "model_call").map((e) => e.payload.input_tokens + e.payload.output_tokens);
    // The same run without a budget: what it used before its context overflowed.
    runtime = await openRuntime(makeApp(), [], { extensionFactories: [overflowingModel()] });
    const free = await runTask(runtime, "count");
    const compactedAt = ofKind(free.events, "model_call").findIndex((e) => e.payload.tags);
    const beforeSummary = tokens(free.events)
      .slice(0, compactedAt)
      .reduce((a, b) => a + b, 0);
    await runtime.close();

    runtime = await openRuntime(makeApp(), [], { extensionFactories: [overflowingModel()] });
    const { record, events } = await runTask(runtime, "count", {
      budget: { max_tokens: beforeSummary + 1 },
    });
    expect(record.error?.reason).toBe("budget_exceeded");
    const exceeded = ofKind(events, "budget").find((e) => e.payload.state === "exceeded")!;
    expect(exceeded.payload.used).toBe(tokens(events).reduce((a, b) => a + b, 0));
    // The summary was the last call: the model was not called again after the compaction.
    expect(ofKind(events, "model_call").at(-1)!.payload.tags).toEqual(["compaction"]);
    expect(record.result).toBeNull();
  });

  it("refuses the call past max_tool_calls and fails the run", async () => {
    runtime = await openRuntime(makeApp(), busyWork);
    const { record, events } = await runTask(runtime, "work", { budget: { max_tool_calls: 3 } });
    expect(record.error?.reason).toBe("budget_exceeded");
    const finished = ofKind(events, "tool_call_finished").map((e) => [
      e.payload.status,
      e.payload.blocked_by,
    ]);
    expect(finished).toEqual([
      ["ok", null],
      ["ok", null],
      ["ok", null],
      ["blocked", "limits.max_tool_calls"],
    ]);
    expect(ofKind(events, "budget").map((b) => [b.payload.dimension, b.payload.state])).toEqual([
      ["tool_calls", "warning"],
      ["tool_calls", "exceeded"],
    ]);
    expect(ofKind(events, "run_failed")[0]!.payload.usage.tool_calls).toBe(3);
  });

  it("stops at max_turns", async () => {
    runtime = await openRuntime(makeApp(), busyWork);
    const { record, events } = await runTask(runtime, "work", { budget: { max_turns: 2 } });
    expect(record.error?.reason).toBe("budget_exceeded");
    expect(record.error?.message).toContain("turns budget exceeded");
    // The third model call is never made: the turn budget is checked before each call.
    const calls = ofKind(events, "model_call").map((e) => e.payload);
    expect(calls.filter((c) => c.error_type !== "aborted")).toHaveLength(2);
    expect(calls.slice(2).every((c) => c.error_type === "aborted")).toBe(true);
    expect(ofKind(events, "budget").map((b) => [b.payload.dimension, b.payload.state])).toEqual([
      ["turns", "warning"],
      ["turns", "exceeded"],
    ]);
  });

  it("stops a slow run at its wall-time budget instead of leaving it hanging", async () => {
    runtime = await openRuntime(makeApp(), [
      { tool: "bash", args: { command: "sleep 30" } },
      { text: "never" },
    ]);
    const began = Date.now();
    const { record, events } = await runTask(runtime, "sleep", { budget: { max_wall_ms: 800 } });
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(record.error).toMatchObject({ category: "budget_exceeded" });
    expect(ofKind(events, "budget").at(-1)!.payload).toMatchObject({
      dimension: "wall_ms",
      state: "exceeded",
      limit: 800,
    });
    const sleep = ofKind(events, "tool_call_finished")[0]!.payload;
    expect(sleep.status).toBe("error");
    expect(ofKind(events, "run_failed")[0]!.payload.duration_ms).toBeGreaterThanOrEqual(800);
  });

  it("lets a run go on whose wall-time budget and deadline are a month away", async () => {
    runtime = await openRuntime(makeApp(), [
      { tool: "bash", args: { command: "sleep 0.3" } },
      { text: "done in time" },
    ]);
    const month = 30 * 24 * 3_600_000;
    const { record, events } = await runTask(runtime, "sleep a little", {
      budget: { max_wall_ms: month },
      deadline: new Date(Date.now() + month).toISOString(),
    });
    // setTimeout runs a delay past 2^31 ms after 1 ms: the run failed at its first step.
    expect(record).toMatchObject({ status: "completed", result: "done in time" });
    expect(ofKind(events, "budget")).toEqual([]);
  });

  it("caps an intent's budget with the app's ceiling", async () => {
    runtime = await openRuntime(
      makeApp({ appJson: { policy: { budget: { max_tool_calls: 2 } } } }),
      busyWork,
    );
    const { record } = await runTask(runtime, "work", { budget: { max_tool_calls: 10 } });
    expect(record.budget).toEqual({ max_tool_calls: 2 });
    expect(record.usage.tool_calls).toBe(2);
    expect(record.error?.reason).toBe("budget_exceeded");
  });
});
