import { describe, expect, it } from "vitest";
import { call, connectAgent, events, json } from "../support";
import { complete, fail, planned, planTenant, stepOf, submitPlan, takeNext } from "./support";

const plan = (steps: unknown[]) => JSON.stringify({ steps });
const GOOD = plan([
  { id: "measure", targets: [{ app: "lab-notes" }], params: { prompt: "measure" } },
  { id: "simulate", targets: [{ app: "sim" }], params: { prompt: "simulate" } },
  {
    id: "compare",
    targets: [{ app: "sim" }],
    params: { prompt: "compare" },
    depends_on: ["measure", "simulate"],
    inputs: { measured: { step: "measure" } },
  },
]);
const CYCLE = plan([
  { id: "a", targets: [{ app: "lab-notes" }], depends_on: ["b"] },
  { id: "b", targets: [{ app: "lab-notes" }], depends_on: ["a"] },
]);
const UNKNOWN_SKILL = plan([{ id: "a", targets: [{ skill: "teleport" }] }]);

/** The tenant's gateway with one scripted provider, labelled, under the alias `auto`. */
async function scriptedGateway(
  admin: string,
  script: { when?: string; answer: string }[],
  prices?: Record<string, { input: number; output: number }>,
) {
  await json(
    await call("PUT", "/v1/gateway/config", {
      key: admin,
      body: {
        providers: [{ id: "scripted", kind: "scripted", models: ["planner"], script }],
        aliases: { auto: { candidates: ["scripted/planner"] } },
        ...(prices ? { prices: { version: "test", models: prices } } : {}),
      },
    }),
    200,
  );
}

async function fleet() {
  const t = await planTenant("mp");
  const notes = await connectAgent(t.agentKey, t.tenant, "notes-1", { app: "lab-notes" });
  const sim = await connectAgent(t.agentKey, t.tenant, "sim-1", { app: "sim" });
  return { ...t, notes, sim };
}

describe("plans by a model through the tenant's gateway", () => {
  it("refuses bad JSON, a cycle and an unknown skill, each time telling the model why, then runs the plan it gets", async () => {
    const { admin, notes, sim } = await fleet();
    await scriptedGateway(admin, [
      { when: "(attempt 1 of", answer: "Sure! Here is the plan: {steps: [" },
      { when: "(attempt 2 of", answer: CYCLE },
      { when: "(attempt 3 of", answer: UNKNOWN_SKILL },
      { when: "(attempt 4 of", answer: GOOD },
    ]);
    const submitted = await submitPlan(admin, {
      goal: "measure, simulate and compare",
      policy: { planning_attempts: 4 },
    });
    expect(submitted.plan).toMatchObject({ planner: "model", model: "auto" });
    const made = await planned(admin, submitted.plan.plan_id);
    expect(made).toMatchObject({ status: "running", version: 1 });
    expect(made.steps.map((s) => s.id)).toEqual(["measure", "simulate", "compare"]);
    expect(made.planning.usage.model_calls).toBe(4);
    expect(made.planning.usage.tokens_in).toBeGreaterThan(0);
    // Central's own calls went through the gateway: four model_call events, source central.
    const log = await events(admin, "&kind=model_call");
    expect(log.events).toHaveLength(4);
    for (const e of log.events) expect(e).toMatchObject({ source: "central", run_id: null });
    const measure = await takeNext(notes);
    const simulate = await takeNext(sim);
    await complete(notes, measure.run, "42");
    await complete(sim, simulate.run, "41");
    const compare = await takeNext(sim);
    expect(compare.intent.params).toMatchObject({ measured: "42" });
    await complete(sim, compare.run, "close");
    expect((await planned(admin, made.plan_id)).status).toBe("completed");
  });

  it("fails the plan with the last refusal when no attempt gives a valid plan", async () => {
    const { admin } = await fleet();
    await scriptedGateway(admin, [{ answer: CYCLE }]);
    const { plan: p } = await submitPlan(admin, { goal: "loop", policy: { planning_attempts: 2 } });
    const failed = await planned(admin, p.plan_id);
    expect(failed).toMatchObject({ status: "failed", error: { reason: "planning_failed" } });
    expect(failed.error!.message).toMatch(/no valid plan after 2 attempts: .*cycle/);
  });

  it("counts its planning calls' real cost, from the gateway's prices: a USD budget spent on planning alone fails the plan", async () => {
    const { admin } = await fleet();
    // About $0.1 to $0.2 a call at $200 per million input tokens; every answer is refused.
    await scriptedGateway(admin, [{ answer: CYCLE }], { planner: { input: 200, output: 0 } });
    const { plan: p } = await submitPlan(admin, {
      goal: "loop",
      policy: { planning_attempts: 10 },
      budget: { max_cost_usd: 0.25 },
    });
    const failed = await planned(admin, p.plan_id);
    expect(failed).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
    expect(failed.error!.message).toMatch(/the plan spent \$[\d.]+ of its \$0\.25/);
    const calls = (await events(admin, "&kind=model_call")).events.map(
      (e) => e.payload as { cost_usd: number | null },
    );
    // Each call priced by the gateway counted in the plan; none was made after it ended.
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(failed.planning.usage.model_calls).toBe(calls.length);
    const spent = calls.reduce((sum, c) => sum + c.cost_usd!, 0);
    expect(failed.usage.cost_usd).toBeCloseTo(spent, 9);
    expect(spent).toBeGreaterThan(0.25);
    expect(spent - calls.at(-1)!.cost_usd!).toBeLessThanOrEqual(0.25);
  });

  it("replans when a step fails past its attempts: the model hears what failed and what is done", async () => {
    const { admin, notes, sim } = await fleet();
    await scriptedGateway(admin, [
      {
        when: "Failed: step simulate failed (tool_error): mesh too fine",
        answer: plan([
          {
            id: "simulate-again",
            targets: [{ app: "sim" }],
            params: { prompt: "simulate, smaller mesh" },
          },
          {
            id: "compare",
            targets: [{ app: "sim" }],
            params: { prompt: "compare" },
            depends_on: ["measure", "simulate-again"],
            inputs: { measured: { step: "measure" } },
          },
        ]),
      },
      { answer: GOOD.replaceAll('"simulate"}', '"simulate"}, "max_attempts": 1') },
    ]);
    const { plan: p } = await submitPlan(admin, { goal: "measure, simulate and compare" });
    await planned(admin, p.plan_id);
    const measure = await takeNext(notes);
    await complete(notes, measure.run, "42");
    const simulate = await takeNext(sim);
    await fail(sim, simulate.run, "mesh too fine");
    const again = await takeNext(sim);
    expect(again.intent.params).toMatchObject({ prompt: "simulate, smaller mesh" });
    await complete(sim, again.run, "40");
    const compare = await takeNext(sim);
    expect(compare.intent.params).toMatchObject({ measured: "42" });
    await complete(sim, compare.run, "close");
    const done = await planned(admin, p.plan_id);
    expect(done).toMatchObject({ status: "completed", version: 2 });
    expect(done.planning.replans).toBe(1);
    expect(done.history).toHaveLength(1);
    expect(done.history[0]!.steps.map((s) => [s.id, s.status])).toEqual([
      ["simulate", "failed"],
      ["compare", "superseded"],
    ]);
    expect(stepOf(done, "measure").version).toBe(1);
  });
});
