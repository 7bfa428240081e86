import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExtensionAPI } from "@earendil-works/pi-coding-agent";
import { afterEach, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import { overflowingModel } from "../helpers/faux";
import { kinds, makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("event bridge", () => {
  it("maps a multi-turn run with tool calls onto contract events, in order, with per-run seq", async () => {
    const app = makeApp();
    runtime = await openRuntime(app, [
      { tool: "write", args: { path: "notes.md", content: "# Notes\nsample A\n" } },
      {
        tools: [
          { tool: "read", args: { path: "notes.md" } },
          { tool: "bash", args: { command: "wc -l notes.md" } },
        ],
        text: "checking",
      },
      { text: "The notes have 2 lines." },
    ]);
    const { record, events } = await runTask(runtime, "count the lines in notes.md");

    expect(record.status).toBe("completed");
    expect(record.result).toBe("The notes have 2 lines.");
    expect(readFileSync(join(app.workdir, "notes.md"), "utf8")).toBe("# Notes\nsample A\n");

    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    for (const e of events) {
      expect(e).toMatchObject({ run_id: record.run_id, source: "edge", attempt: 1, tenant: "lab" });
    }
    // A tool's streamed output (tool_call_progress) depends on its timing; its own test is below.
    const sequence = kinds(events).filter(
      (k) => k !== "policy_decision" && k !== "tool_call_progress",
    );
    expect(sequence).toEqual([
      "run_started",
      "turn_started",
      "message", // user
      "message", // assistant: write
      "model_call",
      "tool_call_started",
      "tool_call_finished",
      "message", // tool result
      "turn_completed",
      "turn_started",
      "message", // assistant: read + bash
      "model_call",
      "tool_call_started",
      "tool_call_started",
      "tool_call_finished",
      "tool_call_finished",
      "message",
      "message",
      "turn_completed",
      "turn_started",
      "message", // final answer
      "model_call",
      "turn_completed",
      "run_completed",
    ]);

    const started = ofKind(events, "run_started")[0]!.payload;
    expect(started).toMatchObject({
      app: "lab-notes",
      attempt: 1,
      model: "faux/faux-1",
      resumed: false,
    });
    expect(started.tree_ref.session_file).toBe(`sessions/${record.run_id}-1.jsonl`);

    const turns = ofKind(events, "turn_completed").map((e) => e.payload);
    expect(turns).toEqual([
      { turn: 0, tool_calls: 1, stop_reason: "toolUse" },
      { turn: 1, tool_calls: 2, stop_reason: "toolUse" },
      { turn: 2, tool_calls: 0, stop_reason: "stop" },
    ]);

    const messages = ofKind(events, "message").map((e) => e.payload);
    expect(messages.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "tool",
      "assistant",
    ]);
    expect(messages[0]!.text).toBe("count the lines in notes.md");
    expect(messages[3]!.text).toBe("checking");
    expect(messages.at(-1)!.text).toBe("The notes have 2 lines.");
    // Every message names its entry in the pi session file, which holds exactly those entries
    // besides pi's system prompt (a message entry of its own, no conversation event).
    const session = readFileSync(join(app.stateDir, started.tree_ref.session_file), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; id: string; message?: { role: string } });
    const messageEntries = session
      .filter((e) => e.type === "message" && e.message?.role !== "system")
      .map((e) => e.id);
    expect(messages.map((m) => m.entry_id)).toEqual(messageEntries);
    const completed = ofKind(events, "run_completed")[0]!.payload;
    expect(completed.tree_ref?.entry_id).toBe(messageEntries.at(-1));

    const calls = ofKind(events, "model_call").map((e) => e.payload);
    expect(calls).toHaveLength(3);
    for (const call of calls) {
      expect(call).toMatchObject({
        provider: "faux",
        request_model: "faux-1",
        observer: "edge",
        scripted: true,
        cost_usd: 0,
        stream: true,
      });
      // pi-ai reports a cached prompt apart from input (the faux model caches, as providers do).
      expect(call.input_tokens + call.cache_read_tokens + call.cache_write_tokens).toBeGreaterThan(
        0,
      );
      expect(call.latency_ms).toBeGreaterThanOrEqual(0);
    }
    expect(calls.map((c) => c.finish_reasons)).toEqual([["toolUse"], ["toolUse"], ["stop"]]);

    // Parallel calls of one turn finish in completion order.
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => [f.tool, f.status]).sort()).toEqual([
      ["bash", "ok"],
      ["read", "ok"],
      ["write", "ok"],
    ]);
    expect(finished.find((f) => f.tool === "bash")!.result).toContain("2 notes.md");
    expect(finished.find((f) => f.tool === "read")!.result).toContain("sample A");
    const startedCalls = ofKind(events, "tool_call_started").map((e) => e.payload);
    expect(startedCalls.map((s) => s.tool_call_id).sort()).toEqual(
      finished.map((f) => f.tool_call_id).sort(),
    );
    for (const f of finished) expect(f.duration_ms).toBeGreaterThanOrEqual(0);
    expect(startedCalls[0]).toMatchObject({ tool: "write", tool_type: "function" });
    expect(JSON.parse(startedCalls[0]!.arguments)).toEqual({
      path: "notes.md",
      content: "# Notes\nsample A\n",
    });

    expect(completed.usage.model_calls).toBe(3);
    expect(completed.usage.tool_calls).toBe(3);
    expect(completed.usage.tokens_in).toBe(calls.reduce((n, c) => n + c.input_tokens, 0));
    expect(completed.usage.cost_usd).toBe(0);
  });

  it("reports a failing model call as model_call + error, and the run as failed with the model's error", async () => {
    runtime = await openRuntime(makeApp(), [{ error: "the model refused: content policy" }]);
    const { record, events } = await runTask(runtime, "x");
    expect(record.error).toMatchObject({
      category: "model",
      reason: "model_error",
      message: "the model refused: content policy",
    });
    expect(ofKind(events, "model_call")[0]!.payload.error_type).toBe("error");
    expect(ofKind(events, "error")[0]!.payload).toMatchObject({
      category: "model",
      fatal: false,
      message: "the model refused: content policy",
    });
    expect(kinds(events).at(-1)).toBe("run_failed");
  });

  it("logs a tool's progress at most once a second, and its newest note before the call ends", async () => {
    runtime = await openRuntime(makeApp(), [
      {
        tool: "bash",
        args: { command: "echo first; sleep 0.3; echo second; sleep 0.3; echo last" },
      },
      { text: "done" },
    ]);
    const { events } = await runTask(runtime, "x");
    const notes = ofKind(events, "tool_call_progress").map((e) => e.payload.partial);
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes.length).toBeLessThan(4);
    expect(notes[0]).toMatch(/first/);
    expect(notes.at(-1)).toMatch(/last/);
    expect(kinds(events).indexOf("tool_call_finished")).toBeGreaterThan(
      kinds(events).lastIndexOf("tool_call_progress"),
    );
  });

  it("turns an extension's failure into an error event and carries on", async () => {
    const broken = (pi: ExtensionAPI) => {
      pi.on("turn_end", () => {
        throw new Error("my extension broke");
      });
    };
    runtime = await openRuntime(makeApp(), [{ text: "fine anyway" }], {}, [broken]);
    const { record, events } = await runTask(runtime, "x");
    expect(record.status).toBe("completed");
    const error = ofKind(events, "error")[0]!.payload;
    expect(error).toMatchObject({ category: "internal", code: "extension_error", fatal: false });
    expect(error.message).toContain("my extension broke");
  });

  it("compacts a context that overflowed, logs it as a compaction event, and goes on", async () => {
    runtime = await openRuntime(makeApp(), [], { extensionFactories: [overflowingModel()] });
    const { record, events } = await runTask(runtime, "count");
    expect(record.status).toBe("completed");
    expect(record.result).toBe("finished after compaction");
    const compactions = ofKind(events, "compaction").map((e) => e.payload);
    expect(compactions).toHaveLength(1);
    expect(compactions[0]!.reason).toBe("overflow");
    expect(compactions[0]!.tokens_before).toBeGreaterThan(0);
    expect(compactions[0]!.entry_id).toMatch(/^[0-9a-f]{8}$/);
    const overflow = ofKind(events, "model_call").find((e) => e.payload.error_type !== null);
    expect(overflow?.payload.finish_reasons).toEqual(["error"]);
  });

  it("logs a compaction's summary as a model call, counted in the run's usage", async () => {
    const app = makeApp();
    runtime = await openRuntime(app, [], { extensionFactories: [overflowingModel()] });
    const { record, events } = await runTask(runtime, "count");
    const entry = readFileSync(join(app.stateDir, record.tree_ref.session_file), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .find((e) => e.type === "compaction");
    expect(entry.usage.input).toBeGreaterThan(0);
    const calls = ofKind(events, "model_call").map((e) => e.payload);
    const summary = calls.filter((c) => c.tags?.includes("compaction"));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({
      operation: "chat",
      provider: "faux",
      input_tokens: entry.usage.input + entry.usage.cacheRead + entry.usage.cacheWrite,
      output_tokens: entry.usage.output,
      observer: "edge",
    });
    // Logged before the compaction it wrote, like a message's call before what follows it.
    const at = (kind: string) => kinds(events).indexOf(kind);
    expect(events.indexOf(ofKind(events, "model_call").find((e) => e.payload.tags)!)).toBe(
      at("compaction") - 1,
    );
    expect(record.usage.model_calls).toBe(calls.length);
    expect(record.usage.tokens_out).toBe(calls.reduce((n, c) => n + c.output_tokens, 0));
  });
});
