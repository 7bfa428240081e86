import { describe, expect, it } from "vitest";
import { AuditList } from "../../../contract";
import { call, json, newKey, newTenant, secretOf } from "../support";

describe("audit log", () => {
  it("records every mutating call with who, what, target, outcome and time, denials included", async () => {
    const { admin } = await newTenant();
    const operator = await newKey(admin, "operator");
    await call("POST", "/v1/keys", {
      key: operator.key,
      body: { role: "admin", name: "escalate" },
    });
    const intent = await json<{ intent: { intent_id: string }; run: { run_id: string } }>(
      await call("POST", "/v1/intents", {
        key: operator.key,
        body: { params: { prompt: "p" }, targets: [{ app: "a" }] },
        headers: { "x-request-id": "rq-1" },
      }),
      201,
    );
    await call("POST", `/v1/runs/${intent.run.run_id}/cancel`, {
      key: operator.key,
      body: { reason: "changed my mind" },
    });
    await call("PUT", "/v1/settings", { key: admin, body: { heartbeat: { interval_ms: 5 } } });
    const { entries } = AuditList.parse(
      await json(await call("GET", "/v1/audit", { key: admin }), 200),
    );
    const summary = entries.map((e) => [e.action, e.principal, e.outcome, e.status, e.target]);
    expect(summary).toEqual([
      ["settings.update", expect.stringMatching(/^key_/), "error", 400, null],
      ["runs.cancel", operator.id, "ok", 200, intent.run.run_id],
      ["intents.submit", operator.id, "ok", 201, intent.intent.intent_id],
      ["keys.create", operator.id, "denied", 403, null],
      ["keys.create", expect.stringMatching(/^key_/), "ok", 201, operator.id],
      ["tenants.create", "bootstrap", "ok", 201, expect.any(String)],
    ]);
    const submit = entries.find((e) => e.action === "intents.submit")!;
    expect(submit.request_id).toBe("rq-1");
    expect(submit.role).toBe("operator");
    expect(Date.parse(submit.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(entries)).not.toContain(secretOf(operator.key));
  });

  it("pages newest first and is readable by admins only", async () => {
    const { admin } = await newTenant();
    for (let i = 0; i < 5; i++) await newKey(admin, "viewer");
    const first = AuditList.parse(
      await json(await call("GET", "/v1/audit?limit=2", { key: admin }), 200),
    );
    expect(first.entries).toHaveLength(2);
    const second = AuditList.parse(
      await json(await call("GET", `/v1/audit?limit=2&before=${first.next}`, { key: admin }), 200),
    );
    expect(second.entries[0]!.id).toBeLessThan(first.entries[1]!.id);
    const viewer = await newKey(admin, "viewer");
    expect((await call("GET", "/v1/audit", { key: viewer.key })).status).toBe(403);
    expect((await call("GET", "/v1/audit?limit=0", { key: admin })).status).toBe(400);
  });
});
