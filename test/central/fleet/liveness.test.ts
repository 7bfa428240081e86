import { describe, expect, it } from "vitest";
import {
  advanceClock,
  call,
  connectAgent,
  eventually,
  json,
  newKey,
  newTenant,
  putSettings,
  submit,
} from "../support";

describe("heartbeats and agent status", () => {
  it("marks a silent agent degraded, then disconnected (closing its socket), then offline after the grace period; a heartbeat brings it back", async () => {
    const { tenant, admin } = await newTenant("hb");
    await putSettings(admin, {
      heartbeat: {
        interval_ms: 60_000,
        degraded_after: 1,
        disconnected_after: 3,
        offline_grace_ms: 100_000,
      },
      dispatch: { lease_ms: 120_000 },
    });
    const key = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(key, tenant, "sleepy");
    const status = async () =>
      (
        await json<{ agents: { status: string }[] }>(
          await call("GET", "/v1/agents", { key: admin }),
          200,
        )
      ).agents[0]!.status;
    // Each step leaves a margin of seconds to the next threshold: real time passes too.
    await advanceClock(tenant, 50_000);
    expect(await status()).toBe("online");
    await advanceClock(tenant, 20_000);
    expect(await status()).toBe("degraded");
    agent.send({ type: "heartbeat", status: "online", running: [], outbox_pending: 0 });
    await eventually(async () => (await status()) === "online", 3_000, "back online");
    await advanceClock(tenant, 70_000);
    expect(await status()).toBe("degraded");
    await advanceClock(tenant, 120_000);
    expect((await agent.waitClosed()).code).toBe(4008);
    expect(await status()).toBe("disconnected");
    await advanceClock(tenant, 90_000);
    expect(await status()).toBe("disconnected");
    await advanceClock(tenant, 20_000);
    expect(await status()).toBe("offline");
    await connectAgent(key, tenant, "sleepy");
    expect(await status()).toBe("online");
  });

  it("tells the agent its timings in welcome", async () => {
    const { tenant, admin } = await newTenant("hb");
    await putSettings(admin, { heartbeat: { interval_ms: 1_500 }, dispatch: { lease_ms: 4_000 } });
    const key = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(key, tenant, "x", { register: false });
    agent.send({
      type: "hello",
      registration: (await import("../support")).registration("x"),
      holding: [],
    });
    expect(await agent.next("welcome")).toMatchObject({
      tenant,
      agent_id: "x",
      heartbeat_interval_ms: 1_500,
      lease_ms: 4_000,
    });
  });

  it("forgets an agent offline past forget_after_ms, unless it still holds a run", async () => {
    const { tenant, admin } = await newTenant("hb");
    await putSettings(admin, {
      heartbeat: {
        interval_ms: 60_000,
        degraded_after: 50,
        disconnected_after: 51,
        offline_grace_ms: 10_000,
        forget_after_ms: 100_000,
      },
      dispatch: { lease_ms: 3_600_000, ack_timeout_ms: 3_600_000 },
    });
    const key = (await newKey(admin, "agent")).key;
    const gone = await connectAgent(key, tenant, "gone");
    gone.send({ type: "goodbye", reason: "decommissioned" });
    await gone.waitClosed();
    // "holder" is dispatched a run, then goes offline still holding it.
    const holder = await connectAgent(key, tenant, "holder");
    await submit(admin, { targets: [{ agent_id: "holder" }] });
    await holder.next("dispatch");
    holder.close();
    await holder.waitClosed();
    const listed = async () =>
      (
        await json<{ agents: { agent_id: string; status: string }[] }>(
          await call("GET", "/v1/agents", { key: admin }),
          200,
        )
      ).agents.map((a) => `${a.agent_id}:${a.status}`);
    await eventually(async () => (await listed()).includes("holder:disconnected"));
    await advanceClock(tenant, 20_000);
    expect(await listed()).toEqual(["gone:offline", "holder:offline"]);
    await advanceClock(tenant, 70_000);
    expect(await listed()).toEqual(["gone:offline", "holder:offline"]);
    await advanceClock(tenant, 40_000);
    expect(await listed()).toEqual(["holder:offline"]);
    // Back, it registers again.
    await connectAgent(key, tenant, "gone");
    expect(await listed()).toEqual(["gone:online", "holder:offline"]);
  });
});
