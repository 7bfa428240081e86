import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantServices } from "../../../central/tenant/services";
import type { Plan, PlanAccepted } from "../../../contract";
import {
  advanceClock,
  call,
  connectAgent,
  events,
  json,
  newKey,
  newTenant,
  putSettings,
  registration,
  runState,
  STEADY,
  submit,
  type TestAgent,
} from "../support";

async function fleet(retry: Record<string, unknown>) {
  const { tenant, admin } = await newTenant("sch");
  await putSettings(admin, { ...STEADY, retry: { ...STEADY.retry, ...retry } });
  return { tenant, admin, agentKey: (await newKey(admin, "agent")).key };
}

const kinds = async (admin: string, runId: string) =>
  (await events(admin, `&run=${runId}`)).events.map((e) => e.kind);

/** Reconnects an agent on a new socket, naming the runs it says it holds. */
async function reconnect(
  key: string,
  tenant: string,
  agentId: string,
  holding: { run_id: string; attempt: number }[],
): Promise<TestAgent> {
  const agent = await connectAgent(key, tenant, agentId, { register: false });
  agent.send({ type: "hello", registration: registration(agentId), holding });
  await agent.next("welcome");
  return agent;
}

describe("one timer pass over several runs", () => {
  it("leaves a run its plan cancelled during the pass cancelled: not retried, not dispatched again", async () => {
    const { tenant, admin, agentKey } = await fleet({ max_attempts: 2 });
    const notes = await connectAgent(agentKey, tenant, "notes-1", { app: "lab-notes" });
    // sim-1 is known (the plan's check wants it) but away until step a is on its last attempt.
    (await connectAgent(agentKey, tenant, "sim-1", { app: "sim" })).close();
    const { plan } = await json<PlanAccepted>(
      await call("POST", "/v1/plans", {
        key: admin,
        body: {
          goal: "two at once",
          planner: "given",
          steps: [
            { id: "a", targets: [{ app: "lab-notes" }], max_attempts: 1 },
            { id: "b", targets: [{ app: "sim" }], max_attempts: 1 },
          ],
        },
      }),
      201,
    );
    // Step a's run loses its first attempt (never acknowledged) and goes out on its last.
    await notes.next("dispatch", (d) => d.attempt === 1);
    await advanceClock(tenant, STEADY.dispatch.ack_timeout_ms + 1_500);
    await notes.next("dispatch", (d) => d.attempt === 2);
    // Step b's run goes out on its first attempt once sim-1 is back.
    const sim = await connectAgent(agentKey, tenant, "sim-1", { app: "sim" });
    const b = await sim.next("dispatch");
    // Neither agent acknowledges: one pass finds both runs due, a's first. a fails, so does
    // its plan, which cancels b; b must not then be stepped from the copy read before that.
    await advanceClock(tenant, STEADY.dispatch.ack_timeout_ms + 1_500);
    const shown = await json<Plan>(
      await call("GET", `/v1/plans/${plan.plan_id}`, { key: admin }),
      200,
    );
    expect(shown.status).toBe("failed");
    expect(await kinds(admin, b.run_id)).toEqual(["run_dispatched", "run_cancelled"]);
    expect(await runState(admin, b.run_id)).toMatchObject({ status: "cancelled", attempt: 1 });
    expect(sim.received.filter((m) => m.type === "dispatch")).toEqual([]);
  });
});

