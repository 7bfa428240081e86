import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Approval, AuditList, Plan, PlanList } from "../../../contract";
import {
  advanceClock,
  call,
  connectAgent,
  eventually,
  json,
  putSettings,
  runState,
} from "../support";
import {
  complete,
  fail,
  getPlan,
  noDispatch,
  PLAN_SETTINGS,
  planEvents,
  planTenant,
  stepOf,
  submitPlan,
  takeNext,
} from "./support";

const notes = { app: "lab-notes" };
const sim = { app: "sim" };

describe("a given plan across two apps", () => {
  it("runs independent steps in parallel, hands one app's result to the other's step, completes", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1", { app: "lab-notes" });
    const b = await connectAgent(agentKey, tenant, "sim-1", { app: "sim" });
    const { plan } = await submitPlan(admin, {
      goal: "measure, simulate, compare",
      planner: "given",
      steps: [
        { id: "measure", targets: [notes], params: { prompt: "measure" } },
        { id: "simulate", targets: [sim], params: { prompt: "simulate" } },
        {
          id: "compare",
          targets: [sim],
          params: { prompt: "compare" },
          depends_on: ["measure", "simulate"],
          inputs: {
            measured: { step: "measure", path: "/value" },
            simulated: { step: "simulate" },
          },
        },
      ],
    });
    expect(plan).toMatchObject({ status: "running", version: 1, planner: "given" });
    expect(plan.steps.map((s) => [s.id, s.status])).toEqual([
      ["measure", "running"],
      ["simulate", "running"],
      ["compare", "waiting"],
    ]);
    // Both independent steps are out before either finished.
    const measure = await takeNext(a);
    const simulate = await takeNext(b);
    expect(measure.intent.params).toEqual({ prompt: "measure" });
    expect(measure.intent.idempotency_key).toBe(`plan:${plan.plan_id}:v1:measure:1`);
    await complete(a, measure.run, JSON.stringify({ value: 42 }), 10);
    expect(stepOf(await getPlan(admin, plan.plan_id), "compare").status).toBe("waiting");
    await complete(b, simulate.run, "41.5", 5);
    const compare = await takeNext(b);
    expect(compare.intent.params).toEqual({ prompt: "compare", measured: 42, simulated: "41.5" });
    await complete(b, compare.run, "close enough", 1);
    const done = await getPlan(admin, plan.plan_id);
    expect(done).toMatchObject({ status: "completed", error: null });
    expect(stepOf(done, "compare")).toMatchObject({ status: "completed", result: "close enough" });
    expect(done.usage.tokens_in).toBe(16);
    const events = await planEvents(admin, plan.plan_id);
    const kinds = events.map((e) => e.kind);
    // Created (planning), then its first version of steps.
    expect(kinds.slice(0, 2)).toEqual(["plan_status", "plan_version"]);
    expect(events[0]!.payload).toMatchObject({ status: "planning", version: 0 });
    expect(kinds).toContain("plan_step");
    expect(kinds.at(-1)).toBe("plan_status");
    const list = await json<PlanList>(await call("GET", "/v1/plans", { key: admin }), 200);
    expect(list.plans[0]).toMatchObject({
      plan_id: plan.plan_id,
      status: "completed",
      steps: 3,
      steps_completed: 3,
    });
  });

  it("refuses steps that cannot run: a cycle, a target nobody serves, bad inputs (422 with paths)", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    await connectAgent(agentKey, tenant, "notes-1");
    const refused = await json<{ error: { issues: { path: string; message: string }[] } }>(
      await call("POST", "/v1/plans", {
        key: admin,
        body: {
          goal: "loop",
          planner: "given",
          steps: [
            { id: "x", targets: [notes], depends_on: ["y"] },
            { id: "y", targets: [{ app: "nobody" }], depends_on: ["x"] },
          ],
        },
      }),
      422,
    );
    const messages = refused.error.issues.map((i) => `${i.path}: ${i.message}`).join("\n");
    expect(messages).toMatch(/cycle: x -> y -> x|cycle: y -> x -> y/);
    expect(messages).toMatch(/steps\[1\]\.targets\[0\]: no registered agent serves app nobody/);
    const list = await json<PlanList>(await call("GET", "/v1/plans", { key: admin }), 200);
    expect(list.plans).toEqual([]);
    await json(
      await call("POST", "/v1/plans", { key: admin, body: { goal: "g", planner: "given" } }),
      422,
    );
  });

  it("offers planners and checks no offline agent: a step only an offline agent serves is refused", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const retired = await connectAgent(agentKey, tenant, "sim-1", { app: "sim" });
    retired.send({ type: "goodbye", reason: "retired" });
    await retired.waitClosed();
    const refused = await json<{ error: { issues: { path: string; message: string }[] } }>(
      await call("POST", "/v1/plans", {
        key: admin,
        body: { goal: "simulate", planner: "given", steps: [{ id: "s", targets: [sim] }] },
      }),
      422,
    );
    expect(refused.error.issues[0]).toMatchObject({ path: "steps[0].targets[0]" });
  });

  it("is idempotent by key: the same request answers the first plan, another one 409", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    await connectAgent(agentKey, tenant, "notes-1");
    const body = {
      goal: "once",
      planner: "given",
      idempotency_key: "plan-once",
      steps: [{ id: "s", targets: [notes] }],
    };
    const first = await submitPlan(admin, body);
    const again = await submitPlan(admin, body, 200);
    expect(again).toMatchObject({ duplicate: true, plan: { plan_id: first.plan.plan_id } });
    await json(
      await call("POST", "/v1/plans", { key: admin, body: { ...body, goal: "other" } }),
      409,
    );
  });
});

