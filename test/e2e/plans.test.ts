import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManagedProcess } from "../../cli/local-stack/processes";
import {
  AgentList,
  Approval,
  ApprovalList,
  CentralClient,
  GatewayConfigView,
  IntentInfo,
  isTerminal,
  PATHS,
  Plan,
  PlanAccepted,
  planMachine,
  TenantSettings,
} from "../../contract";
import { until } from "../edge/helpers/edge-process";
import { type CentralDev, createKey, createTenant, startCentralDev } from "../helpers/central-dev";
import { startSampleEdge } from "../helpers/platform-processes";

/**
 * Plans on real edge agents of two apps (the lab-notes and sim-bench samples, each on pi with
 * its labelled scripted model), central in workerd under wrangler dev: parallel steps and a
 * result handed across apps behind an approval gate, a replan after a failed step (central's
 * planner through its gateway's scripted provider), and a plan stopped by its budget.
 */
describe("end to end: plans across two apps", () => {
  const root = mkdtempSync(join(tmpdir(), "auraison-e2e-plans-"));
  let central: CentralDev;
  let admin: CentralClient;
  const edges: ManagedProcess[] = [];

  const plan = (id: string) => admin.request("GET", `${PATHS.plans}/${id}`, Plan);
  const ended = (id: string) =>
    until(async () => {
      const p = await plan(id);
      return isTerminal(planMachine, p.status) ? p : null;
    }, 90_000);
  const submit = (body: Record<string, unknown>) =>
    admin.request("POST", PATHS.plans, PlanAccepted, body);
  const intentOf = async (p: Plan, step: string) => {
    const run = p.steps.find((s) => s.id === step)!.runs.at(-1)!;
    return admin.request("GET", `${PATHS.intents}/${run.intent_id}`, IntentInfo);
  };

  beforeAll(async () => {
    central = await startCentralDev();
    const adminKey = await createTenant(central.url, central.bootstrapKey, "lab");
    admin = new CentralClient({ url: central.url, key: adminKey });
    // Plans retry their own steps: each run gets one attempt.
    await admin.request(
      "PUT",
      PATHS.settings,
      TenantSettings,
      TenantSettings.parse({ retry: { max_attempts: 1 } }),
    );
    const agentKey = await createKey(central.url, adminKey, "agent", "lab hosts");
    for (const app of ["lab-notes", "sim-bench"] as const)
      edges.push(
        startSampleEdge({
          name: `edge-${app}`,
          app,
          agentId: `host-1.${app}`,
          state: join(root, app),
          central: { url: central.url, key: agentKey },
          model: `scripted/${app}`,
        }),
      );
    await until(async () => {
      const { agents } = await admin.request("GET", PATHS.agents, AgentList);
      return agents.filter((a) => a.status === "online").length === 2;
    }, 90_000);
  }, 240_000);

  afterAll(async () => {
    for (const edge of edges) await edge.stop("SIGKILL", 0);
    await central?.stop();
  });

  it("holds the plan for approval, then runs both apps' steps in parallel and hands the notebook's result to the simulation", async () => {
    const { plan: submitted } = await submit({
      goal: "compare the notebook's measurement with a simulation",
      planner: "given",
      policy: { approve_before_start: true },
      steps: [
        { id: "measure", targets: [{ app: "lab-notes" }], params: { prompt: "measure the line" } },
        { id: "simulate", targets: [{ app: "sim-bench" }], params: { prompt: "simulate 532 nm" } },
        {
          id: "compare",
          targets: [{ app: "sim-bench" }],
          params: { prompt: "compare" },
          depends_on: ["measure", "simulate"],
          inputs: { measured: { step: "measure" } },
        },
      ],
    });
    expect(submitted.status).toBe("awaiting_approval");
    const pending = await admin.request(
      "GET",
      `${PATHS.approvals}?plan=${submitted.plan_id}`,
      ApprovalList,
    );
    expect(pending.approvals).toHaveLength(1);
    const approved = await admin.request(
      "POST",
      `${PATHS.approvals}/${pending.approvals[0]!.approval_id}/approve`,
      Approval,
      { reason: "looks right" },
    );
    expect(approved.status).toBe("approved");
    const done = await ended(submitted.plan_id);
    expect(done.status).toBe("completed");
    const measure = await intentOf(done, "measure");
    const simulate = await intentOf(done, "simulate");
    // Parallel: each of the two independent steps started before the other finished.
    const t = (info: IntentInfo, k: "started_at" | "finished_at") =>
      Date.parse(info.run!.timings[k]!);
    expect(t(measure, "started_at")).toBeLessThan(t(simulate, "finished_at"));
    expect(t(simulate, "started_at")).toBeLessThan(t(measure, "finished_at"));
    expect(measure.run!.app).toBe("lab-notes");
    expect(simulate.run!.app).toBe("sim-bench");
    const compare = await intentOf(done, "compare");
    expect(compare.intent.params.measured).toBe(measure.run!.result);
    expect(String(compare.intent.params.measured)).toContain("Task received: measure the line");
    expect(compare.run!.result).toContain("sim-bench simulated");
  }, 120_000);

  it("replans after a step fails past its attempts: central's planner, through its gateway, routes around it", async () => {
    await admin.request("PUT", PATHS.gatewayConfig, GatewayConfigView, {
      providers: [
        {
          id: "scripted",
          kind: "scripted",
          models: ["planner"],
          script: [
            {
              when: "Failed: step simulate",
              answer: JSON.stringify({
                steps: [
                  {
                    id: "simulate-again",
                    targets: [{ app: "sim-bench" }],
                    params: { prompt: "simulate again" },
                  },
                ],
              }),
            },
            {
              answer: JSON.stringify({
                steps: [
                  { id: "measure", targets: [{ app: "lab-notes" }], params: { prompt: "measure" } },
                  {
                    id: "simulate",
                    targets: [{ app: "sim-bench" }],
                    params: { prompt: "simulate" },
                    // No tool call allowed: the scripted simulation needs one, so this run fails.
                    budget: { max_tool_calls: 0 },
                    max_attempts: 1,
                  },
                ],
              }),
            },
          ],
        },
      ],
      aliases: { auto: { candidates: ["scripted/planner"] } },
    });
    const { plan: submitted } = await submit({ goal: "measure and simulate" });
    const done = await ended(submitted.plan_id);
    expect(done).toMatchObject({ status: "completed", version: 2 });
    expect(done.planning.replans).toBe(1);
    expect(done.history[0]!.steps.map((s) => [s.id, s.status])).toEqual([["simulate", "failed"]]);
    expect(done.steps.map((s) => [s.id, s.status])).toEqual([
      ["measure", "completed"],
      ["simulate-again", "completed"],
    ]);
  }, 120_000);

  it("goes on when workerd is killed mid-plan: the running step finishes and its dependent starts", async () => {
    const { plan: submitted } = await submit({
      goal: "survive a restart",
      planner: "given",
      steps: [
        { id: "notes", targets: [{ app: "lab-notes" }], params: { prompt: "summarise" } },
        {
          id: "simulate",
          targets: [{ app: "sim-bench" }],
          params: { prompt: "simulate" },
          depends_on: ["notes"],
          inputs: { notes: { step: "notes" } },
        },
      ],
    });
    await until(async () => {
      const p = await plan(submitted.plan_id);
      return p.steps[0]!.runs.length > 0;
    });
    await central.restart();
    const done = await ended(submitted.plan_id);
    expect(done.status).toBe("completed");
    const simulate = await intentOf(done, "simulate");
    expect(simulate.intent.params.notes).toContain("Task received: summarise");
  }, 180_000);

  it("stops a plan whose runs spent its token budget, cancelling what still runs", async () => {
    const { plan: submitted } = await submit({
      goal: "spend",
      planner: "given",
      budget: { max_tokens: 1 },
      steps: [
        { id: "notes", targets: [{ app: "lab-notes" }], params: { prompt: "summarise" } },
        { id: "later", targets: [{ app: "sim-bench" }], depends_on: ["notes"] },
      ],
    });
    const done = await ended(submitted.plan_id);
    expect(done).toMatchObject({ status: "failed", error: { reason: "budget_exceeded" } });
    expect(done.steps.find((s) => s.id === "later")!.status).toBe("cancelled");
    expect(done.usage.tokens_in + done.usage.tokens_out).toBeGreaterThan(1);
  }, 120_000);
});
