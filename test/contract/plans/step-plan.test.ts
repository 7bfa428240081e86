import { describe, expect, it } from "vitest";
import { PlanSpec, planDue, planUsage } from "../../../contract";
import { PlanHarness, spec, T0, tokens } from "./harness";

const steps = (...s: Record<string, unknown>[]) => PlanSpec.parse({ steps: s }).steps;

/** A plan through `start` and its planner's answer. */
function planned(request: Record<string, unknown>, ...s: Record<string, unknown>[]): PlanHarness {
  const h = new PlanHarness({ goal: "tidy the lab", ...request });
  h.step({ type: "start" });
  expect(h.effects).toContainEqual({
    type: "plan",
    round: "initial",
    replan: 0,
    attempt: 1,
    feedback: null,
  });
  h.step({ type: "planned", steps: steps(...s), usage: tokens(100) });
  return h;
}

describe("a plan's life", () => {
  it("runs independent steps in parallel, then the step that takes their results", () => {
    const h = planned(
      {},
      spec("survey"),
      spec("inventory"),
      spec("report", {
        depends_on: ["survey", "inventory"],
        inputs: { findings: { step: "survey" }, count: { step: "inventory", path: "/items/0" } },
      }),
    );
    expect(h.plan.status).toBe("running");
    expect(h.plan.version).toBe(1);
    expect(h.submitted.map((s) => s.step_id)).toEqual(["survey", "inventory"]);
    expect(h.submitted[0]).toMatchObject({
      attempt: 1,
      idempotency_key: `plan:${h.plan.plan_id}:v1:survey:1`,
      intent: { type: "task", params: { prompt: "survey" }, targets: [{ app: "lab-notes" }] },
    });
    expect(h.status("report")).toBe("waiting");

    h.run("survey", "completed");
    expect(h.status("report")).toBe("waiting");
    h.run("inventory", "completed", { result: JSON.stringify({ items: [42] }) });
    expect(h.submitted.at(-1)).toMatchObject({
      step_id: "report",
      intent: { params: { prompt: "report", findings: "survey done", count: 42 } },
    });
    h.run("report", "completed");
    expect(h.plan.status).toBe("completed");
    expect(h.kinds()).toContain("plan_status");
    expect(planDue(h.plan)).toBeNull();
  });

  it("retries a step within its attempts, then repairs the rest with a new version", () => {
    const h = planned(
      { policy: { max_replans: 1 } },
      spec("fetch", { max_attempts: 2 }),
      spec("analyse", { depends_on: ["fetch"] }),
      spec("other"),
    );
    h.run("other", "completed");
    h.run("fetch", "failed");
    expect(h.status("fetch")).toBe("running");
    expect(h.submitted.filter((s) => s.step_id === "fetch").map((s) => s.attempt)).toEqual([1, 2]);
    h.run("fetch", "failed");
    expect(h.plan.status).toBe("replanning");
    const ask = h.effects.find((e) => e.type === "plan");
    expect(ask).toMatchObject({ round: "repair", attempt: 1 });
    expect(ask).toMatchObject({ feedback: expect.stringContaining("step fetch failed") });

    h.step({
      type: "planned",
      steps: steps(
        spec("fetch-mirror"),
        spec("analyse2", { depends_on: ["fetch-mirror", "other"] }),
      ),
      usage: tokens(50),
    });
    expect(h.plan).toMatchObject({ status: "running", version: 2 });
    expect(h.plan.steps.map((s) => [s.id, s.status, s.version])).toEqual([
      ["other", "completed", 1],
      ["fetch-mirror", "running", 2],
      ["analyse2", "waiting", 2],
    ]);
    expect(h.plan.history[0]!.steps.map((s) => [s.id, s.status])).toEqual([
      ["fetch", "failed"],
      ["analyse", "superseded"],
    ]);
    h.run("fetch-mirror", "completed");
    h.run("analyse2", "completed");
    expect(h.plan.status).toBe("completed");
  });

  it("fails the plan with the reason when the replans run out", () => {
    const h = planned({ policy: { max_replans: 0 } }, spec("only", { max_attempts: 1 }));
    h.run("only", "failed");
    expect(h.plan.status).toBe("failed");
    expect(h.plan.error).toMatchObject({ reason: "step_failed" });
    expect(h.plan.error!.message).toContain("step only failed");
  });

  it("a given plan is not replanned: a failed step fails it", () => {
    const h = new PlanHarness({
      goal: "g",
      planner: "given",
      steps: [spec("a", { max_attempts: 1 })],
    });
    h.step({ type: "start" });
    h.step({ type: "planned", steps: steps(spec("a", { max_attempts: 1 })), usage: tokens(0) });
    h.run("a", "failed");
    expect(h.plan.status).toBe("failed");
  });

  it("retries a refused plan with the reason, a bounded number of times", () => {
    const h = new PlanHarness({ goal: "g", policy: { planning_attempts: 2 } });
    h.step({ type: "start" });
    h.step({ type: "planning_failed", error: "steps.0.depends_on: a cycle", usage: tokens(10) });
    expect(h.effects).toEqual([
      {
        type: "plan",
        round: "initial",
        replan: 0,
        attempt: 2,
        feedback: "steps.0.depends_on: a cycle",
      },
    ]);
    h.step({ type: "planning_failed", error: "not JSON", usage: tokens(10) });
    expect(h.plan.status).toBe("failed");
    expect(h.plan.error).toMatchObject({ reason: "planning_failed" });
    expect(planUsage(h.plan).tokens_in).toBe(20);
  });

  it("waits for approval before it starts; a rejection fails it", () => {
    const approved = planned({ policy: { approve_before_start: true } }, spec("a"));
    expect(approved.plan.status).toBe("awaiting_approval");
    expect(approved.submitted).toEqual([]);
    expect(approved.kinds()).toContain("approval_requested");
    const planApproval = approved.plan.approval!.approval_id;
    approved.step({ type: "approve", approval_id: planApproval, step_id: null, by: "key_op" });
    expect(approved.plan.status).toBe("running");
    expect(approved.plan.approval).toMatchObject({ status: "approved", decided_by: "key_op" });
    expect(approved.submitted.map((s) => s.step_id)).toEqual(["a"]);

    const rejected = planned({ policy: { approve_before_start: true } }, spec("a"));
    rejected.step({
      type: "reject",
      approval_id: rejected.plan.approval!.approval_id,
      step_id: null,
      by: "key_op",
      reason: "not today",
    });
    expect(rejected.plan.status).toBe("failed");
    expect(rejected.plan.error!.message).toContain("not today");
  });

  it("holds a step for approval; an expired approval is a rejection, and may replan", () => {
    const h = planned(
      { policy: { approval_timeout_ms: 60_000, on_reject: "replan" } },
      spec("arm", { requires_approval: true }),
    );
    expect(h.status("arm")).toBe("awaiting_approval");
    expect(planDue(h.plan)).toBe(T0 + 60_000);
    h.advance(59_999).step({ type: "tick" });
    expect(h.status("arm")).toBe("awaiting_approval");
    h.advance(1).step({ type: "tick" });
    expect(h.plan.status).toBe("replanning");
    expect(h.plan.steps[0]!.approval).toMatchObject({ status: "expired", decided_by: null });
  });

  it("an approved step starts", () => {
    const h = planned({}, spec("arm", { requires_approval: true }));
    const approval_id = h.plan.steps[0]!.approval!.approval_id;
    h.step({ type: "approve", approval_id, step_id: "arm", by: "key_op" });
    expect(h.status("arm")).toBe("running");
    h.step({ type: "approve", approval_id, step_id: "arm", by: "key_op" });
    expect(h.refusal).toMatch(/nothing awaits approval/);
  });

  it("refuses a decision past the approval's deadline, before the timer has expired it", () => {
    const h = planned(
      { policy: { approval_timeout_ms: 60_000 } },
      spec("arm", { requires_approval: true }),
    );
    const approval_id = h.plan.steps[0]!.approval!.approval_id;
    h.advance(120_000).step({ type: "approve", approval_id, step_id: "arm", by: "key_op" });
    expect(h.refusal).toMatch(/expired at/);
    expect(h.status("arm")).toBe("awaiting_approval");
    h.step({ type: "tick" });
    expect(h.plan.steps[0]!.approval).toMatchObject({ status: "expired" });
  });

  it("withdraws a replaced step's approval: deciding it does not decide the new version's", () => {
    const h = planned(
      { policy: { max_replans: 1 } },
      spec("arm", { requires_approval: true }),
      spec("simulate", { max_attempts: 1 }),
    );
    const stale = h.plan.steps[0]!.approval!.approval_id;
    h.run("simulate", "failed");
    h.step({
      type: "planned",
      steps: steps(
        spec("arm", { requires_approval: true, params: { prompt: "v2: move the arm fast" } }),
      ),
      usage: tokens(10),
    });
    const replaced = h.plan.history[0]!.steps.find((s) => s.id === "arm")!;
    expect(replaced).toMatchObject({
      status: "superseded",
      approval: { approval_id: stale, status: "withdrawn", reason: "step superseded by version 2" },
    });
    const current = () => h.plan.steps.find((s) => s.id === "arm")!;
    const fresh = current().approval!.approval_id;
    expect(fresh).not.toBe(stale);
    h.step({ type: "approve", approval_id: stale, step_id: "arm", by: "key_op" });
    expect(h.refusal).toMatch(new RegExp(`approval ${stale} is not the one step arm`));
    expect(current()).toMatchObject({
      status: "awaiting_approval",
      approval: { status: "pending" },
    });
    h.step({ type: "approve", approval_id: fresh, step_id: "arm", by: "key_op" });
    expect(current().status).toBe("running");
    expect(h.submitted.at(-1)!.intent.params).toEqual({ prompt: "v2: move the arm fast" });
  });

  it("withdraws, when it ends, an approval a replaced step of an older stored plan still holds", () => {
    const h = planned(
      { policy: { max_replans: 1 } },
      spec("arm", { requires_approval: true }),
      spec("simulate", { max_attempts: 1 }),
    );
    h.run("simulate", "failed");
    h.step({ type: "planned", steps: steps(spec("other")), usage: tokens(10) });
    // As a plan repaired before repairs withdrew approvals was stored.
    const kept = h.plan.history[0]!.steps.find((s) => s.id === "arm")!.approval!;
    Object.assign(kept, { status: "pending", decided_by: null, decided_at: null, reason: null });
    h.step({ type: "cancel", by: "key_op", reason: "done here" });
    expect(h.plan.history[0]!.steps.find((s) => s.id === "arm")!.approval).toMatchObject({
      status: "withdrawn",
    });
  });

  it("stops at its budget: running runs are cancelled and the plan fails", () => {
    const h = planned({ budget: { max_tokens: 1_000 } }, spec("a"), spec("b"));
    expect(h.submitted[0]!.intent.budget).toEqual({ max_tokens: 900 });
    h.run("a", "running", { usage: tokens(950) });
    expect(h.plan.status).toBe("failed");
    expect(h.plan.error).toMatchObject({ reason: "budget_exceeded" });
    expect(h.effects.filter((e) => e.type === "cancel_run")).toHaveLength(2);
    expect(h.plan.steps.map((s) => s.status)).toEqual(["cancelled", "cancelled"]);
  });

  it("stops once its planning calls alone spent its USD budget, and asks its planner no more", () => {
    const h = new PlanHarness({ goal: "g", budget: { max_cost_usd: 0.05 } });
    h.step({ type: "start" });
    const priced = (usd: number) => ({ ...tokens(100), cost_usd: usd, model_calls: 1 });
    h.step({ type: "planning_failed", error: "not JSON", usage: priced(0.03) });
    expect(h.kinds()).toContain("plan");
    h.step({ type: "planning_failed", error: "not JSON", usage: priced(0.03) });
    expect(h.plan).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
    expect(h.plan.error!.message).toMatch(/spent \$0\.06 of its \$0\.05/);
    expect(h.kinds()).not.toContain("plan");
    expect(h.plan.usage).toMatchObject({ cost_usd: 0.06, model_calls: 2 });
  });

  it("keeps its USD budget over priced calls when some were unpriced", () => {
    const h = planned(
      { budget: { max_cost_usd: 1 } },
      spec("a"),
      spec("b", { depends_on: ["a"] }),
      spec("c", { depends_on: ["b"] }),
    );
    // a ran on a local model (unpriced) and on a priced one for $0.25.
    h.run("a", "completed", { usage: { ...tokens(10), cost_usd: null } }, 0.25);
    expect(h.plan.usage.cost_usd).toBeNull();
    expect(h.submitted.at(-1)).toMatchObject({
      step_id: "b",
      intent: { budget: { max_cost_usd: 0.75 } },
    });
    h.run("b", "completed", { usage: { ...tokens(10), cost_usd: 0.8 } });
    expect(h.plan).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
    expect(h.plan.error!.message).toBe("the plan spent $1.05 of its $1");
  });

  it("stops at its wall-time budget", () => {
    const h = planned({ budget: { max_wall_ms: 10_000 } }, spec("a"));
    expect(h.submitted[0]!.intent.deadline).toBe(new Date(T0 + 10_000).toISOString());
    h.advance(10_000).step({ type: "tick" });
    expect(h.plan).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
  });

  it("holds a step that failed for good while paused, and repairs it when resumed", () => {
    const h = planned({}, spec("a", { max_attempts: 1 }), spec("b"));
    h.step({ type: "pause", by: "key_op" });
    h.run("a", "failed");
    expect(h.refusal).toBeNull();
    expect(h.plan.status).toBe("paused");
    expect(h.status("a")).toBe("failed");
    expect(h.kinds()).not.toContain("plan");
    h.step({ type: "resume", by: "key_op" });
    expect(h.plan.status).toBe("replanning");
    expect(h.effects).toContainEqual({
      type: "plan",
      round: "repair",
      replan: 1,
      attempt: 1,
      feedback: "step a failed (tool_error): a broke",
    });

    const spent = planned({ policy: { max_replans: 0 } }, spec("a", { max_attempts: 1 }));
    spent.step({ type: "pause", by: "key_op" });
    spent.run("a", "failed");
    expect(spent.plan).toMatchObject({ status: "failed", error: { reason: "step_failed" } });
  });

  it("a step that fails while a repair is planned starts another; the answer to the first is stale", () => {
    const h = planned({}, spec("a", { max_attempts: 1 }), spec("b", { max_attempts: 1 }));
    h.run("a", "failed");
    expect(h.plan.status).toBe("replanning");
    h.run("b", "failed");
    expect(h.refusal).toBeNull();
    expect(h.plan.status).toBe("replanning");
    expect(h.effects).toContainEqual({
      type: "plan",
      round: "repair",
      replan: 2,
      attempt: 1,
      feedback: "step a failed (tool_error): a broke\nstep b failed (tool_error): b broke",
    });
    // The answer to the first ask planned around b as running: it is not taken, and asked again.
    h.step({
      type: "planned",
      steps: steps(spec("a2")),
      usage: tokens(10),
      answers: { replan: 1, attempt: 1 },
    });
    expect(h.plan).toMatchObject({ status: "replanning", version: 1 });
    expect(h.effects).toEqual([expect.objectContaining({ type: "plan", replan: 2, attempt: 1 })]);
    expect(h.plan.planning.usage.tokens_in).toBe(110);
    h.step({
      type: "planned",
      steps: steps(spec("a2"), spec("b2")),
      usage: tokens(10),
      answers: { replan: 2, attempt: 1 },
    });
    expect(h.plan).toMatchObject({ status: "running", version: 2 });
    expect(h.plan.history[0]!.steps.map((s) => [s.id, s.status])).toEqual([
      ["a", "failed"],
      ["b", "failed"],
    ]);

    const last = planned(
      { policy: { max_replans: 1 } },
      spec("a", { max_attempts: 1 }),
      spec("b", { max_attempts: 1 }),
    );
    last.run("a", "failed");
    last.run("b", "failed");
    expect(last.plan).toMatchObject({ status: "failed", error: { reason: "step_failed" } });
  });

  it("keeps a step about to retry through a repair, and starts its next attempt after it", () => {
    const h = planned({}, spec("a", { max_attempts: 1 }), spec("b", { max_attempts: 2 }));
    h.run("a", "failed");
    h.run("b", "failed");
    expect(h.plan.status).toBe("replanning");
    expect(h.status("b")).toBe("ready");
    h.step({
      type: "planned",
      steps: steps(spec("a2", { depends_on: ["b"] })),
      usage: tokens(10),
      answers: { replan: 1, attempt: 1 },
    });
    expect(h.plan.steps.map((s) => [s.id, s.status])).toEqual([
      ["b", "running"],
      ["a2", "waiting"],
    ]);
    expect(h.submitted.filter((s) => s.step_id === "b").map((s) => s.attempt)).toEqual([1, 2]);
  });

  it("a step rejected while a repair is planned is replaced by it, using no replan of its own", () => {
    const h = planned(
      { policy: { on_reject: "replan", max_replans: 1 } },
      spec("a", { max_attempts: 1 }),
      spec("x", { requires_approval: true }),
    );
    h.run("a", "failed");
    expect(h.plan.status).toBe("replanning");
    h.step({
      type: "reject",
      approval_id: h.plan.steps[1]!.approval!.approval_id,
      step_id: "x",
      by: "key_op",
      reason: "not now",
    });
    expect(h.plan).toMatchObject({ status: "replanning", planning: { replans: 1 } });
    expect(h.status("x")).toBe("failed");
    expect(h.kinds()).not.toContain("plan");
    h.step({ type: "planned", steps: steps(spec("a2")), usage: tokens(10) });
    expect(h.plan.status).toBe("running");
    expect(h.plan.history[0]!.steps.map((s) => [s.id, s.status])).toEqual([
      ["a", "failed"],
      ["x", "failed"],
    ]);
  });

  it("expires two step approvals in one tick and repairs both at once", () => {
    const h = planned(
      { policy: { approval_timeout_ms: 60_000, on_reject: "replan" } },
      spec("x", { requires_approval: true }),
      spec("y", { requires_approval: true }),
    );
    h.advance(60_000).step({ type: "tick" });
    expect(h.refusal).toBeNull();
    expect(h.plan.status).toBe("replanning");
    expect(h.plan.planning).toMatchObject({
      replans: 1,
      feedback: expect.stringMatching(/step x failed .*\nstep y failed/),
    });
    expect(h.plan.steps.map((s) => s.approval?.status)).toEqual(["expired", "expired"]);
    expect(planDue(h.plan)).toBeNull();

    const once = planned(
      { policy: { approval_timeout_ms: 60_000, on_reject: "replan", max_replans: 1 } },
      spec("x", { requires_approval: true }),
      spec("y", { requires_approval: true }),
    );
    once.advance(60_000).step({ type: "tick" });
    expect(once.plan.status).toBe("replanning");
  });

  it("fails while awaiting approval when its wall time or its planning's budget runs out", () => {
    const late = planned(
      { policy: { approve_before_start: true }, budget: { max_wall_ms: 10_000 } },
      spec("a"),
    );
    late.advance(10_000).step({ type: "tick" });
    expect(late.plan).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
    expect(late.plan.approval).toMatchObject({ status: "withdrawn" });

    const dear = new PlanHarness({
      goal: "g",
      policy: { approve_before_start: true },
      budget: { max_tokens: 50 },
    });
    dear.step({ type: "start" });
    dear.step({ type: "planned", steps: steps(spec("a")), usage: tokens(100) });
    expect(dear.plan).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
    expect(dear.kinds()).not.toContain("plan");
  });

  it("gives the plan's approval an id no step's can take, a step named plan included", () => {
    const h = planned(
      { policy: { approve_before_start: true } },
      spec("plan", { requires_approval: true }),
    );
    const planApproval = h.plan.approval!.approval_id;
    h.step({ type: "approve", approval_id: planApproval, step_id: null, by: "key_op" });
    const stepApproval = h.plan.steps[0]!.approval!.approval_id;
    expect(stepApproval).not.toBe(planApproval);
    h.step({ type: "approve", approval_id: planApproval, step_id: "plan", by: "key_op" });
    expect(h.refusal).toMatch(/is not the one/);
    h.step({ type: "approve", approval_id: stepApproval, step_id: "plan", by: "key_op" });
    expect(h.status("plan")).toBe("running");
  });

  it("starts no step while paused, and goes on when resumed", () => {
    const h = planned({}, spec("a"), spec("b", { depends_on: ["a"] }));
    h.step({ type: "pause", by: "key_op" });
    h.run("a", "completed");
    expect(h.status("b")).toBe("ready");
    expect(h.submitted.map((s) => s.step_id)).toEqual(["a"]);
    h.step({ type: "resume", by: "key_op" });
    expect(h.submitted.map((s) => s.step_id)).toEqual(["a", "b"]);
  });

  it("never runs more steps at once than the policy allows", () => {
    const h = planned({ policy: { max_parallel: 2 } }, spec("a"), spec("b"), spec("c"));
    expect(h.submitted.map((s) => s.step_id)).toEqual(["a", "b"]);
    h.run("b", "completed");
    expect(h.submitted.map((s) => s.step_id)).toEqual(["a", "b", "c"]);
  });

  it("cancels its running runs when cancelled, and refuses anything after it ended", () => {
    const h = planned({}, spec("a"));
    h.step({ type: "cancel", by: "key_op", reason: "wrong goal" });
    expect(h.plan.status).toBe("cancelled");
    expect(h.effects).toContainEqual({
      type: "cancel_run",
      run_id: h.runs.get("a")!.run_id,
      reason: expect.stringContaining("cancelled by key_op"),
    });
    h.step({ type: "pause", by: "key_op" });
    expect(h.refusal).toMatch(/already cancelled/);
  });

  it("fails a step whose input is missing from the result it names", () => {
    const h = planned(
      { policy: { max_replans: 0 } },
      spec("a"),
      spec("b", { depends_on: ["a"], inputs: { x: { step: "a", path: "/nope" } } }),
    );
    h.run("a", "completed", { result: "{}" });
    expect(h.status("b")).toBe("failed");
    expect(h.plan.error!.message).toContain("has nothing at /nope");
  });

  it.each([
    ["/constructor", "{}"],
    ["/toString", "{}"],
    ["/__proto__", "{}"],
    ["/list/", '{"list": [1]}'],
    ["/list/00", '{"list": [1]}'],
    ["/list/1e0", '{"list": [1, 2]}'],
  ])("finds nothing at %s in %s: only own members, only RFC 6901 indices", (path, result) => {
    const h = planned(
      { policy: { max_replans: 0 } },
      spec("a"),
      spec("b", { depends_on: ["a"], inputs: { x: { step: "a", path } } }),
    );
    h.run("a", "completed", { result });
    expect(h.status("b")).toBe("failed");
    expect(h.plan.error!.message).toContain(`has nothing at ${path}`);
  });

  it("reads a member named like an Object member when the result has it", () => {
    const h = planned(
      {},
      spec("a"),
      spec("b", { depends_on: ["a"], inputs: { x: { step: "a", path: "/constructor/1" } } }),
    );
    h.run("a", "completed", { result: '{"constructor": ["p", "q"]}' });
    expect(h.status("b")).toBe("running");
    expect(h.submitted.at(-1)).toMatchObject({ step_id: "b", intent: { params: { x: "q" } } });
  });

  it("counts planning and every run in its usage", () => {
    const h = planned({}, spec("a"));
    h.run("a", "completed", { usage: tokens(40) });
    expect(planUsage(h.plan).tokens_in).toBe(140);
  });
});
