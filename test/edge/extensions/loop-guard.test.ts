import { afterEach, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import { makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("loop guard", () => {
  it("steers an agent repeating the same call, then stops the run as stuck_loop", async () => {
    runtime = await openRuntime(makeApp(), [
      { repeat: { tool: "bash", args: { command: "cat status.txt" } } },
    ]);
    const { record, events } = await runTask(runtime, "wait for the status");
    expect(record.status).toBe("failed");
    expect(record.error).toMatchObject({ category: "stuck_loop", reason: "stuck_loop" });
    expect(record.error?.message).toContain("'bash' was called 5 times");

    const loops = ofKind(events, "loop_detected").map((e) => e.payload);
    // cat of a missing file fails every time: the failing threshold (3) applies.
    expect(loops.map((l) => [l.action, l.repeats, l.failing])).toEqual([
      ["steer", 3, true],
      ["stop", 5, true],
    ]);
    expect(loops[0]!.args_digest).toMatch(/^[0-9a-f]{64}$/);
    const steer = ofKind(events, "message").find((e) => e.payload.role === "system");
    expect(steer?.payload.text).toContain("Loop guard");
    expect(steer?.payload.entry_id).toMatch(/^[0-9a-f]{8}$/);
    const stopIndex = events.findIndex(
      (e) => e.kind === "loop_detected" && e.payload.action === "stop",
    );
    const steerIndex = events.findIndex((e) => e.kind === "loop_detected");
    expect(
      events
        .slice(steerIndex, stopIndex)
        .some((e) => e.kind === "message" && e.payload.role === "system"),
    ).toBe(true);
    const lastCall = ofKind(events, "tool_call_finished").at(-1)!.payload;
    expect(lastCall).toMatchObject({ status: "blocked", blocked_by: "stuck_loop" });
  });

  it("uses the repeat threshold for calls that succeed", async () => {
    runtime = await openRuntime(makeApp(), [
      { repeat: { tool: "bash", args: { command: "date +%Y" } } },
    ]);
    const { record, events } = await runTask(runtime, "poll");
    expect(record.error?.reason).toBe("stuck_loop");
    expect(
      ofKind(events, "loop_detected").map((e) => [
        e.payload.action,
        e.payload.repeats,
        e.payload.failing,
      ]),
    ).toEqual([
      ["steer", 4, false],
      ["stop", 6, false],
    ]);
  });

  it("leaves a poll alone whose result changes each time", async () => {
    // The same call, a new answer every time (a job's progress): the agent is making progress.
    runtime = await openRuntime(makeApp(), [
      ...Array.from({ length: 8 }, () => ({ tool: "bash", args: { command: "date +%s%N" } })),
      { text: "the job finished" },
    ]);
    const { record, events } = await runTask(runtime, "poll the job");
    expect(record).toMatchObject({ status: "completed", result: "the job finished" });
    const results = ofKind(events, "tool_call_finished").map((e) => e.payload.result);
    expect(new Set(results).size).toBe(8);
    expect(ofKind(events, "loop_detected")).toEqual([]);
  });

  it("counts a repeat only while the result repeats too", async () => {
    // The status file changes once, after the third poll: the count starts again from there.
    const polls = (n: number) =>
      Array.from({ length: n }, () => ({ tool: "bash", args: { command: "cat status.txt" } }));
    runtime = await openRuntime(makeApp(), [
      { tool: "write", args: { path: "status.txt", content: "running" } },
      ...polls(3),
      { tool: "write", args: { path: "status.txt", content: "still running" } },
      ...polls(7),
    ]);
    const { record, events } = await runTask(runtime, "poll");
    expect(record.error?.reason).toBe("stuck_loop");
    expect(
      ofKind(events, "loop_detected").map((e) => [e.payload.action, e.payload.repeats]),
    ).toEqual([
      ["steer", 4],
      ["stop", 6],
    ]);
    // Steered at the 4th identical answer after the change, not at the 4th identical call.
    expect(ofKind(events, "tool_call_started")).toHaveLength(1 + 3 + 1 + 6);
  });

  it("leaves a run alone that varies its calls", async () => {
    runtime = await openRuntime(makeApp(), [
      ...Array.from({ length: 8 }, (_, i) => ({ tool: "bash", args: { command: `echo ${i}` } })),
      { text: "varied" },
    ]);
    const { record, events } = await runTask(runtime, "vary");
    expect(record.status).toBe("completed");
    expect(ofKind(events, "loop_detected")).toHaveLength(0);
  });
});