describe("a plan's text", () => {
  it("is kept, shown and planned from redacted, as an intent's params are; a retry still matches", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const agent = await connectAgent(agentKey, tenant, "notes-1");
    const body = {
      goal: "sync the notes, password=hunter2-SUPERSECRET-goal",
      context: { api_key: "hunter2-SUPERSECRET-context" },
      planner: "given",
      idempotency_key: "plan-secret",
      steps: [{ id: "s", targets: [notes], params: { token: "hunter2-SUPERSECRET-step" } }],
    };
    const first = await submitPlan(admin, body);
    expect(JSON.stringify(first)).not.toContain("hunter2");
    expect(first.plan.goal).toBe("sync the notes, password=[REDACTED]");
    expect(JSON.stringify(await getPlan(admin, first.plan.plan_id))).not.toContain("hunter2");
    const dispatch = await agent.next("dispatch");
    expect(JSON.stringify(dispatch)).not.toContain("hunter2");
    const again = await submitPlan(admin, body, 200);
    expect(again).toMatchObject({ duplicate: true, plan: { plan_id: first.plan.plan_id } });
  });
});

describe("a step's retries", () => {
  it("submits another attempt (a new run) after a failure, and fails the plan past max_attempts", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "flaky",
      planner: "given",
      steps: [{ id: "flaky", targets: [notes], max_attempts: 2 }],
    });
    const first = await takeNext(a);
    await fail(a, first.run, "first try broke");
    const second = await takeNext(a);
    expect(second.run.run_id).not.toBe(first.run.run_id);
    expect(second.intent.idempotency_key).toBe(`plan:${plan.plan_id}:v1:flaky:2`);
    await fail(a, second.run, "second try broke");
    const failed = await getPlan(admin, plan.plan_id);
    expect(failed).toMatchObject({
      status: "failed",
      error: { reason: "step_failed", message: "step flaky failed: second try broke" },
    });
    expect(stepOf(failed, "flaky").runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, "failed"],
      [2, "failed"],
    ]);
  });
});