describe("an agent that reconnects without naming a run it holds", () => {
  it("is sent an unacknowledged dispatch again: same attempt, a new ack deadline, no attempt used", async () => {
    const { tenant, admin, agentKey } = await fleet({ max_attempts: 1 });
    const first = await connectAgent(agentKey, tenant, "flaky");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await first.next("dispatch");
    // The dispatch went out on a socket that was dying: the agent comes back knowing nothing.
    await advanceClock(tenant, STEADY.dispatch.ack_timeout_ms - 10_000);
    const back = await reconnect(agentKey, tenant, "flaky", []);
    const again = await back.next("dispatch");
    expect(again).toMatchObject({ run_id: accepted.run.run_id, attempt: 1 });
    // The first ack deadline passes; the new one has not.
    await advanceClock(tenant, 15_000);
    await back.take(again);
    expect(await runState(admin, accepted.run.run_id)).toMatchObject({
      status: "running",
      attempt: 1,
      agent_id: "flaky",
    });
    expect(await kinds(admin, accepted.run.run_id)).toEqual(["run_dispatched"]);
  });

  it("sends a run it had claimed back to the queue at once, the lost attempt not counted", async () => {
    const { tenant, admin, agentKey } = await fleet({ max_attempts: 1 });
    const first = await connectAgent(agentKey, tenant, "restarted");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await first.take(await first.next("dispatch"));
    // The agent restarted: it holds nothing, though central had it running the run.
    const back = await reconnect(agentKey, tenant, "restarted", []);
    const again = await back.next("dispatch");
    expect(again).toMatchObject({ run_id: accepted.run.run_id, attempt: 2 });
    const log = await events(admin, `&run=${accepted.run.run_id}`);
    expect(log.events.map((e) => e.kind)).toEqual([
      "run_dispatched",
      "run_retrying",
      "run_dispatched",
    ]);
    expect(log.events[1]!.payload).toMatchObject({
      attempt: 1,
      cause: "dropped",
      error: { category: "infrastructure", reason: "agent_restarted" },
    });
    // With one attempt allowed, the one that counts fails the run for good when it is lost.
    await back.take(again);
    await advanceClock(tenant, STEADY.dispatch.lease_ms + 1_500);
    expect(await runState(admin, accepted.run.run_id)).toMatchObject({
      status: "failed",
      attempt: 2,
      error: { reason: "lease_expired" },
    });
  });
});

describe("a run whose agent keeps coming back without it", () => {
  it("is forgiven two lost claims; then a lost claim counts, and max_attempts ends the run", async () => {
    const { tenant, admin, agentKey } = await fleet({ max_attempts: 1 });
    let agent = await connectAgent(agentKey, tenant, "crashy");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    for (let lap = 1; lap <= 3; lap++) {
      const dispatch = await agent.next("dispatch");
      expect(dispatch).toMatchObject({ run_id: accepted.run.run_id, attempt: lap });
      await agent.take(dispatch);
      agent.close();
      agent = await reconnect(agentKey, tenant, "crashy", []);
    }
    expect(await runState(admin, accepted.run.run_id)).toMatchObject({
      status: "failed",
      attempt: 3,
      error: { reason: "agent_restarted" },
    });
    expect(await kinds(admin, accepted.run.run_id)).toEqual([
      "run_dispatched",
      "run_retrying",
      "run_dispatched",
      "run_retrying",
      "run_dispatched",
      "run_failed",
    ]);
  });

  it("is sent an unacknowledged dispatch again once; then its ack deadline runs out", async () => {
    const { tenant, admin, agentKey } = await fleet({ max_attempts: 1 });
    let agent = await connectAgent(agentKey, tenant, "mute");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    expect(await agent.next("dispatch")).toMatchObject({ attempt: 1 });
    agent.close();
    agent = await reconnect(agentKey, tenant, "mute", []);
    expect(await agent.next("dispatch")).toMatchObject({ attempt: 1 });
    agent.close();
    agent = await reconnect(agentKey, tenant, "mute", []);
    await advanceClock(tenant, STEADY.dispatch.ack_timeout_ms + 1_000);
    expect(await runState(admin, accepted.run.run_id)).toMatchObject({
      status: "failed",
      error: { reason: "ack_timeout" },
    });
    expect(agent.received.filter((m) => m.type === "dispatch")).toEqual([]);
  });
});

describe("a queue pass", () => {
  it("reads no intent but the one of the run it dispatches", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    for (let i = 0; i < 3; i++) await submit(admin, { targets: [{ app: "nobody" }] });
    const waiting = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const tenantObject = env.TENANT.getByName(tenant);
    const servicesOf = (object: unknown) =>
      (object as { services: TenantServices & { intentReads?: string[] } }).services;
    await runInDurableObject(tenantObject, (object) => {
      const services = servicesOf(object);
      const intent = services.runs.intent.bind(services.runs);
      const reads: string[] = [];
      services.intentReads = reads;
      services.runs.intent = (id) => {
        reads.push(id);
        return intent(id);
      };
    });
    // The agent's hello runs a queue pass over all four queued runs.
    const agent = await connectAgent(agentKey, tenant, "notes-1");
    expect((await agent.next("dispatch")).run_id).toBe(waiting.run.run_id);
    const reads = await runInDurableObject(
      tenantObject,
      (object) => servicesOf(object).intentReads,
    );
    expect(reads).toEqual([waiting.intent.intent_id]);
  });
});
