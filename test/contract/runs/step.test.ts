import { describe, expect, it } from "vitest";
import { nextDue, replayRun, runStateOf, stepRun } from "../../../contract";
import { ended, modelCall, OwnerHarness, settings, started, T0, toolFinished } from "./harness";

/** Dispatch to `agent`, acknowledge and claim: the run is running under a lease. */
function running(h: OwnerHarness, agent = "a1") {
  h.step({ type: "dispatch", agent_id: agent, app: "lab-notes" });
  const attempt = h.life.attempt;
  h.step({ type: "ack", agent_id: agent, attempt });
  h.step({ type: "claim", agent_id: agent, attempt });
  return attempt;
}

/** A run whose attempt 1 on a1 lost its lease, and attempt 2 runs on a2. */
function retriedOnA2(): OwnerHarness {
  const h = new OwnerHarness();
  running(h, "a1");
  h.advance(90_000).step({ type: "tick" });
  h.advance(2_000);
  running(h, "a2");
  return h;
}

describe("a run's life: central as owner", () => {
  it("dispatches, is acknowledged and claimed, and completes with the edge's report", () => {
    const h = new OwnerHarness();
    h.step({ type: "dispatch", agent_id: "a1", app: "lab-notes" });
    expect(h.life.status).toBe("dispatched");
    expect(h.life.intent_status).toBe("active");
    expect(h.emitted()).toEqual(["run_dispatched"]);
    expect(h.effects).toContainEqual({
      type: "dispatch",
      agent_id: "a1",
      attempt: 1,
      ack_timeout_ms: 10_000,
    });
    expect(nextDue(h.life, h.config, h.now)).toBe(T0 + 10_000);

    h.advance(100).step({ type: "ack", agent_id: "a1", attempt: 1 });
    expect(h.life.hold).toMatchObject({ acked: true, ack_deadline: null });
    expect(nextDue(h.life, h.config, h.now)).toBe(T0 + 100 + 90_000);

    h.step({ type: "claim", agent_id: "a1", attempt: 1 });
    expect(h.life.status).toBe("running");
    expect(h.sent()).toEqual([{ agent: "a1", type: "claimed" }]);
    expect(h.effects).toContainEqual({ type: "holding", agent_id: "a1" });

    h.advance(1000).step({
      type: "events",
      events: [
        h.edge("run_started", started(h.life.intent_id!, 1, "central"), {
          agent: "a1",
          attempt: 1,
        }),
        h.edge("run_completed", ended({ result: "42" }), { agent: "a1", attempt: 1, seq: 1 }),
      ],
    });
    expect(h.life.status).toBe("completed");
    expect(h.life.intent_status).toBe("completed");
    expect(h.life.result).toBe("42");
    expect(h.life.finished_at).toBe(T0 + 1100);
    expect(h.life.started_at).toBe(T0 + 1100);
    expect(h.effects).toContainEqual({ type: "released", agent_id: "a1" });
    expect(nextDue(h.life, h.config, h.now)).toBeNull();
  });

  it("renews the lease on the holder's events and answers with one lease per batch", () => {
    const h = new OwnerHarness();
    running(h);
    h.advance(60_000).step({
      type: "events",
      events: [
        h.edge("turn_started", { turn: 1 }, { agent: "a1", attempt: 1 }),
        h.edge("turn_started", { turn: 2 }, { agent: "a1", attempt: 1, seq: 1 }),
      ],
    });
    expect(h.sent()).toEqual([{ agent: "a1", type: "lease" }]);
    expect(h.life.hold?.lease_expires_at).toBe(h.now + 90_000);
  });

  it("sends an unacknowledged dispatch back to the queue, then fails when attempts run out", () => {
    const h = new OwnerHarness();
    h.step({ type: "dispatch", agent_id: "a1", app: "lab-notes" });
    h.advance(10_000).step({ type: "tick" });
    expect(h.life.status).toBe("pending");
    expect(h.life.intent_status).toBe("queued");
    expect(h.emitted()).toEqual(["run_retrying"]);
    expect(h.sent()).toEqual([{ agent: "a1", type: "cancel" }]);
    expect(h.life.retry_at).toBe(h.now + 1000);
    // Not before its backoff.
    h.step({ type: "dispatch", agent_id: "a2", app: "lab-notes" });
    expect(h.refusal).toMatch(/waits for its retry/);

    for (let attempt = 2; attempt <= 3; attempt++) {
      h.advance(60_000).step({ type: "dispatch", agent_id: "a2", app: "lab-notes" });
      expect(h.life.attempt).toBe(attempt);
      h.advance(10_000).step({ type: "tick" });
    }
    expect(h.life.status).toBe("failed");
    expect(h.life.intent_status).toBe("failed");
    expect(h.life.error).toMatchObject({ category: "timeout", reason: "ack_timeout" });
    expect(h.emitted()).toEqual(["run_failed"]);
  });

  it("retries a run whose lease expired on another agent, and ignores the lost attempt's late end", () => {
    const h = new OwnerHarness();
    running(h, "a1");
    h.advance(90_000).step({ type: "tick" });
    expect(h.emitted()).toEqual(["lease_expired"]);
    expect(h.life.status).toBe("pending");
    expect(h.life.error?.reason).toBe("lease_expired");
    expect(h.effects).toContainEqual({ type: "released", agent_id: "a1" });

    h.advance(2_000);
    running(h, "a2");
    expect(h.life.attempt).toBe(2);
    // a1 comes back and reports how its attempt ended: it changes nothing.
    h.step({
      type: "events",
      events: [h.edge("run_completed", ended({ result: "stale" }), { agent: "a1", attempt: 1 })],
    });
    expect(h.life.status).toBe("running");
    expect(h.life.anomalies.at(-1)).toMatch(/attempt 1 had already been sent back to the queue/);
    h.step({
      type: "events",
      events: [h.edge("run_completed", ended({ result: "fresh" }), { agent: "a2", attempt: 2 })],
    });
    expect(h.life).toMatchObject({ status: "completed", result: "fresh", attempt: 2 });
  });

  it("rules on a reported failure: a retryable one gets another attempt, another fails the run", () => {
    const retryable = new OwnerHarness();
    running(retryable);
    retryable.step({
      type: "events",
      events: [
        retryable.edge(
          "run_failed",
          ended({ error: { category: "infrastructure", reason: "host_down", message: "down" } }),
          { agent: "a1", attempt: 1 },
        ),
      ],
    });
    expect(retryable.emitted()).toEqual(["run_retrying"]);
    expect(retryable.life.status).toBe("pending");
    expect(runStateOf(retryable.life).status).toBe("pending");

    const final = new OwnerHarness();
    running(final);
    final.step({
      type: "events",
      events: [
        final.edge(
          "run_failed",
          ended({
            error: { category: "budget_exceeded", reason: "budget_exceeded", message: "x" },
          }),
          { agent: "a1", attempt: 1 },
        ),
      ],
    });
    expect(final.emitted()).toEqual(["run_failed"]);
    expect(final.life.status).toBe("failed");
    expect(final.life.error?.reason).toBe("budget_exceeded");
  });

  it("does not retry past the intent's deadline, and fails the run when the deadline passes", () => {
    const h = new OwnerHarness(settings(), { deadline: new Date(T0 + 30_000).toISOString() });
    running(h);
    expect(nextDue(h.life, h.config, h.now)).toBe(T0 + 30_000);
    h.advance(30_000).step({ type: "tick" });
    expect(h.life.status).toBe("failed");
    expect(h.life.error?.reason).toBe("deadline_exceeded");
    expect(h.sent()).toEqual([{ agent: "a1", type: "cancel" }]);
  });

  it("expires the intent of a run no agent ever took", () => {
    const h = new OwnerHarness(settings(), { deadline: new Date(T0 + 5_000).toISOString() });
    h.advance(5_000).step({ type: "tick" });
    expect(h.life.status).toBe("failed");
    expect(h.life.intent_status).toBe("expired");
  });

  it("times out a run no online agent serves, with a reason naming its target", () => {
    const h = new OwnerHarness(settings({ queue_timeout_ms: 60_000 }), {
      targets: [{ app: "no-such-app" }],
    });
    h.step({ type: "queue", served: false });
    expect(h.life.unserved_since).toBe(T0);
    h.advance(30_000).step({ type: "queue", served: true });
    expect(h.life.unserved_since).toBeNull();
    h.step({ type: "queue", served: false });
    h.advance(59_999).step({ type: "tick" });
    expect(h.life.status).toBe("pending");
    expect(nextDue(h.life, h.config, h.now)).toBe(h.now + 1);
    h.advance(1).step({ type: "tick" });
    expect(h.life.status).toBe("failed");
    expect(h.life.error).toMatchObject({ category: "timeout", reason: "queue_timeout" });
    expect(h.life.error?.message).toContain("app no-such-app");
    expect(h.life.intent_status).toBe("expired");
  });

  it("waits for ever when the tenant turned the queue timeout off", () => {
    const h = new OwnerHarness(settings({ queue_timeout_ms: null }));
    h.step({ type: "queue", served: false });
    h.advance(365 * 86_400_000).step({ type: "tick" });
    expect(h.life.status).toBe("pending");
    expect(nextDue(h.life, h.config, h.now)).toBeNull();
  });

  it("fails an intent the agent refuses as invalid, and retries one refused for capacity", () => {
    const invalid = new OwnerHarness();
    invalid.step({ type: "dispatch", agent_id: "a1", app: "lab-notes" });
    invalid.step({
      type: "refuse",
      agent_id: "a1",
      attempt: 1,
      reason: "invalid_intent",
      message: "params.prompt: required",
    });
    expect(invalid.life).toMatchObject({ status: "failed", error: { category: "invalid_intent" } });

    const busy = new OwnerHarness();
    busy.step({ type: "dispatch", agent_id: "a1", app: "lab-notes" });
    busy.step({
      type: "refuse",
      agent_id: "a1",
      attempt: 1,
      reason: "no_capacity",
      message: "full",
    });
    expect(busy.life.status).toBe("pending");
    expect(busy.emitted()).toEqual(["run_retrying"]);
    expect(busy.effects).toContainEqual({ type: "released", agent_id: "a1" });
  });

  it("cancels a running run and tells its holder; a settled run cannot be cancelled", () => {
    const h = new OwnerHarness();
    running(h);
    h.step({ type: "cancel", reason: "not needed", by: "key_1" });
    expect(h.life).toMatchObject({ status: "cancelled", intent_status: "cancelled" });
    expect(h.emitted()).toEqual(["run_cancelled"]);
    expect(h.sent()).toEqual([{ agent: "a1", type: "cancel" }]);
    const before = h.life;
    h.step({ type: "cancel", reason: "again", by: null });
    expect(h.refusal).toMatch(/already cancelled/);
    expect(h.life).toBe(before);
    // The edge's own report of the cancellation is the same ending: no anomaly.
    h.step({
      type: "events",
      events: [
        h.edge(
          "run_cancelled",
          { ...ended(), reason: "stopped", by: null },
          { agent: "a1", attempt: 1 },
        ),
      ],
    });
    expect(h.life.anomalies).toEqual([]);
  });

  it("refuses what the machine does not allow: dispatching a running run", () => {
    const h = new OwnerHarness();
    running(h);
    const before = h.life;
    h.step({ type: "dispatch", agent_id: "a2", app: "lab-notes" });
    expect(h.refusal).toMatch(/is running/);
    expect(h.life).toBe(before);
    expect(h.effects).toEqual([]);
  });

  it("rejects a claim from an agent that does not hold the run, saying why", () => {
    const h = new OwnerHarness();
    h.step({ type: "dispatch", agent_id: "a1", app: "lab-notes" });
    h.step({ type: "claim", agent_id: "a2", attempt: 1 });
    expect(h.effects).toEqual([
      {
        type: "send",
        agent_id: "a2",
        message: expect.objectContaining({
          type: "claim_rejected",
          reason: "the run is not dispatched to this agent",
        }),
      },
    ]);
    h.step({ type: "claim", agent_id: "a1", attempt: 7 });
    expect(h.effects[0]).toMatchObject({ message: { reason: "attempt 7 is stale (current: 1)" } });
  });

  it("a reconnecting agent keeps the runs it holds and is told to drop the ones it lost", () => {
    const h = new OwnerHarness();
    h.step({ type: "dispatch", agent_id: "a1", app: "lab-notes" });
    h.step({ type: "renew", agent_id: "a1", attempt: 1, reconnect: true });
    expect(h.life.status).toBe("running");
    expect(h.sent()).toEqual([{ agent: "a1", type: "lease" }]);
    h.step({ type: "renew", agent_id: "a9", attempt: 1, reconnect: true });
    expect(h.sent()).toEqual([{ agent: "a9", type: "cancel" }]);
  });
});

