import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../central/app";
import { API_KEY_PATTERN, TenantCreated } from "../../../contract";
import { BOOTSTRAP_KEY, call, json, newKey, newTenant, secretOf } from "../support";

const fresh = () => `tn-${crypto.randomUUID().slice(0, 8)}`;

describe("POST /v1/tenants", () => {
  it("creates a tenant with the bootstrap key and returns its first admin key once", async () => {
    const tenant = fresh();
    const body = await json(
      await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant, name: "Acme Lab" } }),
      201,
    );
    const created = TenantCreated.parse(body);
    expect(created).toMatchObject({ tenant, name: "Acme Lab" });
    expect(created.admin_key.key).toMatch(API_KEY_PATTERN);
    expect(created.admin_key.key.startsWith(`aur_admin_${tenant}_`)).toBe(true);
    expect(created.admin_key.created_by).toBe("bootstrap");
    const keys = await json<{ keys: Record<string, unknown>[] }>(
      await call("GET", "/v1/keys", { key: created.admin_key.key }),
      200,
    );
    expect(keys.keys).toHaveLength(1);
    expect(JSON.stringify(keys)).not.toContain(secretOf(created.admin_key.key));
    const audit = await json<{ entries: { action: string; principal: string; outcome: string }[] }>(
      await call("GET", "/v1/audit", { key: created.admin_key.key }),
      200,
    );
    expect(audit.entries.at(-1)).toMatchObject({
      action: "tenants.create",
      principal: "bootstrap",
      outcome: "ok",
    });
  });

  it("refuses a second creation of the same tenant with 409", async () => {
    const tenant = fresh();
    await json(await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant } }), 201);
    const again = await json<{ error: { code: string } }>(
      await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant } }),
      409,
    );
    expect(again.error.code).toBe("conflict");
  });

  it("replays the first answer for a repeated x-request-id, creating nothing twice", async () => {
    const tenant = fresh();
    const headers = { "x-request-id": `create-${tenant}` };
    const first = await json<{ admin_key: { key: string } }>(
      await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant }, headers }),
      201,
    );
    const replay = await call("POST", "/v1/tenants", {
      key: BOOTSTRAP_KEY,
      body: { tenant },
      headers,
    });
    expect(replay.status).toBe(201);
    expect((await json<{ admin_key: { key: string } }>(replay)).admin_key.key).toBe(
      first.admin_key.key,
    );
    const keys = await json<{ keys: unknown[] }>(
      await call("GET", "/v1/keys", { key: first.admin_key.key }),
      200,
    );
    expect(keys.keys).toHaveLength(1);
  });

  it("accepts only the bootstrap key, and validates the body", async () => {
    const { admin } = await newTenant();
    const tenant = fresh();
    expect((await call("POST", "/v1/tenants", { body: { tenant } })).status).toBe(401);
    expect(
      (await call("POST", "/v1/tenants", { key: `aur_boot_${"C".repeat(43)}`, body: { tenant } }))
        .status,
    ).toBe(401);
    expect((await call("POST", "/v1/tenants", { key: admin, body: { tenant } })).status).toBe(403);
    const bad = await json<{ error: { issues: { path: string }[] } }>(
      await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant: "Not A Slug!" } }),
      400,
    );
    expect(bad.error.issues[0]!.path).toBe("tenant");
    const unknown = await json<{ error: { issues: { path: string; code: string }[] } }>(
      await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant, plan: "gold" } }),
      400,
    );
    expect(unknown.error.issues[0]!.code).toBe("unrecognized_keys");
    expect((await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, raw: "{nope" })).status).toBe(
      400,
    );
    // nothing was created by the refused calls
    expect(
      (await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant } })).status,
    ).toBe(201);
  });

  it("may not be used for anything but creating tenants", async () => {
    const { admin } = await newTenant();
    const viewer = await newKey(admin, "viewer");
    expect(viewer.role).toBe("viewer");
    const denied = await json<{ error: { message: string } }>(
      await call("GET", "/v1/runs", { key: BOOTSTRAP_KEY }),
      403,
    );
    expect(denied.error.message).toContain("only create tenants");
  });

  it("answers 503 when no bootstrap key is configured", async () => {
    const response = await app.fetch(
      new Request("http://central/v1/tenants", {
        method: "POST",
        headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ tenant: fresh() }),
      }),
      { ...env, AURAISON_BOOTSTRAP_KEY: undefined },
    );
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("AURAISON_BOOTSTRAP_KEY");
  });
});
