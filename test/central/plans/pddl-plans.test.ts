import { describe, expect, it } from "vitest";
import { ARM, SCANNER, pddlSkill as skill } from "../planning/pddl/fleet-domains";
import { call, connectAgent, json } from "../support";
import { complete, fail, getPlan, planned, planTenant, submitPlan, takeNext } from "./support";

const PROBLEM = `(define (problem two-samples) (:domain fleet)
  (:objects s1 s2 - sample shelf - station)
  (:init (at s1 shelf) (at s2 shelf))
  (:goal (and (scanned s1) (scanned s2))))`;

async function fleet() {
  const t = await planTenant("pd");
  const arm = await connectAgent(t.agentKey, t.tenant, "arm-1", {
    app: "robot-arm",
    registration: { skills: [skill("carry", "robot-arm", ARM)], max_concurrency: 4 },
  });
  const scanner = await connectAgent(t.agentKey, t.tenant, "scanner-1", {
    app: "scanner",
    registration: { skills: [skill("scan", "scanner", SCANNER)], max_concurrency: 4 },
  });
  return { ...t, arm, scanner };
}

describe("plans by PDDL over the fleet's skills", () => {
  it("solves the problem, deorders it so independent actions run in parallel, and dispatches each to an agent with the skill", async () => {
    const { admin, arm, scanner } = await fleet();
    const { plan } = await submitPlan(admin, {
      goal: "scan both samples",
      planner: "pddl",
      pddl: { problem: PROBLEM, optimal: true },
    });
    const made = await planned(admin, plan.plan_id);
    expect(made.status).toBe("running");
    const actions = made.steps.map((s) => s.action);
    expect(actions).toHaveLength(4);
    expect(actions.filter((a) => a?.startsWith("(carry"))).toHaveLength(2);
    for (const step of made.steps) {
      const scan = step.action!.startsWith("(scan");
      expect(step.targets).toEqual([{ skill: scan ? "scan" : "carry" }]);
      // A scan waits for the carry that brought its sample; the two carries wait for nothing.
      expect(step.depends_on).toHaveLength(scan ? 1 : 0);
    }
    // Both carries are out at once.
    const first = await takeNext(arm);
    const second = await takeNext(arm);
    expect([first.intent.params.s, second.intent.params.s].sort()).toEqual(["s1", "s2"]);
    expect(first.intent.params).toMatchObject({ from: "shelf", to: "scan-bay" });
    await complete(arm, first.run, "carried");
    await complete(arm, second.run, "carried");
    const scans = [await takeNext(scanner), await takeNext(scanner)];
    expect(scans.map((s) => s.intent.params.action).sort()).toEqual(["(scan s1)", "(scan s2)"]);
    for (const s of scans) await complete(scanner, s.run, "scanned");
    expect((await getPlan(admin, plan.plan_id)).status).toBe("completed");
  });

  it("repairs from where the plan stands: a scan that failed for good is planned again from the state the done actions left", async () => {
    const { admin, arm, scanner } = await fleet();
    const { plan } = await submitPlan(admin, {
      goal: "scan both samples",
      planner: "pddl",
      pddl: { problem: PROBLEM, optimal: true },
    });
    await planned(admin, plan.plan_id);
    for (const carry of [await takeNext(arm), await takeNext(arm)])
      await complete(arm, carry.run, "carried");
    const scans = [await takeNext(scanner), await takeNext(scanner)];
    const [ok, broken] =
      scans[0]!.intent.params.action === "(scan s1)" ? scans : [scans[1]!, scans[0]!];
    await complete(scanner, ok!.run, "scanned");
    await fail(scanner, broken!.run, "lid stuck");
    const retry = await takeNext(scanner);
    expect(retry.intent.params.action).toBe("(scan s2)");
    await fail(scanner, retry.run, "lid stuck again");
    // Replanned from the state after both carries and the first scan: only the second scan.
    const repaired = await takeNext(scanner);
    expect(repaired.intent.params.action).toBe("(scan s2)");
    expect(repaired.intent.idempotency_key).toMatch(/:v2:v2-a1:1$/);
    await complete(scanner, repaired.run, "scanned at last");
    const done = await getPlan(admin, plan.plan_id);
    expect(done).toMatchObject({ status: "completed", version: 2 });
    expect(done.steps.filter((s) => s.version === 2).map((s) => s.action)).toEqual(["(scan s2)"]);
  });

  it("refuses a problem that does not read over the fleet's domain (422, with where)", async () => {
    const { admin } = await fleet();
    const refused = await json<{ error: { issues: { path: string; message: string }[] } }>(
      await call("POST", "/v1/plans", {
        key: admin,
        body: {
          goal: "g",
          planner: "pddl",
          pddl: { problem: PROBLEM.replace("(scanned s2)", "(polished s2)") },
        },
      }),
      422,
    );
    expect(refused.error.issues[0]).toMatchObject({ path: "pddl.problem" });
    expect(refused.error.issues[0]!.message).toMatch(/polished/);
  });

  it("fails the plan, saying why, when the solved plan has more steps than a plan may", async () => {
    const { admin } = await fleet();
    const samples = Array.from({ length: 251 }, (_, i) => `s${i}`);
    const { plan } = await submitPlan(admin, {
      goal: "scan them all",
      planner: "pddl",
      policy: { planning_attempts: 1 },
      pddl: {
        problem: `(define (problem many) (:domain fleet)
          (:objects ${samples.join(" ")} - sample shelf - station)
          (:init ${samples.map((s) => `(at ${s} shelf)`).join(" ")})
          (:goal (and ${samples.map((s) => `(scanned ${s})`).join(" ")})))`,
      },
    });
    const failed = await planned(admin, plan.plan_id);
    expect(failed).toMatchObject({ status: "failed", error: { reason: "planning_failed" } });
    expect(failed.error!.message).toMatch(/does not fit in a plan: steps: .*500/);
  }, 60_000);

  it("fails the plan, saying why, when no plan exists", async () => {
    const { admin } = await fleet();
    const { plan } = await submitPlan(admin, {
      goal: "impossible",
      planner: "pddl",
      policy: { planning_attempts: 1 },
      pddl: { problem: PROBLEM.replace("(at s2 shelf)", "") },
    });
    const failed = await planned(admin, plan.plan_id);
    expect(failed).toMatchObject({ status: "failed", error: { reason: "planning_failed" } });
    expect(failed.error!.message).toMatch(/no plan exists/);
  });
});