describe("which model_call counts", () => {
  function consumed(events: (h: OwnerHarness) => ReturnType<OwnerHarness["edge"]>[]) {
    const h = new OwnerHarness();
    running(h);
    h.step({ type: "events", events: events(h) });
    return runStateOf(h.life).usage;
  }

  it("counts a gateway call once, as the gateway priced it, in either order of observations", () => {
    for (const gatewayFirst of [true, false]) {
      const usage = consumed((h) => {
        const gw = h.edge(
          "model_call",
          modelCall("gateway", { call_id: "g1", input: 100, cost: 0.02 }),
          {
            agent: "central",
            attempt: null,
          },
        );
        const edge = h.edge(
          "model_call",
          modelCall("edge", { gateway_call_id: "g1", input: 100, cost: null }),
          { agent: "a1", attempt: 1 },
        );
        return gatewayFirst ? [gw, edge] : [edge, gw];
      });
      expect(usage).toMatchObject({ model_calls: 1, tokens_in: 100, cost_usd: 0.02 });
    }
  });

  it("counts the edge's observation of a gateway call while the gateway's is not in the log", () => {
    const h = new OwnerHarness();
    const life = replayRun([
      h.edge("run_started", started(h.life.intent_id!, 1, "local"), { agent: "a1", attempt: 1 }),
      h.edge("model_call", modelCall("edge", { gateway_call_id: "g1", input: 70, cost: null }), {
        agent: "a1",
        attempt: 1,
      }),
    ]);
    expect(runStateOf(life).usage).toMatchObject({ model_calls: 1, tokens_in: 70, cost_usd: null });
  });

  it("never counts an edge observation of a gateway call without the gateway's call id (older edges)", () => {
    const usage = consumed((h) => [
      h.edge("model_call", modelCall("edge", { input: 70 }), { agent: "a1", attempt: 1 }),
    ]);
    expect(usage).toMatchObject({ model_calls: 0, tokens_in: 0, cost_usd: 0 });
  });

  it("counts a call the edge made to a provider directly, and calls of superseded attempts", () => {
    const h = retriedOnA2();
    h.step({
      type: "events",
      events: [
        h.edge("model_call", modelCall("edge", { provider: "anthropic", input: 5, cost: 0.001 }), {
          agent: "a1",
          attempt: 1,
        }),
        h.edge("model_call", modelCall("edge", { provider: "anthropic", input: 7, cost: 0.002 }), {
          agent: "a2",
          attempt: 2,
        }),
      ],
    });
    expect(runStateOf(h.life).usage).toMatchObject({
      model_calls: 2,
      tokens_in: 12,
      cost_usd: 0.003,
    });
  });

  it("an unpriced call makes the cost unknown until a priced observation replaces it", () => {
    const h = new OwnerHarness();
    running(h);
    h.step({
      type: "events",
      events: [
        h.edge("model_call", modelCall("edge", { gateway_call_id: "g9", cost: null }), {
          agent: "a1",
          attempt: 1,
        }),
      ],
    });
    expect(runStateOf(h.life).usage.cost_usd).toBeNull();
    h.step({
      type: "events",
      events: [
        h.edge("model_call", modelCall("gateway", { call_id: "g9", cost: 0.5 }), {
          agent: "central",
          attempt: null,
        }),
      ],
    });
    expect(runStateOf(h.life).usage.cost_usd).toBe(0.5);
  });

  it("counts tool calls that ran, not those policy refused", () => {
    const usage = consumed((h) =>
      (["ok", "error", "blocked"] as const).map((s, i) =>
        h.edge("tool_call_finished", toolFinished(s), { agent: "a1", attempt: 1, seq: i }),
      ),
    );
    expect(usage.tool_calls).toBe(2);
  });
});