describe("a step's run as the plan shows it", () => {
  it("follows the run's status as it moves (queued, dispatched, running, done), not only its end", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    // One agent that takes one run at a time: the second step's run waits in the queue.
    const a = await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "two steps, one agent",
      planner: "given",
      steps: [
        { id: "first", targets: [notes] },
        { id: "second", targets: [notes] },
      ],
    });
    const runOf = async (step: string) => stepOf(await getPlan(admin, plan.plan_id), step).runs[0]!;
    const becomes = (step: string, status: string) =>
      eventually(async () => ((await runOf(step)).status === status ? true : undefined));
    const first = await a.next("dispatch");
    await becomes("first", "dispatched");
    expect(await runOf("second")).toMatchObject({ attempt: 1, status: "pending" });
    const run = await a.take(first);
    await becomes("first", "running");
    await complete(a, run, "done", 3);
    expect(await runOf("first")).toMatchObject({ status: "completed", usage: { tokens_in: 3 } });
    const second = await a.next("dispatch");
    expect(second.run_id).toBe((await runOf("second")).run_id);
    await becomes("second", "dispatched");
    await a.take(second);
    await becomes("second", "running");
  });
});

describe("cancel, pause and resume", () => {
  it("a paused plan starts no step; resumed it goes on; cancelled it stops its running run", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1", {
      registration: { max_concurrency: 4 },
    });
    const { plan } = await submitPlan(admin, {
      goal: "two in a row",
      planner: "given",
      steps: [
        { id: "one", targets: [notes] },
        { id: "two", targets: [notes], depends_on: ["one"] },
      ],
    });
    const one = await takeNext(a);
    const paused = await json<Plan>(
      await call("POST", `/v1/plans/${plan.plan_id}/pause`, { key: admin, body: {} }),
      200,
    );
    expect(paused).toMatchObject({ status: "paused", paused_by: expect.any(String) });
    await json(await call("POST", `/v1/plans/${plan.plan_id}/pause`, { key: admin }), 409);
    await complete(a, one.run, "1");
    expect(stepOf(await getPlan(admin, plan.plan_id), "two").status).toBe("ready");
    await noDispatch(a);
    await json(await call("POST", `/v1/plans/${plan.plan_id}/resume`, { key: admin }), 200);
    const two = await takeNext(a);
    const cancelled = await json<Plan>(
      await call("POST", `/v1/plans/${plan.plan_id}/cancel`, {
        key: admin,
        body: { reason: "enough" },
      }),
      200,
    );
    expect(cancelled).toMatchObject({ status: "cancelled" });
    expect(stepOf(cancelled, "two").status).toBe("cancelled");
    expect(await a.next("cancel")).toMatchObject({ run_id: two.run.run_id });
    await json(await call("POST", `/v1/plans/${plan.plan_id}/resume`, { key: admin }), 409);
    const audit = await json<AuditList>(
      await call("GET", "/v1/audit?limit=50", { key: admin }),
      200,
    );
    expect(audit.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(["plans.submit", "plans.pause", "plans.resume", "plans.cancel"]),
    );
  });
});

describe("a plan's budget", () => {
  it("stops the plan once its runs used more tokens than it may, cancelling what still runs", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1");
    const b = await connectAgent(agentKey, tenant, "sim-1", { app: "sim" });
    const { plan } = await submitPlan(admin, {
      goal: "spend",
      planner: "given",
      budget: { max_tokens: 100 },
      steps: [
        { id: "big", targets: [notes] },
        { id: "slow", targets: [sim] },
      ],
    });
    const big = await takeNext(a);
    const slow = await takeNext(b);
    expect(big.intent.policy_ctx.budget).toEqual({ max_tokens: 100 });
    await complete(a, big.run, "spent", 150);
    expect((await runState(admin, big.run.run_id)).usage.tokens_in).toBe(150);
    const stopped = await getPlan(admin, plan.plan_id);
    expect(stopped).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
    expect(await b.next("cancel")).toMatchObject({ run_id: slow.run.run_id });
  });

  it("fails the plan when its wall time runs out, even across a restart", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "too slow",
      planner: "given",
      budget: { max_wall_ms: 1_500 },
      steps: [{ id: "forever", targets: [notes] }],
    });
    await evictDurableObject(env.TENANT.getByName(tenant));
    const failed = await eventually(
      async () => {
        const p = await getPlan(admin, plan.plan_id);
        return p.status === "failed" ? p : undefined;
      },
      8_000,
      "the plan's deadline",
    );
    expect(failed.error).toMatchObject({ reason: "budget_exceeded" });
  });
});

