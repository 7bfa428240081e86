import { describe, expect, it } from "vitest";
import { ROUTES } from "../../../central/api/routes";
import { CONTRACT_VERSION } from "../../../contract";
import { call, json, newTenant } from "../support";

type Operation = {
  operationId: string;
  security: unknown[];
  "x-auraison-roles": string[];
  responses: Record<string, unknown>;
};

describe("GET /openapi.json", () => {
  it("documents every route with its roles and error responses, from the contract schemas", async () => {
    const doc = await json<{
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    }>(await call("GET", "/openapi.json"), 200);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.version).toBe(CONTRACT_VERSION);
    expect(doc.components.securitySchemes.bearer).toBeDefined();
    for (const name of [
      "IntentRequest",
      "IntentAccepted",
      "RunState",
      "EventsPage",
      "ApiError",
      "TenantSettings",
      "StoredEvent",
    ])
      expect(doc.components.schemas[name], name).toBeDefined();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
    expect(documented).toHaveLength(ROUTES.length);
    for (const spec of ROUTES) {
      const op = doc.paths[spec.route.path]?.[spec.route.method];
      expect(op, `${spec.route.method} ${spec.route.path}`).toBeDefined();
      expect(op!.operationId).toBe(spec.route.operationId);
      if (spec.access === "public") {
        expect(op!.security).toEqual([]);
        continue;
      }
      expect(op!["x-auraison-roles"].length).toBeGreaterThan(0);
      expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(["401", "403"]));
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const ref of new Set(refs))
      expect(doc.components.schemas[ref.slice(29, -1)], ref).toBeDefined();
  });

  it("answers unknown paths with a 404 ApiError, and a wrong method with 405", async () => {
    const missing = await json<{ error: { code: string } }>(await call("GET", "/nope"), 404);
    expect(missing.error.code).toBe("not_found");
    const { admin } = await newTenant();
    const wrong = await call("PATCH", "/v1/keys", { key: admin, body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST, GET");
    expect((await json<{ error: { code: string } }>(wrong)).error.code).toBe("method_not_allowed");
  });
});

describe("the document and the answers agree", () => {
  it("publishes nullable timestamps and JSON objects so real nulls validate", async () => {
    const doc = await json<{ components: { schemas: Record<string, Record<string, unknown>> } }>(
      await call("GET", "/openapi.json"),
      200,
    );
    const keyInfo = doc.components.schemas.KeyInfo as { properties: Record<string, unknown> };
    expect(keyInfo.properties.last_used_at).toEqual({
      anyOf: [{ $ref: "#/components/schemas/Timestamp" }, { type: "null" }],
    });
    expect(doc.components.schemas.JsonObject).toMatchObject({
      type: "object",
      additionalProperties: { $ref: "#/components/schemas/JsonValue" },
    });
    expect(JSON.stringify(doc)).not.toContain('"allOf":[{"$ref":"#/components/schemas/Timestamp"}');
  });

  it("refuses what the document rules out: long request ids, non-decimal integers, bad cursors", async () => {
    const { admin } = await newTenant();
    const longId = await json<{ error: { issues: { path: string }[] } }>(
      await call("POST", "/v1/keys", {
        key: admin,
        body: { role: "viewer", name: "v" },
        headers: { "x-request-id": "r".repeat(201) },
      }),
      400,
    );
    expect(longId.error.issues[0]!.path).toBe("x-request-id");
    for (const query of [
      "after=0x10",
      "after=1e1",
      "after=-1",
      "after=%2016",
      "limit=0",
      "__proto__=1",
      "constructor=1",
    ])
      expect((await call("GET", `/v1/events?${query}`, { key: admin })).status, query).toBe(400);
    await json(await call("GET", "/v1/events?after=16", { key: admin }), 200);
    for (const path of ["/v1/runs?before=-1", "/v1/audit?before=-1", "/v1/audit?before=0x10"])
      expect((await call("GET", path, { key: admin })).status, path).toBe(400);
  });
});
