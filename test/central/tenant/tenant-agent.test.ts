import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../../contract";
import {
  call,
  connectAgent,
  eventually,
  FAST,
  json,
  newKey,
  newTenant,
  putSettings,
  runState,
  submit,
  usage,
} from "../support";

describe("the tenant Durable Object across restarts", () => {
  it("keeps keys, agents, runs and the log, and hibernated agent sockets keep working", async () => {
    const { tenant, admin } = await newTenant("rs");
    const agentKey = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(agentKey, tenant, "steady");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const dispatch = await agent.next("dispatch");
    await evictDurableObject(env.TENANT.getByName(tenant));
    // The socket hibernated with the object; its state (which agent it is) survived.
    const run = await agent.take(dispatch);
    await agent.emit([
      agent.event(
        "run_completed",
        { result: "after restart", usage: usage(1, 2), duration_ms: 1, tree_ref: null },
        run,
      ),
    ]);
    expect(await runState(admin, accepted.run.run_id)).toMatchObject({
      status: "completed",
      result: "after restart",
    });
    const list = await json<{ agents: { agent_id: string; status: string }[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(list.agents).toMatchObject([{ agent_id: "steady", status: "online" }]);
    const log = await json<{ events: { cursor: number }[] }>(
      await call("GET", "/v1/events", { key: admin }),
      200,
    );
    expect(log.events.map((e) => e.cursor)).toEqual([1, 2]);
    await evictDurableObject(env.TENANT.getByName(tenant));
    const next = await agent.emit([
      agent.event("heartbeat", { status: "online", running: [], outbox_pending: 0, load: null }),
    ]);
    expect(next.stored).toHaveLength(1);
    const after = await json<{ events: { cursor: number }[] }>(
      await call("GET", "/v1/events", { key: admin }),
      200,
    );
    expect(after.events.map((e) => e.cursor)).toEqual([1, 2, 3]);
  });

  it("keeps its timers: a lease that runs out while the object was evicted still re-dispatches", async () => {
    const { tenant, admin } = await newTenant("rs");
    await putSettings(admin, FAST);
    const agentKey = (await newKey(admin, "agent")).key;
    const first = await connectAgent(agentKey, tenant, "first");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await first.take(await first.next("dispatch"));
    const second = await connectAgent(agentKey, tenant, "second");
    const stop = second.keepAlive();
    await evictDurableObject(env.TENANT.getByName(tenant));
    const retry = await second.next("dispatch", () => true, 8_000);
    expect(retry).toMatchObject({ run_id: accepted.run.run_id, attempt: 2 });
    stop();
  });

  it("keeps queued intents across a restart and dispatches them when an agent connects", async () => {
    const { tenant, admin } = await newTenant("rs");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    await evictDurableObject(env.TENANT.getByName(tenant));
    const agent = await connectAgent((await newKey(admin, "agent")).key, tenant, "later");
    expect((await agent.next("dispatch")).run_id).toBe(accepted.run.run_id);
    await eventually(
      async () => (await runState(admin, accepted.run.run_id)).status === "dispatched",
    );
  });
});

describe("methods for parts of central running in the Worker (the model gateway)", () => {
  it("resolves a bearer key to its principal, and records central-observed events", async () => {
    const { tenant, admin } = await newTenant("gw");
    const agentKey = await newKey(admin, "agent", "lab-notes");
    const stub = env.TENANT.getByName(tenant);
    expect(await stub.principal(agentKey.key)).toEqual({
      id: agentKey.id,
      role: "agent",
      app: "lab-notes",
    });
    expect(await stub.principal(`aur_agent_${tenant}_${"Q".repeat(43)}`)).toBeNull();
    const call = {
      event_id: uuidv7(),
      tenant,
      run_id: null,
      agent_id: "notes-1",
      source: "central",
      seq: 0,
      kind: "model_call",
      payload: {
        call_id: "g1",
        provider: "openai",
        request_model: "gpt-x",
        response_model: "gpt-x",
        alias: "auto",
        response_id: null,
        stream: false,
        input_tokens: 3,
        output_tokens: 4,
        cost_usd: null,
        latency_ms: 5,
        ttft_ms: null,
        observer: "gateway",
      },
      ts: new Date().toISOString(),
    };
    expect(
      await stub.recordCentralEvents([call, { ...call, event_id: uuidv7(), source: "edge" }]),
    ).toMatchObject({
      stored: 1,
      rejected: [{ index: 1, issues: [{ path: "source" }] }],
    });
    const log = await json<{ events: { source: string; kind: string }[] }>(
      await call_("GET", "/v1/events", admin),
      200,
    );
    expect(log.events).toMatchObject([{ source: "central", kind: "model_call" }]);
  });
});

describe("what the agents SDK would take from a client", () => {
  it("answers sub-agent paths as any other path: a key checked first, no child object made", async () => {
    const { tenant, admin } = await newTenant("sub");
    const viewer = await newKey(admin, "viewer");
    await json(await call("DELETE", `/v1/keys/${viewer.id}`, { key: admin }), 200);
    // `/sub/<class>/<name>` is the SDK's route to a child object of that class and name.
    for (let i = 0; i < 3; i++) {
      const revoked = await call("POST", `/v1/intents/sub/tenant-agent/junk-${i}`, {
        key: viewer.key,
        body: {},
      });
      expect(await json(revoked, 401)).toMatchObject({ error: { code: "unauthorized" } });
    }
    // Warm, and as the first request after the object was evicted (not started yet).
    for (const evicted of [false, true]) {
      if (evicted) await evictDurableObject(env.TENANT.getByName(tenant));
      const unknown = await call("GET", "/v1/sub/tenant-agent/x", { key: admin });
      expect(await json(unknown, 404)).toMatchObject({
        error: { code: "not_found", message: "no route GET /v1/sub/tenant-agent/x" },
      });
    }
    const children = await runInDurableObject(env.TENANT.getByName(tenant), (_agent, state) =>
      state.storage.sql
        .exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'cf_agents_sub_agents'")
        .one(),
    );
    const made =
      children.n === 0
        ? 0
        : await runInDurableObject(
            env.TENANT.getByName(tenant),
            (_agent, state) =>
              state.storage.sql.exec("SELECT count(*) AS n FROM cf_agents_sub_agents").one().n,
          );
    expect(made).toBe(0);
  });

  it("drops SDK headers: a malformed lifecycle props header is no 500", async () => {
    const { admin } = await newTenant("props");
    for (const value of ["{not json", JSON.stringify({ tenant: "other" })]) {
      const answer = await call("GET", "/v1/agents", {
        key: admin,
        headers: { "x-agents-lifecycle-props": value, "x-cf-agents-subagent-url": "http://x/" },
      });
      expect(await json(answer, 200)).toMatchObject({ agents: [] });
    }
    const bad = await call("POST", "/v1/intents", {
      key: admin,
      headers: { "x-agents-lifecycle-props": "{not json" },
      raw: "x".repeat(100_000),
    });
    expect(await json(bad, 400)).toMatchObject({ error: { code: "malformed_json" } });
  });
});

function call_(method: string, path: string, key: string) {
  return call(method, path, { key });
}
