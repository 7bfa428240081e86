import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SECRETS_HANDLE_TTL_MS } from "../../../central/governance/secret-store";
import { SecretInfo, SecretList } from "../../../contract";
import {
  advanceClock,
  call,
  connectAgent,
  events,
  giveKek,
  json,
  newKey,
  newTenant,
  putSettings,
  submit,
} from "../support";

const KEK = "secrets-kek-".repeat(4);
const VALUE = "lab-token-7f3a9c1e5b2d4068";
const OTHER = "robot-only-c0ffee-1234567";

const stub = (tenant: string) => env.TENANT.getByName(tenant);

const put = (key: string, name: string, body: unknown) =>
  call("PUT", `/v1/secrets/${name}`, { key, body });

/** An agent that took a run and holds its claim (and the claim's secrets handle). */
async function claimOne(tenant: string, admin: string) {
  const agent = await connectAgent((await newKey(admin, "agent")).key, tenant, "notes-1");
  await submit(admin, { targets: [{ agent_id: "notes-1" }] });
  const dispatch = await agent.next("dispatch");
  agent.send({ type: "ack", run_id: dispatch.run_id, attempt: 1 });
  agent.send({ type: "claim", run_id: dispatch.run_id, attempt: 1 });
  const { secrets_handle } = await agent.next("claimed");
  return { agent, dispatch, secrets_handle };
}

