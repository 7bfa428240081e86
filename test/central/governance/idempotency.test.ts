import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../../central/auth/principal";
import type { TenantServices } from "../../../central/tenant/services";
import type { ApiError, Failure } from "../../../contract";
import { call, json, newKey, newTenant, secretOf } from "../support";

describe("x-request-id replays", () => {
  it("returns the first result with no second effect", async () => {
    const { admin } = await newTenant();
    const headers = { "x-request-id": "make-ci-key" };
    const first = await call("POST", "/v1/keys", {
      key: admin,
      body: { role: "operator", name: "ci" },
      headers,
    });
    const second = await call("POST", "/v1/keys", {
      key: admin,
      body: { role: "operator", name: "ci" },
      headers,
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("x-idempotent-replay")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
    const keys = await json<{ keys: unknown[] }>(
      await call("GET", "/v1/keys", { key: admin }),
      200,
    );
    expect(keys.keys).toHaveLength(2);
  });

  it("replays refusals too, and runs each call once per id for intents", async () => {
    const { admin } = await newTenant();
    const headers = { "x-request-id": "submit-1" };
    const body = { params: { prompt: "p" }, targets: [{ app: "a" }] };
    const a = await json<{ run: { run_id: string } }>(
      await call("POST", "/v1/intents", { key: admin, body, headers }),
      201,
    );
    const b = await json<{ run: { run_id: string } }>(
      await call("POST", "/v1/intents", { key: admin, body, headers }),
      201,
    );
    expect(b.run.run_id).toBe(a.run.run_id);
    const runs = await json<{ runs: unknown[] }>(
      await call("GET", "/v1/runs", { key: admin }),
      200,
    );
    expect(runs.runs).toHaveLength(1);
    const bad = { "x-request-id": "bad-1" };
    expect(
      (await call("POST", "/v1/intents", { key: admin, body: { targets: [] }, headers: bad }))
        .status,
    ).toBe(400);
    expect(
      (
        await call("POST", "/v1/intents", { key: admin, body: { targets: [] }, headers: bad })
      ).headers.get("x-idempotent-replay"),
    ).toBe("true");
    // The same id with another body is refused, never answered with the first result.
    const other = await json<{ error: { message: string } }>(
      await call("POST", "/v1/intents", { key: admin, body, headers: bad }),
      409,
    );
    expect(other.error.message).toContain("different body");
  });

  it("refuses an x-request-id reused with another body on every mutating route", async () => {
    const { admin } = await newTenant();
    const headers = { "x-request-id": "settings-1" };
    await json(
      await call("PUT", "/v1/settings", {
        key: admin,
        body: { retry: { max_attempts: 2 } },
        headers,
      }),
      200,
    );
    const changed = await call("PUT", "/v1/settings", {
      key: admin,
      body: { retry: { max_attempts: 9 } },
      headers,
    });
    expect(changed.status).toBe(409);
    const settings = await json<{ retry: { max_attempts: number } }>(
      await call("GET", "/v1/settings", { key: admin }),
      200,
    );
    expect(settings.retry.max_attempts).toBe(2);
  });

  it("refuses an id reused for a different call, and keeps ids per principal", async () => {
    const { admin } = await newTenant();
    const other = await newKey(admin, "admin");
    const headers = { "x-request-id": "shared" };
    expect(
      (await call("POST", "/v1/keys", { key: admin, body: { role: "viewer", name: "v" }, headers }))
        .status,
    ).toBe(201);
    const reused = await json<{ error: { code: string } }>(
      await call("PUT", "/v1/settings", { key: admin, body: {}, headers }),
      409,
    );
    expect(reused.error.code).toBe("conflict");
    expect((await call("PUT", "/v1/settings", { key: other.key, body: {}, headers })).status).toBe(
      200,
    );
  });

  it("refuses an id its key used through another credential (409, not 500), with no second effect", async () => {
    const { admin } = await newTenant();
    const headers = { "x-request-id": "same-id-1" };
    const body = { role: "viewer", name: "v" };
    await json(await call("POST", "/v1/keys", { key: admin, body, headers }), 201);
    const signIn = async () =>
      (await call("POST", "/v1/session", { key: admin })).headers.get("set-cookie")!.split(";")[0]!;
    // The key's own session, and a later one: each seals under its own token, not the key.
    for (const cookie of [await signIn(), await signIn()]) {
      const reused = await json<{ error: { code: string; message: string } }>(
        await call("POST", "/v1/keys", {
          body,
          headers: { ...headers, cookie, origin: "http://central" },
        }),
        409,
      );
      expect(reused.error.message).toContain("another credential of this key");
    }
    const replay = await call("POST", "/v1/keys", { key: admin, body, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("x-idempotent-replay")).toBe("true");
    const keys = await json<{ keys: unknown[] }>(
      await call("GET", "/v1/keys", { key: admin }),
      200,
    );
    expect(keys.keys).toHaveLength(2);
  });

  it("keeps stored replies sealed: a new key's secret is not readable in storage", async () => {
    const { tenant, admin } = await newTenant();
    const created = await json<{ key: string }>(
      await call("POST", "/v1/keys", {
        key: admin,
        body: { role: "agent", name: "edge" },
        headers: { "x-request-id": "k" },
      }),
      201,
    );
    const rows = await runInDurableObject(env.TENANT.getByName(tenant), (_a, state) =>
      state.storage.sql.exec("SELECT * FROM idempotency").toArray(),
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(secretOf(created.key));
  });

  it("tells a retry of a request an earlier life of central cut short that its outcome is unknown", async () => {
    const { tenant, admin } = await newTenant();
    const body = { role: "operator", name: "ci" };
    const headers = { "x-request-id": "cut-short" };
    await json(await call("POST", "/v1/keys", { key: admin, body, headers }), 201);
    // What a restart leaves when it cuts the request short: the row still pending.
    await runInDurableObject(env.TENANT.getByName(tenant), (_a, state) => {
      state.storage.sql.exec(
        "UPDATE idempotency SET state = 'pending', sealed = NULL WHERE request_id = 'cut-short'",
      );
    });
    const retry = await json<ApiError>(
      await call("POST", "/v1/keys", { key: admin, body, headers }),
      409,
    );
    expect(retry.error.message).toMatch(
      /cut short by a restart .* may or may not have taken effect/,
    );
    expect(retry.error.message).not.toMatch(/in progress/);
  });

  it("tells a retry that comes while the first answer is being kept that it is in progress", async () => {
    const { tenant } = await newTenant();
    await runInDurableObject(env.TENANT.getByName(tenant), async (object) => {
      const { idempotency } = (object as unknown as { services: TenantServices }).services;
      const principal: Principal = { id: "k1", role: "admin", app: null, secret: "s".repeat(43) };
      expect((await idempotency.begin(principal, "r1", "POST", "/v1/keys", "d")).kind).toBe("new");
      let release!: () => void;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          release = () => {
            controller.enqueue(new TextEncoder().encode("{}"));
            controller.close();
          };
        },
      });
      const finishing = idempotency.finish(principal, "r1", new Response(body, { status: 201 }));
      let message = "";
      try {
        await idempotency.begin(principal, "r1", "POST", "/v1/keys", "d");
      } catch (error) {
        message = (error as Failure).message;
      }
      release();
      await finishing;
      expect(message).toMatch(/in progress/);
    });
  });
});

describe("intent idempotency keys", () => {
  it("replay the same request to any caller, and refuse another request under the same key", async () => {
    const { admin } = await newTenant();
    const operator = (await newKey(admin, "operator")).key;
    const body = { params: { prompt: "p" }, targets: [{ app: "a" }], idempotency_key: "nightly-1" };
    const first = await json<{ intent: { intent_id: string }; duplicate: boolean }>(
      await call("POST", "/v1/intents", { key: admin, body }),
      201,
    );
    // Same request (keys in another order): the first intent, marked as a duplicate.
    const reordered = {
      idempotency_key: "nightly-1",
      targets: [{ app: "a" }],
      params: { prompt: "p" },
    };
    const again = await json<{ intent: { intent_id: string }; duplicate: boolean }>(
      await call("POST", "/v1/intents", { key: operator, body: reordered }),
      200,
    );
    expect(again).toMatchObject({ duplicate: true, intent: { intent_id: first.intent.intent_id } });
    // Another request under the same key: refused, saying so, and nothing new is created.
    const conflict = await json<{ error: { code: string; message: string } }>(
      await call("POST", "/v1/intents", {
        key: operator,
        body: { ...body, params: { prompt: "something else" } },
      }),
      409,
    );
    expect(conflict.error.message).toContain("idempotency_key 'nightly-1' was already used");
    const runs = await json<{ runs: unknown[] }>(
      await call("GET", "/v1/runs", { key: admin }),
      200,
    );
    expect(runs.runs).toHaveLength(1);
  });
});
