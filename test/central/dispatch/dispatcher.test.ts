import { describe, expect, it } from "vitest";
import { Intent, type RunState } from "../../../contract";
import {
  advanceClock,
  call,
  connectAgent,
  events,
  eventually,
  FAST,
  json,
  newKey,
  newTenant,
  putSettings,
  runState,
  STEADY,
  submit,
  usage,
} from "../support";

async function fleet(settings: unknown = FAST) {
  const { tenant, admin } = await newTenant("d");
  await putSettings(admin, settings);
  const agentKey = (await newKey(admin, "agent")).key;
  return { tenant, admin, agentKey };
}

const started = (
  agent: { event: (...a: never[]) => unknown },
  run: { run_id: string; attempt: number },
  intentId: string,
) =>
  (agent.event as (k: string, p: unknown, r: unknown) => never)(
    "run_started",
    {
      intent_id: intentId,
      intent_type: "task",
      app: "lab-notes",
      attempt: run.attempt,
      model: "faux/m",
      tree_ref: { session_file: "sessions/r.jsonl", entry_id: null },
    },
    run,
  );

describe("dispatch and claim", () => {
  it("pushes a valid intent to an agent, which acks and claims it under a lease", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const agent = await connectAgent(agentKey, tenant, "notes-1");
    const accepted = await submit(admin, {
      targets: [{ app: "lab-notes" }],
      budget: { max_tokens: 1000 },
    });
    expect(accepted.run.status).toBe("dispatched");
    expect(accepted.run.attempt).toBe(1);
    const dispatch = await agent.next("dispatch");
    expect(dispatch).toMatchObject({
      run_id: accepted.run.run_id,
      attempt: 1,
      ack_timeout_ms: 10_000,
    });
    const intent = Intent.parse(dispatch.intent);
    expect(intent.policy_ctx).toMatchObject({ tenant, budget: { max_tokens: 1000 } });
    agent.send({ type: "ack", run_id: dispatch.run_id, attempt: 1 });
    agent.send({ type: "claim", run_id: dispatch.run_id, attempt: 1 });
    const claimed = await agent.next("claimed");
    expect(Date.parse(claimed.lease_expires_at)).toBeGreaterThan(Date.now() + 60_000);
    const run = await runState(admin, dispatch.run_id);
    expect(run).toMatchObject({
      status: "running",
      agent_id: "notes-1",
      app: "lab-notes",
      lease: { agent_id: "notes-1", attempt: 1 },
    });
    const agents = await json<{ agents: { status: string; running: string[] }[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(agents.agents[0]).toMatchObject({ status: "busy", running: [dispatch.run_id] });
    const log = await events(admin, `&run=${dispatch.run_id}`);
    expect(log.events.map((e) => [e.kind, e.source, e.agent_id])).toEqual([
      ["run_dispatched", "central", "central"],
    ]);
  });

  it("completes the run from the agent's events, totals usage, and frees the agent", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const agent = await connectAgent(agentKey, tenant, "notes-1");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    const modelCall = {
      call_id: "c1",
      provider: "faux",
      request_model: "m",
      response_model: "m",
      alias: null,
      response_id: null,
      stream: false,
      input_tokens: 10,
      output_tokens: 5,
      cost_usd: 0.002,
      latency_ms: 12,
      ttft_ms: null,
      observer: "edge",
    };
    await agent.emit([
      started(agent, run, accepted.intent.intent_id),
      agent.event("model_call", modelCall, run),
      agent.event("model_call", { ...modelCall, call_id: "c2" }, run),
    ]);
    const mid = await runState(admin, run.run_id);
    expect(mid.usage).toMatchObject({ tokens_in: 20, tokens_out: 10, model_calls: 2 });
    expect(mid.usage.cost_usd).toBeCloseTo(0.004);
    expect(mid.tree_ref).toEqual({ session_file: "sessions/r.jsonl", entry_id: null });
    await agent.emit([
      agent.event(
        "run_completed",
        {
          result: "all done",
          usage: { ...usage(21, 11, 0.005), model_calls: 2 },
          duration_ms: 30,
          tree_ref: { session_file: "sessions/r.jsonl", entry_id: "e9" },
        },
        run,
      ),
    ]);
    const done = await runState(admin, run.run_id);
    // The run's usage is its model calls, counted once each; the total the agent reports with
    // its end is its own view and does not replace them (contract/runs/usage.ts).
    expect(done).toMatchObject({
      status: "completed",
      result: "all done",
      lease: null,
      usage: { tokens_in: 20, tokens_out: 10, model_calls: 2 },
      tree_ref: { entry_id: "e9" },
    });
    expect(done.timings.finished_at).not.toBeNull();
    const agents = await json<{ agents: { status: string; running: string[] }[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(agents.agents[0]).toMatchObject({ status: "online", running: [] });
  });

  it("queues intents for an app with no online agent and dispatches when one connects", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    expect(accepted.run.status).toBe("pending");
    expect(accepted.run.attempt).toBe(0);
    const agent = await connectAgent(agentKey, tenant, "late-1");
    expect((await agent.next("dispatch")).run_id).toBe(accepted.run.run_id);
    expect((await runState(admin, accepted.run.run_id)).status).toBe("dispatched");
  });

  it("picks the least busy matching agent, honours explicit agents, skills and capabilities", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const a = await connectAgent(agentKey, tenant, "a", {
      registration: { max_concurrency: 2, capabilities: ["gpu"] },
    });
    const b = await connectAgent(agentKey, tenant, "b", { registration: { max_concurrency: 2 } });
    const first = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const second = await submit(admin, { targets: [{ app: "lab-notes" }] });
    expect(new Set([first.run.agent_id, second.run.agent_id])).toEqual(new Set(["a", "b"]));
    const gpu = await submit(admin, { targets: [{ app: "lab-notes", capabilities: ["gpu"] }] });
    expect(gpu.run.agent_id).toBe("a");
    const explicit = await submit(admin, { targets: [{ agent_id: "b" }] });
    expect(explicit.run.agent_id).toBe("b");
    const skill = await submit(admin, {
      targets: [{ skill: "no-such-skill" }, { skill: "summarize" }],
    });
    expect(skill.run.status).toBe("pending"); // both agents are full (2 runs each)
    const unmatched = await submit(admin, {
      targets: [{ app: "lab-notes", capabilities: ["tpu"] }],
    });
    expect(unmatched.run.status).toBe("pending");
    a.close();
    b.close();
  });
});

