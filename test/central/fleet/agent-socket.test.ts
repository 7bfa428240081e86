import { describe, expect, it } from "vitest";
import { AgentList } from "../../../contract";
import {
  advanceClock,
  agentStatuses,
  call,
  connectAgent,
  eventually,
  json,
  newKey,
  newTenant,
  putSettings,
  registration,
  runState,
  submit,
} from "../support";

describe("agent WebSocket", () => {
  it("registers an agent with its app, skills, capabilities, harness and version", async () => {
    const { tenant, admin } = await newTenant("ws");
    const key = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(key, tenant, "notes-1", {
      registration: { capabilities: ["fs", "gpu"], max_concurrency: 3 },
    });
    agent.send({ type: "heartbeat", status: "online", running: [], outbox_pending: 4 });
    const list = AgentList.parse(
      await eventually(async () => {
        const body = await json<{ agents: { last_heartbeat_at: string | null }[] }>(
          await call("GET", "/v1/agents", { key: admin }),
          200,
        );
        return body.agents[0]?.last_heartbeat_at ? body : undefined;
      }),
    );
    expect(list.agents[0]).toMatchObject({
      agent_id: "notes-1",
      app: "lab-notes",
      status: "online",
      capabilities: ["fs", "gpu"],
      harness: { name: "pi", version: "0.73.1" },
      agent_version: "0.1.0",
      max_concurrency: 3,
      running: [],
    });
    expect(list.agents[0]!.skills[0]!.name).toBe("summarize");
    const audit = await json<{ entries: { action: string; target: string }[] }>(
      await call("GET", "/v1/audit", { key: admin }),
      200,
    );
    expect(audit.entries[0]).toMatchObject({ action: "agents.register", target: "notes-1" });
  });

  it("requires hello first and a compatible contract version", async () => {
    const { tenant, admin } = await newTenant("ws");
    const key = (await newKey(admin, "agent")).key;
    const rude = await connectAgent(key, tenant, "rude", { register: false });
    rude.send({ type: "heartbeat", status: "online", running: [], outbox_pending: 0 });
    expect(await rude.next("error")).toMatchObject({ code: "hello_required", fatal: true });
    expect((await rude.waitClosed()).code).toBe(4000);
    const old = await connectAgent(key, tenant, "old", { register: false });
    old.send({
      type: "hello",
      registration: registration("old", "lab-notes", { contract_version: "0.9.0" }),
      holding: [],
    });
    expect(await old.next("error")).toMatchObject({ code: "incompatible_contract", fatal: true });
    expect((await old.waitClosed()).code).toBe(4010);
  });

  it("answers malformed frames with an error and keeps the connection", async () => {
    const { tenant, admin } = await newTenant("ws");
    const key = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(key, tenant, "sloppy");
    agent.ws.send("{not json");
    expect(await agent.next("error")).toMatchObject({ code: "malformed_json", fatal: false });
    agent.send({ type: "teleport" });
    expect(await agent.next("error")).toMatchObject({ code: "invalid_message", fatal: false });
    agent.send({ type: "claim", run_id: "nope", attempt: 0 });
    expect((await agent.next("error")).message).toContain("run_id");
    agent.send({ type: "hello", registration: registration("sloppy"), holding: [] });
    expect(await agent.next("error")).toMatchObject({ code: "already_registered" });
    const ack = await agent.emit([
      agent.event("heartbeat", { status: "online", running: [], outbox_pending: 0, load: null }),
    ]);
    expect(ack.stored).toHaveLength(1);
  });

  it("restricts app-scoped keys to their app, and reserves the id 'central'", async () => {
    const { tenant, admin } = await newTenant("ws");
    const scoped = (await newKey(admin, "agent", "lab-notes")).key;
    const wrong = await connectAgent(scoped, tenant, "robot", { register: false });
    wrong.send({ type: "hello", registration: registration("robot", "turtlebot"), holding: [] });
    expect(await wrong.next("error")).toMatchObject({ code: "forbidden", fatal: true });
    expect((await wrong.waitClosed()).code).toBe(4003);
    const sneaky = await connectAgent(scoped, tenant, "central", { register: false });
    sneaky.send({ type: "hello", registration: registration("central"), holding: [] });
    expect(await sneaky.next("error")).toMatchObject({ code: "forbidden" });
    const list = await json<{ agents: unknown[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(list.agents).toEqual([]);
    await connectAgent(scoped, tenant, "notes", { app: "lab-notes" });
  });

  it("keeps an agent id with its app: an agent of another app cannot take it, or its runs", async () => {
    const { tenant, admin } = await newTenant("ws");
    const keyA = (await newKey(admin, "agent", "lab-a")).key;
    const keyB = (await newKey(admin, "agent", "lab-b")).key;
    const a1 = await connectAgent(keyA, tenant, "a1", { app: "lab-a" });
    for (const key of [keyB, (await newKey(admin, "agent")).key]) {
      const impostor = await connectAgent(key, tenant, "a1", { register: false });
      impostor.send({ type: "hello", registration: registration("a1", "lab-b"), holding: [] });
      expect(await impostor.next("error")).toMatchObject({
        code: "forbidden",
        message: expect.stringContaining("agent a1 is an agent of app lab-a"),
      });
      expect((await impostor.waitClosed()).code).toBe(4003);
    }
    expect(a1.closed).toBeNull();
    const list = await json<{ agents: { agent_id: string; app: string }[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(list.agents.map((a) => [a.agent_id, a.app])).toEqual([["a1", "lab-a"]]);
    // Another key of the app (a rotated one) still reconnects it.
    await connectAgent((await newKey(admin, "agent", "lab-a")).key, tenant, "a1", { app: "lab-a" });
    expect((await a1.waitClosed()).code).toBe(4009);
  });

  it("replaces an older connection of the same agent, and marks the agent on drain, goodbye and close", async () => {
    const { tenant, admin } = await newTenant("ws");
    const key = (await newKey(admin, "agent")).key;
    const first = await connectAgent(key, tenant, "twin");
    const second = await connectAgent(key, tenant, "twin");
    expect((await first.waitClosed()).code).toBe(4009);
    const status = async () =>
      (
        await json<{ agents: { status: string }[] }>(
          await call("GET", "/v1/agents", { key: admin }),
          200,
        )
      ).agents[0]!.status;
    expect(await status()).toBe("online");
    second.send({ type: "drain" });
    await eventually(async () => (await status()) === "draining");
    second.send({ type: "goodbye", reason: "maintenance" });
    expect((await second.waitClosed()).code).toBe(1000);
    expect(await status()).toBe("offline");
    const third = await connectAgent(key, tenant, "twin");
    expect(await status()).toBe("online");
    third.close();
    await eventually(async () => (await status()) === "disconnected");
  });

  it("keeps a draining agent draining through a missed heartbeat, until it restarts", async () => {
    const { tenant, admin } = await newTenant("ws");
    await putSettings(admin, {
      heartbeat: { interval_ms: 60_000, degraded_after: 1, disconnected_after: 3 },
      dispatch: { lease_ms: 120_000 },
    });
    const key = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(key, tenant, "leaving");
    const status = async () => (await agentStatuses(admin))[0];
    agent.send({ type: "drain" });
    await eventually(async () => (await status()) === "draining");
    const queued = await submit(admin, { targets: [{ app: "lab-notes" }] });
    expect(queued.run.status).toBe("pending");
    await advanceClock(tenant, 70_000);
    expect(await status()).toBe("degraded");
    // Heard again (still draining): it recovers without taking the queued run.
    agent.send({ type: "heartbeat", status: "draining", running: [], outbox_pending: 0 });
    await eventually(async () => (await status()) === "draining", 3_000, "draining again");
    expect(agent.received.filter((m) => m.type === "dispatch")).toEqual([]);
    // Any frame is a sign of life, and the drain outlasts that recovery too.
    await advanceClock(tenant, 70_000);
    expect(await status()).toBe("degraded");
    await agent.emit([
      agent.event("heartbeat", { status: "draining", running: [], outbox_pending: 0, load: null }),
    ]);
    await eventually(async () => (await status()) === "draining", 3_000, "draining again");
    expect(agent.received.filter((m) => m.type === "dispatch")).toEqual([]);
    expect((await runState(admin, queued.run.run_id)).status).toBe("pending");
    // A restarted agent (a new hello) takes work again.
    const restarted = await connectAgent(key, tenant, "leaving");
    expect((await restarted.next("dispatch")).run_id).toBe(queued.run.run_id);
  });

  it("refuses the SDK's connection-id and transport overrides", async () => {
    const { admin } = await newTenant("ws");
    const key = (await newKey(admin, "agent")).key;
    for (const query of ["?_pk=victim", "?__agents_transport=capnweb"]) {
      const response = await (await import("../support")).central(
        new Request(`http://central/v1/agents/connect${query}`, {
          headers: { upgrade: "websocket", authorization: `Bearer ${key}` },
        }),
      );
      expect(response.status).toBe(400);
    }
  });
});