describe("tenant secrets", () => {
  it("are set and removed by admins only, listed without values, sealed at rest, audited without values", async () => {
    const { tenant, admin } = await newTenant("sec");
    const operator = (await newKey(admin, "operator")).key;
    const viewer = (await newKey(admin, "viewer")).key;
    const noKek = await json<{ error: { message: string } }>(
      await put(admin, "LAB_TOKEN", { value: VALUE }),
      503,
    );
    expect(noKek.error.message).toMatch(/AURAISON_GATEWAY_KEK/);
    await giveKek(tenant, KEK);
    try {
      expect((await put(operator, "LAB_TOKEN", { value: VALUE })).status).toBe(403);
      expect((await put(admin, "9BAD", { value: VALUE })).status).toBe(400);
      // A name JSON cannot carry as a key: such a secret would be stored and never delivered.
      expect((await put(admin, "__proto__", { value: VALUE })).status).toBe(400);
      expect((await put(admin, "LAB_TOKEN", { value: "short" })).status).toBe(400);
      expect((await put(admin, "LAB_TOKEN", { value: VALUE, extra: 1 })).status).toBe(400);
      const stored = SecretInfo.parse(
        await json(await put(admin, "LAB_TOKEN", { value: VALUE }), 200),
      );
      expect(stored).toMatchObject({ name: "LAB_TOKEN", apps: null });
      await json(await put(admin, "ROBOT_KEY", { value: OTHER, apps: ["turtlebot"] }), 200);
      const replaced = SecretInfo.parse(
        await json(await put(admin, "LAB_TOKEN", { value: `${VALUE}-v2` }), 200),
      );
      expect(replaced.created_at).toBe(stored.created_at);

      for (const key of [admin, operator, viewer]) {
        const response = await call("GET", "/v1/secrets", { key });
        const text = await response.text();
        expect(response.status).toBe(200);
        expect(text).not.toContain(VALUE);
        expect(text).not.toContain(OTHER);
        expect(SecretList.parse(JSON.parse(text)).secrets.map((s) => [s.name, s.apps])).toEqual([
          ["LAB_TOKEN", null],
          ["ROBOT_KEY", ["turtlebot"]],
        ]);
      }

      const rows = await runInDurableObject(stub(tenant), (_agent, state) =>
        state.storage.sql.exec("SELECT * FROM secrets").toArray(),
      );
      expect(rows).toHaveLength(2);
      expect(JSON.stringify(rows)).not.toContain(VALUE);
      expect(JSON.stringify(rows)).not.toContain(OTHER);

      expect((await call("DELETE", "/v1/secrets/ROBOT_KEY", { key: operator })).status).toBe(403);
      await json(await call("DELETE", "/v1/secrets/ROBOT_KEY", { key: admin }), 200);
      expect((await call("DELETE", "/v1/secrets/ROBOT_KEY", { key: admin })).status).toBe(404);

      const audit = await call("GET", "/v1/audit", { key: admin });
      const auditText = await audit.text();
      expect(auditText).not.toContain(VALUE);
      const entries = (JSON.parse(auditText) as { entries: { action: string; outcome: string }[] })
        .entries;
      expect(entries.filter((e) => e.action === "secrets.set").map((e) => e.outcome)).toContain(
        "denied",
      );
      expect(entries.some((e) => e.action === "secrets.remove" && e.outcome === "ok")).toBe(true);
    } finally {
      await giveKek(tenant, undefined);
    }
  });

  it("reach only the agent holding a run attempt, once, through its claim's handle", async () => {
    const { tenant, admin } = await newTenant("sec");
    await giveKek(tenant, KEK);
    try {
      await json(await put(admin, "LAB_TOKEN", { value: VALUE }), 200);
      await json(await put(admin, "ROBOT_KEY", { value: OTHER, apps: ["turtlebot"] }), 200);
      // Named like an Object member, delivered like any other name.
      await json(await put(admin, "constructor", { value: OTHER }), 200);
      const agentKey = (await newKey(admin, "agent")).key;
      const agent = await connectAgent(agentKey, tenant, "notes-1");
      const bystander = await connectAgent(agentKey, tenant, "notes-2");
      const accepted = await submit(admin, { targets: [{ agent_id: "notes-1" }] });
      const run_id = accepted.run.run_id;
      const dispatch = await agent.next("dispatch");
      // A dispatch alone is no claim: nothing to redeem yet.
      agent.send({ type: "redeem_secrets", run_id, attempt: 1, handle: "x", names: ["LAB_TOKEN"] });
      expect((await agent.next("secrets")).refused).toMatch(/does not hold/);
      agent.send({ type: "ack", run_id, attempt: dispatch.attempt });
      agent.send({ type: "claim", run_id, attempt: dispatch.attempt });
      const claimed = await agent.next("claimed");
      const handle = claimed.secrets_handle!;
      expect(handle).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // Another agent of the tenant, even with the handle, gets nothing.
      bystander.send({
        type: "redeem_secrets",
        run_id,
        attempt: 1,
        handle,
        names: ["LAB_TOKEN"],
      });
      const foreign = await bystander.next("secrets");
      expect(foreign).toMatchObject({
        values: {},
        refused: expect.stringMatching(/does not hold/),
      });

      agent.send({
        type: "redeem_secrets",
        run_id,
        attempt: 1,
        handle,
        names: ["LAB_TOKEN", "ROBOT_KEY", "NOT_SET", "constructor"],
      });
      const granted = await agent.next("secrets");
      expect(granted).toEqual({
        type: "secrets",
        run_id,
        attempt: 1,
        values: { LAB_TOKEN: VALUE, constructor: OTHER },
        missing: ["ROBOT_KEY", "NOT_SET"],
        refused: null,
      });
      // Once: the same handle again is refused.
      agent.send({ type: "redeem_secrets", run_id, attempt: 1, handle, names: ["LAB_TOKEN"] });
      const again = await agent.next("secrets");
      expect(again).toMatchObject({ values: {}, refused: expect.stringMatching(/no unredeemed/) });

      const rows = await runInDurableObject(stub(tenant), (_agent, state) =>
        state.storage.sql.exec("SELECT * FROM secret_handles").toArray(),
      );
      expect(JSON.stringify(rows)).not.toContain(handle);
      const log = await events(admin, `&run=${run_id}`);
      expect(JSON.stringify(log)).not.toContain(VALUE);
      const audit = await (await call("GET", "/v1/audit", { key: admin })).text();
      expect(audit).not.toContain(VALUE);
      expect(audit).not.toContain(handle);
      const redeemed = (
        JSON.parse(audit) as {
          entries: { action: string; outcome: string; detail: Record<string, unknown> }[];
        }
      ).entries.filter((e) => e.action === "secrets.redeem");
      expect(redeemed.map((e) => e.outcome).sort()).toEqual(["denied", "denied", "denied", "ok"]);
      expect(redeemed.find((e) => e.outcome === "ok")?.detail).toMatchObject({
        agent_id: "notes-1",
        names: ["LAB_TOKEN", "constructor"],
        missing: ["ROBOT_KEY", "NOT_SET"],
      });
    } finally {
      await giveKek(tenant, undefined);
    }
  });

  it("a wrong handle voids the run's handle", async () => {
    const { tenant, admin } = await newTenant("sec");
    await giveKek(tenant, KEK);
    try {
      await json(await put(admin, "LAB_TOKEN", { value: VALUE }), 200);
      const { agent, dispatch, secrets_handle } = await claimOne(tenant, admin);
      const base = { type: "redeem_secrets", run_id: dispatch.run_id, names: ["LAB_TOKEN"] };
      agent.send({ ...base, attempt: 1, handle: `${secrets_handle}x` });
      expect((await agent.next("secrets")).refused).toMatch(/does not belong/);
      agent.send({ ...base, attempt: 1, handle: secrets_handle });
      expect(await agent.next("secrets")).toMatchObject({ values: {}, missing: ["LAB_TOKEN"] });
    } finally {
      await giveKek(tenant, undefined);
    }
  });

  it("a handle left unredeemed past its time is void", async () => {
    const { tenant, admin } = await newTenant("sec");
    await giveKek(tenant, KEK);
    try {
      await json(await put(admin, "LAB_TOKEN", { value: VALUE }), 200);
      // The agent and its lease outlast the turn of the clock; only the handle does not.
      await putSettings(admin, {
        heartbeat: { degraded_after: 99, disconnected_after: 100 },
        dispatch: { lease_ms: 600_000 },
      });
      const { agent, dispatch, secrets_handle } = await claimOne(tenant, admin);
      await advanceClock(tenant, SECRETS_HANDLE_TTL_MS + 1_000);
      agent.send({
        type: "redeem_secrets",
        run_id: dispatch.run_id,
        attempt: 1,
        handle: secrets_handle,
        names: ["LAB_TOKEN"],
      });
      const late = await agent.next("secrets");
      expect(late).toMatchObject({ values: {}, refused: "the handle expired" });
    } finally {
      await giveKek(tenant, undefined);
    }
  });
});
