import { describe, expect, it } from "vitest";
import { mintSession } from "../../../central/auth/session";
import type { SessionInfo } from "../../../contract";
import { advanceClock, call, json, newKey, newTenant, submit } from "../support";

const ORIGIN = "http://central";
const KEY_SECRET = "test-key-signing-secret-0123456789abcdef";

/** Signs in with `key`; returns the session cookie (`name=value`) and the Set-Cookie line. */
async function signIn(
  key: string,
): Promise<{ cookie: string; setCookie: string; info: SessionInfo }> {
  const response = await call("POST", "/v1/session", { key });
  const setCookie = response.headers.get("set-cookie") ?? "";
  const info = await json<SessionInfo>(response, 201);
  return { cookie: setCookie.split(";")[0]!, setCookie, info };
}

describe("dashboard sessions", () => {
  it("exchange a key for an HttpOnly, SameSite=Strict cookie that holds no key", async () => {
    const { tenant, admin } = await newTenant("ses");
    const viewer = await newKey(admin, "viewer");
    const { cookie, setCookie, info } = await signIn(viewer.key);
    expect(setCookie).toMatch(/^auraison_session=aurs_/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Max-Age=3600/);
    expect(setCookie).not.toContain(viewer.key.slice(-43));
    expect(info).toMatchObject({ tenant, key_id: viewer.id, role: "viewer" });
    const me = await json<SessionInfo>(
      await call("GET", "/v1/session", { headers: { cookie } }),
      200,
    );
    expect(me).toEqual(info);
    expect((await call("GET", "/v1/runs", { headers: { cookie } })).status).toBe(200);
  });

  it("refuse what the role may not do, changes from another origin, and a session extending itself", async () => {
    const { admin } = await newTenant("ses");
    const operator = await newKey(admin, "operator");
    const viewer = await newKey(admin, "viewer");
    const queued = await submit(admin, { targets: [{ app: "nobody" }] });
    const cancel = `/v1/runs/${queued.run.run_id}/cancel`;
    const asViewer = (await signIn(viewer.key)).cookie;
    const viewerCancel = await call("POST", cancel, {
      headers: { cookie: asViewer, origin: ORIGIN },
    });
    expect(viewerCancel.status).toBe(403);
    await viewerCancel.body?.cancel();
    const asOperator = (await signIn(operator.key)).cookie;
    const crossSite = await call("POST", cancel, {
      headers: { cookie: asOperator, origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    expect((await json<{ error: { message: string } }>(crossSite)).error.message).toContain(
      "own origin",
    );
    const noOrigin = await call("POST", cancel, { headers: { cookie: asOperator } });
    expect(noOrigin.status).toBe(403);
    await noOrigin.body?.cancel();
    const sameOrigin = await call("POST", cancel, {
      headers: { cookie: asOperator, origin: ORIGIN },
    });
    expect((await json<{ status: string }>(sameOrigin, 200)).status).toBe("cancelled");
    const extend = await call("POST", "/v1/session", {
      headers: { cookie: asOperator, origin: ORIGIN },
    });
    expect(extend.status).toBe(403);
    await extend.body?.cancel();
  });

  it("end when their key is revoked or their hour is up, and never go to agent keys", async () => {
    const { tenant, admin } = await newTenant("ses");
    const operator = await newKey(admin, "operator");
    const { cookie } = await signIn(operator.key);
    await json(await call("DELETE", `/v1/keys/${operator.id}`, { key: admin }), 200);
    const revoked = await call("GET", "/v1/runs", { headers: { cookie } });
    expect(revoked.status).toBe(401);
    await revoked.body?.cancel();

    const viewer = await newKey(admin, "viewer");
    const later = (await signIn(viewer.key)).cookie;
    await advanceClock(tenant, 3_600_000 + 1_000);
    // The tenant object's clock says the hour is up, whatever the Worker's says.
    const expired = await call("GET", "/v1/runs", { headers: { cookie: later } });
    expect(expired.status).toBe(401);
    await expired.body?.cancel();

    const agent = await newKey(admin, "agent");
    const refused = await call("POST", "/v1/session", { key: agent.key });
    expect(refused.status).toBe(403);
    await refused.body?.cancel();
  });

  it("are checked by the Worker before they reach a tenant: forged or expired ones are refused there", async () => {
    const forged = await mintSession(
      { tenant: "no-such-tenant", keyId: "key_0", expiresAt: Date.now() + 60_000 },
      "another-secret-entirely-0123456789abcdef",
    );
    const response = await call("GET", "/v1/runs", {
      headers: { cookie: `auraison_session=${forged}` },
    });
    expect(response.status).toBe(401);
    await response.body?.cancel();
    const stale = await mintSession(
      { tenant: "no-such-tenant", keyId: "key_0", expiresAt: Date.now() - 1 },
      KEY_SECRET,
    );
    const expired = await call("GET", "/v1/runs", {
      headers: { cookie: `auraison_session=${stale}` },
    });
    expect(expired.status).toBe(401);
    await expired.body?.cancel();
  });

  it("sign out by ending the session and clearing the cookie; the key's other sessions go on", async () => {
    const { tenant, admin } = await newTenant("ses");
    const { cookie } = await signIn(admin);
    await advanceClock(tenant, 1_000);
    const other = (await signIn(admin)).cookie;
    expect(other).not.toBe(cookie);
    const out = await call("DELETE", "/v1/session", { headers: { cookie, origin: ORIGIN } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^auraison_session=;.*Max-Age=0/);
    // A copy of the cookie kept elsewhere is refused, though its hour is not up.
    const again = await call("GET", "/v1/runs", { headers: { cookie } });
    expect(again.status).toBe(401);
    await again.body?.cancel();
    await json(await call("GET", "/v1/runs", { headers: { cookie: other } }), 200);
  });
});
