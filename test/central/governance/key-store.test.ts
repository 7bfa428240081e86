import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { API_KEY_PATTERN, KeyCreated, KeyList } from "../../../contract";
import { call, connectAgent, json, newKey, newTenant, secretOf } from "../support";

describe("API keys", () => {
  it("creates keys with a recognisable prefix and 32 random bytes, stored only as a hash", async () => {
    const { tenant, admin } = await newTenant();
    const created = KeyCreated.parse(
      await json(
        await call("POST", "/v1/keys", { key: admin, body: { role: "operator", name: "ci" } }),
        201,
      ),
    );
    expect(created.key).toMatch(API_KEY_PATTERN);
    expect(created.key.startsWith(`aur_op_${tenant}_`)).toBe(true);
    const secret = secretOf(created.key);
    expect(secret).toHaveLength(43);
    expect(created.prefix).toBe(created.key.slice(0, created.prefix.length));
    expect(created.prefix.length).toBeLessThan(created.key.length - 30);
    const rows = await runInDurableObject(env.TENANT.getByName(tenant), (_agent, state) =>
      state.storage.sql.exec("SELECT * FROM api_keys").toArray(),
    );
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secret);
    expect(rows.find((r) => r.id === created.id)?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("lists keys without their secrets and authenticates with the new key by its stored role", async () => {
    const { admin } = await newTenant();
    const viewer = await newKey(admin, "viewer");
    const list = KeyList.parse(await json(await call("GET", "/v1/keys", { key: admin }), 200));
    expect(list.keys.map((k) => k.role).sort()).toEqual(["admin", "viewer"]);
    expect(JSON.stringify(list)).not.toContain(secretOf(viewer.key));
    expect((await call("GET", "/v1/runs", { key: viewer.key })).status).toBe(200);
    expect(
      (
        await call("POST", "/v1/intents", {
          key: viewer.key,
          body: { targets: [{ app: "x" }], params: { prompt: "p" } },
        })
      ).status,
    ).toBe(403);
    const used = KeyList.parse(
      await json(await call("GET", "/v1/keys", { key: admin }), 200),
    ).keys.find((k) => k.id === viewer.id);
    expect(used?.last_used_at).not.toBeNull();
  });

  it("revokes a key: requests with it fail from now on and its agent connections are closed", async () => {
    const { tenant, admin } = await newTenant();
    const agentKey = await newKey(admin, "agent");
    const agent = await connectAgent(agentKey.key, tenant, "doomed");
    const revoked = await json<{ revoked_at: string | null }>(
      await call("DELETE", `/v1/keys/${agentKey.id}`, { key: admin }),
      200,
    );
    expect(revoked.revoked_at).not.toBeNull();
    expect((await agent.waitClosed()).code).toBe(4001);
    expect(
      (await call("POST", "/v1/events", { key: agentKey.key, body: { events: [{}] } })).status,
    ).toBe(401);
    await expect(connectAgent(agentKey.key, tenant, "doomed")).rejects.toThrow(
      "upgrade answered 401",
    );
    const agents = await json<{ agents: { status: string }[] }>(
      await call("GET", "/v1/agents", { key: admin }),
      200,
    );
    expect(agents.agents[0]!.status).toBe("disconnected");
    // revoking again answers the same record; an unknown id is 404
    expect((await call("DELETE", `/v1/keys/${agentKey.id}`, { key: admin })).status).toBe(200);
    expect((await call("DELETE", "/v1/keys/key_0000000000000000", { key: admin })).status).toBe(
      404,
    );
  });

  it("refuses to revoke the last active admin key", async () => {
    const { admin } = await newTenant();
    const list = KeyList.parse(await json(await call("GET", "/v1/keys", { key: admin }), 200));
    const refused = await json<{ error: { code: string } }>(
      await call("DELETE", `/v1/keys/${list.keys[0]!.id}`, { key: admin }),
      409,
    );
    expect(refused.error.code).toBe("conflict");
    const second = await newKey(admin, "admin");
    expect((await call("DELETE", `/v1/keys/${list.keys[0]!.id}`, { key: second.key })).status).toBe(
      200,
    );
    expect((await call("GET", "/v1/keys", { key: admin })).status).toBe(401);
  });

  it("scopes only agent keys to an app", async () => {
    const { admin } = await newTenant();
    const scoped = await newKey(admin, "agent", "lab-notes");
    expect(scoped.app).toBe("lab-notes");
    const refused = await json<{ error: { issues: { expected: string; code: string }[] } }>(
      await call("POST", "/v1/keys", {
        key: admin,
        body: { role: "viewer", name: "v", app: "lab-notes" },
      }),
      400,
    );
    expect(refused.error.issues[0]).toMatchObject({
      code: "unrecognized_keys",
      expected: 'no key "app"',
    });
    const bad = await json<{ error: { issues: { path: string }[] } }>(
      await call("POST", "/v1/keys", { key: admin, body: { role: "root", name: "x" } }),
      400,
    );
    expect(bad.error.issues[0]!.path).toBe("role");
  });
});