describe("ack timeouts, leases and retries", () => {
  it("sends an unacknowledged dispatch back to the queue and on to another agent", async () => {
    const { tenant, admin, agentKey } = await fleet(STEADY);
    const silent = await connectAgent(agentKey, tenant, "silent");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await silent.next("dispatch");
    const helper = await connectAgent(agentKey, tenant, "helper");
    await advanceClock(tenant, STEADY.dispatch.ack_timeout_ms - 10_000);
    expect((await runState(admin, accepted.run.run_id)).agent_id).toBe("silent");
    await advanceClock(tenant, 10_100);
    const second = await helper.next("dispatch");
    expect(second).toMatchObject({ run_id: accepted.run.run_id, attempt: 2 });
    expect((await silent.next("cancel")).run_id).toBe(accepted.run.run_id);
    const log = await events(admin, `&run=${accepted.run.run_id}`);
    expect(log.events.map((e) => e.kind)).toEqual([
      "run_dispatched",
      "run_retrying",
      "run_dispatched",
    ]);
    expect(log.events[1]!.payload).toMatchObject({
      attempt: 1,
      cause: "ack_timeout",
      error: { category: "timeout", reason: "ack_timeout" },
    });
  });

  it("re-dispatches a run whose lease expired to another agent; the old agent's late events change nothing", async () => {
    const { tenant, admin, agentKey } = await fleet(STEADY);
    const dying = await connectAgent(agentKey, tenant, "dying");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const first = await dying.take(await dying.next("dispatch"));
    const survivor = await connectAgent(agentKey, tenant, "survivor");
    // "dying" goes silent: no heartbeats, no events. Its lease runs out.
    await advanceClock(tenant, STEADY.dispatch.lease_ms + 100);
    const retry = await survivor.next("dispatch");
    expect(retry).toMatchObject({ run_id: accepted.run.run_id, attempt: 2 });
    await survivor.take(retry);
    dying.close();
    const log = await events(admin, `&run=${accepted.run.run_id}&kind=lease_expired`);
    expect(log.events[0]!.payload).toMatchObject({ agent_id: "dying", attempt: 1, next: "retry" });
    // "dying" comes back: a late completion of its lost attempt is recorded, not applied,
    // and a claim of that attempt is rejected.
    const back = await connectAgent(agentKey, tenant, "dying");
    const late = await back.emit([
      back.event(
        "run_completed",
        { result: "stale", usage: usage(), duration_ms: 1, tree_ref: null },
        first,
      ),
    ]);
    expect(late.stored).toHaveLength(1);
    const run = await runState(admin, accepted.run.run_id);
    expect(run).toMatchObject({
      status: "running",
      attempt: 2,
      agent_id: "survivor",
      result: null,
    });
    expect((await events(admin, `&run=${accepted.run.run_id}&agent=dying`)).events).toHaveLength(1);
    back.send({ type: "claim", run_id: first.run_id, attempt: 1 });
    expect((await back.next("claim_rejected")).reason).toContain("not dispatched to this agent");
  });

  it("fails a run for good when the retry policy runs out, with the reason", async () => {
    const { tenant, admin, agentKey } = await fleet({ ...STEADY, retry: { max_attempts: 1 } });
    const agent = await connectAgent(agentKey, tenant, "only");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await agent.take(await agent.next("dispatch"));
    await advanceClock(tenant, STEADY.dispatch.lease_ms + 100);
    const failed = await runState(admin, accepted.run.run_id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ category: "infrastructure", reason: "lease_expired" });
    const kinds = (await events(admin, `&run=${accepted.run.run_id}`)).events.map(
      (e) => `${e.kind}:${e.source}`,
    );
    expect(kinds).toEqual([
      "run_dispatched:central",
      "lease_expired:central",
      "run_failed:central",
    ]);
  });

  it("retries infrastructure failures with backoff but never a policy denial", async () => {
    const { tenant, admin, agentKey } = await fleet({
      heartbeat: { degraded_after: 9, disconnected_after: 10 },
      retry: { max_attempts: 3, backoff: "exponential", base_delay_ms: 60_000 },
    });
    const agent = await connectAgent(agentKey, tenant, "worker");
    const flaky = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    await agent.emit([
      agent.event(
        "run_failed",
        {
          error: {
            category: "infrastructure",
            reason: "gpu_lost",
            message: "the GPU fell off the bus",
          },
          usage: usage(5, 1),
          duration_ms: 3,
          tree_ref: null,
        },
        run,
      ),
    ]);
    const pending = await runState(admin, flaky.run.run_id);
    expect(pending).toMatchObject({
      status: "pending",
      attempt: 1,
      error: { reason: "gpu_lost" },
      targets: [{ app: "lab-notes" }],
      waiting: { reason: "backoff" },
    });
    await advanceClock(tenant, 50_000);
    expect((await runState(admin, flaky.run.run_id)).status).toBe("pending");
    await advanceClock(tenant, 10_100);
    const again = await agent.next("dispatch");
    expect(again.attempt).toBe(2);

    const denied = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const second = await agent.take(again);
    await agent.emit([
      agent.event(
        "run_completed",
        { result: "ok", usage: usage(), duration_ms: 1, tree_ref: null },
        second,
      ),
    ]);
    const run2 = await agent.take(
      await agent.next("dispatch", (d) => d.run_id === denied.run.run_id),
    );
    await agent.emit([
      agent.event(
        "run_failed",
        {
          error: { category: "policy", reason: "tool_denied", message: "rm -rf is not allowed" },
          usage: usage(),
          duration_ms: 3,
          tree_ref: null,
        },
        run2,
      ),
    ]);
    expect(await runState(admin, denied.run.run_id)).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { category: "policy" },
    });
  });

  it("fails a refused invalid intent, and hands a no-capacity refusal to another agent", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const picky = await connectAgent(agentKey, tenant, "picky");
    const bad = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const d = await picky.next("dispatch");
    picky.send({
      type: "refuse",
      run_id: d.run_id,
      attempt: d.attempt,
      reason: "invalid_intent",
      message: "unknown intent type",
    });
    await eventually(async () => (await runState(admin, bad.run.run_id)).status === "failed");
    expect((await runState(admin, bad.run.run_id)).error).toMatchObject({
      category: "invalid_intent",
    });

    const other = await connectAgent(agentKey, tenant, "other");
    const full = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const firstTry = full.run.agent_id === "picky" ? picky : other;
    const secondTry = firstTry === picky ? other : picky;
    const d2 = await firstTry.next("dispatch");
    firstTry.send({
      type: "refuse",
      run_id: d2.run_id,
      attempt: d2.attempt,
      reason: "no_capacity",
      message: "busy",
    });
    const d3 = await secondTry.next("dispatch");
    expect(d3).toMatchObject({ run_id: full.run.run_id, attempt: 2 });
  });
});

