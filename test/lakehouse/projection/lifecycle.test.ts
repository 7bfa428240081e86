import { describe, expect, it } from "vitest";
import { foldRun, type LifecycleEvent } from "../../../lakehouse/projection/lifecycle";

let clock = 0;
function ev(
  kind: LifecycleEvent["kind"],
  attempt: number | null,
  extra: Partial<LifecycleEvent> = {},
): LifecycleEvent {
  clock += 1_000;
  return {
    event_id: `e${String(clock).padStart(8, "0")}`,
    kind,
    ts: clock,
    attempt,
    next: null,
    error_category: null,
    error_reason: null,
    error_message: null,
    cancel_reason: null,
    ...extra,
  };
}

const failure = {
  error_category: "infrastructure",
  error_reason: "agent_crashed",
  error_message: "the agent process exited",
};

describe("foldRun: a run's lifecycle through the run and intent machines", () => {
  it("follows a run from dispatch to completion", () => {
    const done = ev("run_completed", 1);
    const run = foldRun([ev("run_dispatched", 1), ev("run_started", 1), done]);
    expect(run).toEqual({
      status: "completed",
      intent_status: "completed",
      attempts: 1,
      settled_event_id: done.event_id,
      error: null,
      anomalies: [],
    });
  });

  it("orders by attempt and phase, not by clocks that disagree", () => {
    const started = ev("run_started", 1);
    const dispatched = { ...ev("run_dispatched", 1), ts: started.ts + 5 };
    expect(foldRun([started, dispatched, ev("run_completed", 1)]).status).toBe("completed");
  });

  it("stays running and queued-then-active while the run has not ended", () => {
    expect(foldRun([ev("run_dispatched", 1), ev("run_started", 1)])).toMatchObject({
      status: "running",
      intent_status: "active",
      settled_event_id: null,
    });
    expect(foldRun([])).toMatchObject({ status: "pending", intent_status: "queued", attempts: 0 });
  });

  it("treats a failure followed by a later attempt as retried", () => {
    const events = [
      ev("run_dispatched", 1),
      ev("run_started", 1),
      ev("run_failed", 1, failure),
      ev("run_dispatched", 2),
      ev("run_started", 2),
    ];
    expect(foldRun(events)).toMatchObject({
      status: "running",
      intent_status: "active",
      attempts: 2,
      anomalies: [],
    });
    const last = ev("run_failed", 2, failure);
    expect(foldRun([...events, last])).toMatchObject({
      status: "failed",
      intent_status: "failed",
      settled_event_id: last.event_id,
      error: {
        category: "infrastructure",
        reason: "agent_crashed",
        message: "the agent process exited",
      },
    });
  });

  it("requeues on an expired lease with attempts left and fails when central gave up", () => {
    expect(
      foldRun([
        ev("run_dispatched", 1),
        ev("run_started", 1),
        ev("lease_expired", 1, { next: "retry" }),
      ]),
    ).toMatchObject({ status: "pending", intent_status: "queued" });
    const gaveUp = ev("lease_expired", 3, { next: "fail" });
    const run = foldRun([ev("run_dispatched", 3), ev("run_started", 3), gaveUp]);
    expect(run).toMatchObject({
      status: "failed",
      intent_status: "failed",
      settled_event_id: gaveUp.event_id,
      error: { category: "infrastructure", reason: "lease_expired" },
    });
    expect(run.error?.message).toContain("attempt 3");
  });

  it("does not let an attempt that lost its lease end the run the next attempt completed", () => {
    const done = ev("run_completed", 2);
    const stale = ev("run_cancelled", 1, { cancel_reason: "the run moved to another agent" });
    const run = foldRun([
      ev("run_dispatched", 1),
      ev("run_started", 1),
      ev("lease_expired", 1, { next: "retry" }),
      ev("run_dispatched", 2),
      ev("run_started", 2),
      done,
      stale,
      ev("run_completed", 1),
    ]);
    expect(run).toMatchObject({
      status: "completed",
      intent_status: "completed",
      attempts: 2,
      settled_event_id: done.event_id,
      error: null,
    });
    expect(run.anomalies).toHaveLength(2);
    expect(run.anomalies[0]).toContain("superseded by attempt 2");
  });

  it("fills in the transitions an edge outbox cannot hold (dispatch and lease expiry are central's)", () => {
    const run = foldRun([ev("run_started", 1), ev("run_started", 2), ev("run_completed", 2)]);
    expect(run).toMatchObject({ status: "completed", attempts: 2, anomalies: [] });
  });

  it("takes a resumed start of the same attempt as no transition", () => {
    const run = foldRun([
      ev("run_dispatched", 1),
      ev("run_started", 1),
      ev("run_started", 1, {}),
      ev("run_completed", 1),
    ]);
    expect(run).toMatchObject({ status: "completed", anomalies: [] });
  });

  it("keeps how a run settled and records what came after as an anomaly", () => {
    const completed = ev("run_completed", 1);
    const late = ev("run_cancelled", null, { cancel_reason: "too late" });
    const run = foldRun([ev("run_dispatched", 1), ev("run_started", 1), completed, late]);
    expect(run.status).toBe("completed");
    expect(run.settled_event_id).toBe(completed.event_id);
    expect(run.anomalies).toHaveLength(1);
    expect(run.anomalies[0]).toContain(`run_cancelled ${late.event_id}`);
    expect(run.anomalies[0]).toContain("after the run was completed");
  });

  it("accepts a repeat of how the run settled silently (central's failure after its lease gave up)", () => {
    const run = foldRun([
      ev("run_dispatched", 1),
      ev("run_started", 1),
      ev("lease_expired", 1, { next: "fail" }),
      ev("run_failed", 1, failure),
    ]);
    expect(run).toMatchObject({ status: "failed", anomalies: [] });
  });

  it("settles a cancel before dispatch with the cancel reason", () => {
    const run = foldRun([ev("run_cancelled", null, { cancel_reason: "user changed their mind" })]);
    expect(run).toMatchObject({
      status: "cancelled",
      intent_status: "cancelled",
      error: { category: "cancelled", reason: "cancelled", message: "user changed their mind" },
    });
  });
});
