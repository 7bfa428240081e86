import { describe, expect, it } from "vitest";
import { RunControl, type StopRequest } from "../../../edge/runs/run-control";

const checkpoint: StopRequest = { kind: "checkpoint", reason: "lease expired" };
const cancel: StopRequest = { kind: "cancel", reason: "user cancelled", by: "central" };
const fail: StopRequest = {
  kind: "fail",
  error: { category: "budget_exceeded", reason: "budget_exceeded", message: "tokens" },
};

describe("run control", () => {
  it("keeps the first stop, aborting the session once it is bound", () => {
    const control = new RunControl();
    expect(control.stop(fail)).toBe(true);
    let aborts = 0;
    control.bindAbort(() => aborts++);
    expect(aborts).toBe(1);
    expect(control.stop(cancel)).toBe(false);
    expect(control.stop(checkpoint)).toBe(false);
    expect(control.stopRequest).toEqual(fail);
  });

  it("lets a cancel override a checkpoint, and nothing override a cancel", () => {
    const control = new RunControl();
    expect(control.stop(checkpoint)).toBe(true);
    expect(control.stop(fail)).toBe(false);
    expect(control.stop(cancel)).toBe(true);
    expect(control.stop(checkpoint)).toBe(false);
    expect(control.stop({ ...cancel, reason: "again" })).toBe(false);
    expect(control.stopRequest).toEqual(cancel);
  });
});
