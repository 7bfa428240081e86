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