describe("a plan across a restart", () => {
  it("goes on from SQLite: a step completed after the object was evicted starts its dependents", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "survive",
      planner: "given",
      steps: [
        { id: "one", targets: [notes] },
        { id: "two", targets: [notes], depends_on: ["one"], inputs: { before: { step: "one" } } },
      ],
    });
    const one = await takeNext(a);
    await evictDurableObject(env.TENANT.getByName(tenant));
    await complete(a, one.run, "first");
    const two = await takeNext(a);
    expect(two.intent.params).toMatchObject({ before: "first" });
    await evictDurableObject(env.TENANT.getByName(tenant));
    await complete(a, two.run, "second");
    expect((await getPlan(admin, plan.plan_id)).status).toBe("completed");
    expect((await runState(admin, two.run.run_id)).status).toBe("completed");
  });
});

describe("a plan with large results", () => {
  it("completes and shows every result though together they pass the 2 MB one SQLite value holds", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1", {
      registration: { max_concurrency: 8 },
    });
    const ids = Array.from({ length: 24 }, (_, i) => `part-${i}`);
    const { plan } = await submitPlan(admin, {
      goal: "summarise each part",
      planner: "given",
      steps: [
        ...ids.map((id) => ({ id, targets: [notes], params: { prompt: id } })),
        {
          id: "last",
          targets: [notes],
          depends_on: ["part-0"],
          inputs: { first: { step: "part-0" } },
        },
      ],
    });
    // 32,000 three-byte characters a result: 24 of them are 2.3 MB.
    const result = (i: number) => `${i}:${"€".repeat(32_000)}`;
    // `last` may go out before some parts do: it waits only for part-0.
    let first: unknown;
    for (let i = 0; i <= ids.length; i++) {
      const next = await takeNext(a);
      if (next.intent.params.prompt === undefined) {
        first = next.intent.params.first;
        await complete(a, next.run, "done");
      } else await complete(a, next.run, result(ids.indexOf(next.intent.params.prompt as string)));
    }
    expect(first).toBe(result(0));
    const done = await eventually(async () => {
      const p = await getPlan(admin, plan.plan_id);
      return p.status === "running" ? undefined : p;
    });
    expect(done.status).toBe("completed");
    expect(ids.map((id) => stepOf(done, id).result)).toEqual(ids.map((_, i) => result(i)));
    // Read again from SQLite after an eviction, the results are still there.
    await evictDurableObject(env.TENANT.getByName(tenant));
    expect(stepOf(await getPlan(admin, plan.plan_id), "part-23").result).toBe(result(23));
    // Deployed SQLite holds at most 2 MB in one value (the local workerd does not enforce it).
    const rowBytes = await runInDurableObject(env.TENANT.getByName(tenant), (_agent, state) =>
      state.storage.sql
        .exec<{ bytes: number }>(
          "SELECT length(CAST(plan AS BLOB)) AS bytes FROM plans WHERE plan_id = ?",
          plan.plan_id,
        )
        .one(),
    );
    expect(rowBytes.bytes).toBeLessThan(200_000);
  }, 60_000);
});