describe("a run hears only from its agents", () => {
  /**
   * What memory replays from central's log agrees with central's own life (a claim is not
   * logged, so a claimed run replays as dispatched).
   */
  function replaysAlike(h: OwnerHarness) {
    const replayed = replayRun(h.log);
    const claimless = (status: string) => (status === "running" ? "dispatched" : status);
    expect(claimless(replayed.status)).toBe(claimless(h.life.status));
    expect(replayed).toMatchObject({
      attempt: h.life.attempt,
      agent_id: h.life.agent_id,
      result: h.life.result,
      consumption: h.life.consumption,
    });
  }

  it("ignores another agent's report on an attempt dispatched to the holder", () => {
    const h = new OwnerHarness();
    running(h, "a1");
    h.step({
      type: "events",
      events: [
        h.edge("run_completed", ended({ result: "forged" }), { agent: "b1", attempt: 1 }),
        h.edge(
          "run_cancelled",
          { reason: "forged", by: "b1", usage: ended().usage, tree_ref: null },
          {
            agent: "b1",
            attempt: 1,
            seq: 1,
          },
        ),
        h.edge("model_call", modelCall("edge", { provider: "anthropic", input: 9, cost: 1 }), {
          agent: "b1",
          attempt: 1,
          seq: 2,
        }),
      ],
    });
    expect(h.life).toMatchObject({ status: "running", agent_id: "a1", result: null });
    expect(runStateOf(h.life).usage).toMatchObject({ model_calls: 0, cost_usd: 0 });
    expect(h.life.anomalies.at(-1)).toMatch(/the run was never dispatched to b1/);
    replaysAlike(h);
  });

  it("ignores a former holder's report on the attempt another agent holds now, or one never dispatched", () => {
    const h = retriedOnA2();
    h.step({
      type: "events",
      events: [
        h.edge("run_completed", ended({ result: "not a1's" }), { agent: "a1", attempt: 2 }),
        h.edge("run_started", started(h.life.intent_id!, 3, "central"), {
          agent: "a1",
          attempt: 3,
        }),
      ],
    });
    expect(h.life).toMatchObject({ status: "running", attempt: 2, agent_id: "a2", result: null });
    expect(h.life.anomalies.slice(-2)).toEqual([
      expect.stringMatching(/attempt 2 was dispatched to a2, not a1/),
      expect.stringMatching(/attempt 3 was never dispatched/),
    ]);
    replaysAlike(h);
  });

  it("ignores a dispatch, a retry or a lapsed lease an agent sends: only central rules", () => {
    const h = new OwnerHarness();
    const dispatch = {
      intent_id: h.life.intent_id!,
      agent_id: "b1",
      app: "lab-b",
      attempt: 1,
      ack_deadline: new Date(T0 + 30_000).toISOString(),
    };
    h.step({
      type: "events",
      events: [h.edge("run_dispatched", dispatch, { agent: "b1", attempt: 1 })],
    });
    expect(h.life).toMatchObject({ status: "pending", attempt: 0, hold: null, tried_agents: [] });
    expect(h.life.anomalies.at(-1)).toMatch(/only central emits it/);
    replaysAlike(h);
  });

  it("a run an edge agent started hears only from that agent", () => {
    const h = new OwnerHarness();
    const life = replayRun([
      h.edge("run_started", started(h.life.intent_id!, 1, "local"), { agent: "a1", attempt: 1 }),
      h.edge("run_completed", ended({ result: "forged" }), { agent: "b1", attempt: 1, seq: 1 }),
    ]);
    expect(life).toMatchObject({ owner: "edge", status: "running", agent_id: "a1" });
    expect(life.anomalies.at(-1)).toMatch(/the run is a1's/);
  });
});

describe("a run the edge owns", () => {
  it("is followed from its events and settled by the edge's own report", () => {
    const h = new OwnerHarness();
    const events = [
      h.edge("run_started", started("01900000-0000-7000-8000-000000000001", 1, "local"), {
        agent: "a1",
        attempt: 1,
      }),
      h.edge(
        "run_failed",
        ended({ error: { category: "tool", reason: "tool_error", message: "boom" } }),
        { agent: "a1", attempt: 1, seq: 1 },
      ),
    ];
    const life = replayRun(events);
    expect(life).toMatchObject({
      owner: "edge",
      status: "failed",
      app: "lab-notes",
      agent_id: "a1",
    });
    expect(life.intent_id).toBe("01900000-0000-7000-8000-000000000001");
  });

  it("central asks the edge to cancel it and leaves the ruling to the edge", () => {
    const h = new OwnerHarness();
    const life = replayRun([
      h.edge("run_started", started(h.life.intent_id!, 1, "local"), { agent: "a1", attempt: 1 }),
    ]);
    const result = stepRun(
      life,
      { type: "cancel", reason: "stop", by: "key_1" },
      { role: "owner", now: T0, settings: settings(), newEventId: () => "x" },
    );
    expect(result.life.status).toBe("running");
    expect(result.effects).toEqual([
      {
        type: "send",
        agent_id: "a1",
        message: { type: "cancel", run_id: life.run_id, reason: "stop" },
      },
    ]);
    const dispatch = stepRun(
      life,
      { type: "dispatch", agent_id: "a2", app: null },
      { role: "owner", now: T0, settings: settings(), newEventId: () => "x" },
    );
    expect(dispatch.refusal?.code).toBe("not_owner");
  });
});
