import { afterEach, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import type { FauxStep } from "../helpers/faux";
import { admitRun, kinds, makeApp, ofKind, openRuntime, waitForEvents } from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("run manager: cancel", () => {
  it("stops a run cancelled while it was starting, before its first model call", async () => {
    runtime = await openRuntime(makeApp(), [
      { tool: "bash", args: { command: "echo side-effect >> lab.txt" } },
      { text: "done" },
    ]);
    const { runId } = await admitRun(runtime);
    const beginning = runtime.runs.begin(runId);
    // begin() is writing the claim: the run is `running` on record, its execution not yet there.
    expect(runtime.runs.get(runId)?.status).toBe("running");
    expect(runtime.runs.isActive(runId)).toBe(false);
    expect(runtime.runs.cancel(runId, "user cancelled", "central")).toBe(true);
    const record = await (await beginning).done;
    const events = await runtime.eventsOf(runId);
    expect(record.status).toBe("cancelled");
    expect(kinds(events).filter((k) => k.startsWith("run_"))).toEqual([
      "run_started",
      "run_cancelled",
    ]);
    expect(ofKind(events, "run_cancelled")[0]!.payload).toMatchObject({
      reason: "user cancelled",
      by: "central",
    });
    expect(ofKind(events, "model_call")).toEqual([]);
    expect(ofKind(events, "tool_call_started")).toEqual([]);
  });

  it("a cancel during a checkpoint wins: the run ends cancelled and is not resumed", async () => {
    const app = makeApp();
    const script: FauxStep[] = [
      { tool: "bash", args: { command: "sleep 30" } },
      { tool: "bash", args: { command: "echo after-cancel >> lab.txt" } },
      { text: "done" },
    ];
    runtime = await openRuntime(app, script);
    const { runId } = await admitRun(runtime);
    await runtime.runs.begin(runId);
    await waitForEvents(runtime, runId, (events) => ofKind(events, "tool_call_started").length > 0);
    // The lease lapsed (LeaseFence checkpoints the run), and central's cancel arrives meanwhile.
    const stopping = runtime.runs.checkpoint(runId, "lease expired");
    expect(runtime.runs.cancel(runId, "user cancelled", "central")).toBe(true);
    await stopping;
    expect(runtime.runs.get(runId)?.status).toBe("cancelled");
    await runtime.close();

    runtime = await openRuntime(app, script);
    expect(await runtime.runs.resumeInterrupted()).toEqual([]);
    const events = await runtime.eventsOf(runId);
    expect(kinds(events).filter((k) => k.startsWith("run_"))).toEqual([
      "run_started",
      "run_cancelled",
    ]);
    expect(ofKind(events, "tool_call_started")).toHaveLength(1);
  });
});

describe("run manager: what the agent tells central it holds", () => {
  it("names central runs running or claimed (a lease on record) and not yet begun, no others", async () => {
    runtime = await openRuntime(makeApp(), [{ text: "done" }]);
    await admitRun(runtime);
    const granted = await admitRun(runtime);
    await runtime.runs.leased(granted.runId, 1, new Date(Date.now() + 60_000).toISOString());
    await admitRun(runtime, {}, "local");
    expect(runtime.runs.heldForCentral()).toEqual([{ run_id: granted.runId, attempt: 1 }]);
  });
});