describe("approvals", () => {
  it("holds a plan before it starts until approved, with who and when in the audit log", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "careful",
      planner: "given",
      policy: { approve_before_start: true },
      steps: [{ id: "go", targets: [notes] }],
    });
    expect(plan).toMatchObject({ status: "awaiting_approval", approval: { status: "pending" } });
    await noDispatch(a);
    const pending = await json<{ approvals: Approval[] }>(
      await call("GET", "/v1/approvals", { key: admin }),
      200,
    );
    expect(pending.approvals).toMatchObject([{ plan_id: plan.plan_id, step_id: null }]);
    const id = pending.approvals[0]!.approval_id;
    const approved = await json<Approval>(
      await call("POST", `/v1/approvals/${id}/approve`, { key: admin, body: { reason: "ok" } }),
      200,
    );
    expect(approved).toMatchObject({
      status: "approved",
      reason: "ok",
      decided_by: expect.any(String),
    });
    await json(await call("POST", `/v1/approvals/${id}/approve`, { key: admin }), 409);
    const go = await takeNext(a);
    await complete(a, go.run, "done");
    expect((await getPlan(admin, plan.plan_id)).status).toBe("completed");
    const audit = await json<AuditList>(
      await call("GET", "/v1/audit?limit=50", { key: admin }),
      200,
    );
    expect(
      audit.entries
        .filter((e) => e.action === "approvals.approve")
        .map((e) => [e.target, e.outcome, e.status]),
    ).toEqual([
      [id, "error", 409],
      [id, "ok", 200],
    ]);
    const kinds = (await planEvents(admin, plan.plan_id)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["approval_requested", "approval_decided"]));
  });

  it("holds a step until approved; a rejected step fails the plan", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    const a = await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "gate a step",
      planner: "given",
      steps: [
        { id: "look", targets: [notes] },
        { id: "act", targets: [notes], depends_on: ["look"], requires_approval: true },
      ],
    });
    await complete(a, (await takeNext(a)).run, "seen");
    const gated = await getPlan(admin, plan.plan_id);
    expect(stepOf(gated, "act")).toMatchObject({
      status: "awaiting_approval",
      approval: { status: "pending", step_id: "act" },
    });
    const id = stepOf(gated, "act").approval!.approval_id;
    await json(
      await call("POST", `/v1/approvals/${id}/reject`, { key: admin, body: { reason: "no" } }),
      200,
    );
    const failed = await getPlan(admin, plan.plan_id);
    expect(failed).toMatchObject({ status: "failed", error: { reason: "step_rejected" } });
    const decided = await json<{ approvals: Approval[] }>(
      await call("GET", "/v1/approvals?status=rejected", { key: admin }),
      200,
    );
    expect(decided.approvals.map((x) => x.approval_id)).toEqual([id]);
  });

  it("expires an approval past its deadline", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    await putSettings(admin, PLAN_SETTINGS);
    await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "nobody answers",
      planner: "given",
      policy: { approve_before_start: true, approval_timeout_ms: 1_000 },
      steps: [{ id: "go", targets: [notes] }],
    });
    const failed = await eventually(async () => {
      const p = await getPlan(admin, plan.plan_id);
      return p.status === "failed" ? p : undefined;
    });
    expect(failed).toMatchObject({
      approval: { status: "expired" },
      error: { reason: "approval_expired" },
    });
  });

  it("refuses a decision past the deadline though the timer has not run yet", async () => {
    const { tenant, admin, agentKey } = await planTenant();
    await putSettings(admin, PLAN_SETTINGS);
    await connectAgent(agentKey, tenant, "notes-1");
    const { plan } = await submitPlan(admin, {
      goal: "answered too late",
      planner: "given",
      policy: { approve_before_start: true, approval_timeout_ms: 60_000 },
      steps: [{ id: "go", targets: [notes] }],
    });
    const id = (await getPlan(admin, plan.plan_id)).approval!.approval_id;
    await advanceClock(tenant, 120_000, { timer: false });
    const late = await call("POST", `/v1/approvals/${id}/approve`, { key: admin });
    expect(await json(late, 409)).toMatchObject({
      error: { code: "conflict", message: `approval ${id} is already expired` },
    });
    expect(await getPlan(admin, plan.plan_id)).toMatchObject({
      status: "failed",
      approval: { status: "expired" },
      error: { reason: "approval_expired" },
    });
  });
});