describe("cancel, deadlines, idempotency, fork", () => {
  it("cancels a running run on its edge agent; the run ends cancelled and the agent is free", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const agent = await connectAgent(agentKey, tenant, "runner");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    const cancelled = await json<RunState>(
      await call("POST", `/v1/runs/${run.run_id}/cancel`, {
        key: admin,
        body: { reason: "wrong dataset" },
      }),
      200,
    );
    expect(cancelled).toMatchObject({
      status: "cancelled",
      lease: null,
      error: { category: "cancelled", message: "wrong dataset" },
    });
    expect(await agent.next("cancel")).toMatchObject({
      run_id: run.run_id,
      reason: "wrong dataset",
    });
    const log = await events(admin, `&run=${run.run_id}&kind=run_cancelled`);
    expect(log.events[0]).toMatchObject({
      source: "central",
      payload: { reason: "wrong dataset" },
    });
    expect((await call("POST", `/v1/runs/${run.run_id}/cancel`, { key: admin })).status).toBe(409);
    // The edge's own run_cancelled afterwards is recorded and changes nothing.
    await agent.emit([
      agent.event(
        "run_cancelled",
        { reason: "told to stop", by: null, usage: usage(), tree_ref: null },
        run,
      ),
    ]);
    expect((await runState(admin, run.run_id)).status).toBe("cancelled");
    const agents = await json<{ agents: { status: string }[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(agents.agents[0]!.status).toBe("online");
    const queued = await submit(admin, { targets: [{ app: "nobody" }] });
    const viaIntent = await json<RunState>(
      await call("POST", `/v1/intents/${queued.intent.intent_id}/cancel`, { key: admin }),
      200,
    );
    expect(viaIntent.status).toBe("cancelled");
    expect(accepted.intent.intent_id).not.toBe(queued.intent.intent_id);
  });

  it("times out runs at their deadline, queued or running", async () => {
    const { tenant, admin, agentKey } = await fleet({
      heartbeat: { degraded_after: 9, disconnected_after: 10 },
    });
    const deadline = new Date(Date.now() + 60_000).toISOString();
    const queued = await submit(admin, { targets: [{ app: "nobody" }], deadline });
    const agent = await connectAgent(agentKey, tenant, "slow");
    const running = await submit(admin, { targets: [{ app: "lab-notes" }], deadline });
    await agent.take(await agent.next("dispatch"));
    await advanceClock(tenant, 61_000);
    for (const id of [queued.run.run_id, running.run.run_id]) {
      const run = await runState(admin, id);
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({ category: "timeout", reason: "deadline_exceeded" });
    }
    expect((await agent.next("cancel")).run_id).toBe(running.run.run_id);
  });

  it("honours idempotency_key: the same key and request returns the first intent, with 200", async () => {
    const { admin } = await fleet({});
    const request = {
      targets: [{ app: "x" }],
      params: { prompt: "nightly" },
      idempotency_key: "nightly-2026-11-21",
    };
    const first = await submit(admin, request);
    const again = await call("POST", "/v1/intents", { key: admin, body: request });
    const body = await json<{
      duplicate: boolean;
      intent: { intent_id: string };
      run: { run_id: string };
    }>(again, 200);
    expect(body).toMatchObject({
      duplicate: true,
      intent: { intent_id: first.intent.intent_id },
      run: { run_id: first.run.run_id },
    });
    const runs = await json<{ runs: unknown[] }>(
      await call("GET", "/v1/runs", { key: admin }),
      200,
    );
    expect(runs.runs).toHaveLength(1);
  });

  it("forks a run into a new intent on the same agent, from a session entry", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const agent = await connectAgent(agentKey, tenant, "host-1");
    const original = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    await agent.emit([
      agent.event(
        "run_completed",
        {
          result: "v1",
          usage: usage(),
          duration_ms: 1,
          tree_ref: { session_file: "s.jsonl", entry_id: "e7" },
        },
        run,
      ),
    ]);
    // An entry the run's events never named is refused now, not by the agent after dispatch.
    const unknown = await call("POST", `/v1/runs/${original.run.run_id}/fork`, {
      key: admin,
      body: { entry_id: "e3" },
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: { code: "invalid_request", issues: [{ path: "entry_id" }] },
    });
    const fork = await json<{
      intent: { fork_of: unknown; targets: unknown; params: unknown };
      run: { run_id: string; status: string };
    }>(
      await call("POST", `/v1/runs/${original.run.run_id}/fork`, {
        key: admin,
        body: { entry_id: "e7", prompt: "try it another way" },
      }),
      201,
    );
    expect(fork.intent).toMatchObject({
      fork_of: { run_id: original.run.run_id, entry_id: "e7" },
      targets: [{ agent_id: "host-1" }],
      params: { prompt: "try it another way" },
    });
    const dispatch = await agent.next("dispatch");
    expect(Intent.parse(dispatch.intent).fork_of).toEqual({
      run_id: original.run.run_id,
      entry_id: "e7",
    });
    const never = await submit(admin, { targets: [{ app: "nobody" }] });
    expect((await call("POST", `/v1/runs/${never.run.run_id}/fork`, { key: admin })).status).toBe(
      409,
    );
  });

  it("redacts a fork's prompt as it does a submitted one: answered, stored and dispatched", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const agent = await connectAgent(agentKey, tenant, "host-2");
    const original = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    await agent.emit([
      agent.event(
        "run_completed",
        { result: "v1", usage: usage(), duration_ms: 1, tree_ref: null },
        run,
      ),
    ]);
    const forked = await call("POST", `/v1/runs/${original.run.run_id}/fork`, {
      key: admin,
      body: { prompt: "password=hunter2-SUPERSECRET-value" },
    });
    const answer = await forked.text();
    expect(forked.status, answer).toBe(201);
    const fork = JSON.parse(answer) as { intent: { intent_id: string; params: unknown } };
    expect(fork.intent.params).toMatchObject({ prompt: "password=[REDACTED]" });
    const stored = await json(
      await call("GET", `/v1/intents/${fork.intent.intent_id}`, { key: admin }),
      200,
    );
    const dispatch = await agent.next("dispatch");
    for (const text of [answer, JSON.stringify(stored), JSON.stringify(dispatch)])
      expect(text).not.toContain("hunter2");
  });

  it("lets a reconnecting agent keep the runs it holds and cancels the ones it lost", async () => {
    const { tenant, admin, agentKey } = await fleet({});
    const agent = await connectAgent(agentKey, tenant, "flappy");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    agent.close();
    await eventually(async () => {
      const list = await json<{ agents: { status: string }[] }>(
        await call("GET", "/v1/agents", { key: admin }),
        200,
      );
      return list.agents[0]!.status === "disconnected";
    });
    const back = await connectAgent(agentKey, tenant, "flappy", { register: false });
    back.send({
      type: "hello",
      registration: (await import("../support")).registration("flappy"),
      holding: [run, { run_id: "01900000-0000-7000-8000-000000000000", attempt: 1 }],
    });
    await back.next("welcome");
    expect(await back.next("lease")).toMatchObject({ run_id: accepted.run.run_id, attempt: 1 });
    expect((await back.next("cancel")).reason).toBe("unknown run");
    const list = await json<{ agents: { status: string; running: string[] }[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(list.agents[0]).toMatchObject({ status: "busy", running: [accepted.run.run_id] });
  });
});
