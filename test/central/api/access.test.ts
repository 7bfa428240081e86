import { beforeAll, describe, expect, it } from "vitest";
import type { RouteSpec } from "../../../central/api/route";
import { ROUTES } from "../../../central/api/routes";
import { PLATFORM_ENV } from "../../../central/env";
import { type Role, uuidv7 } from "../../../contract";
import {
  BOOTSTRAP_KEY,
  call,
  connectAgent,
  json,
  newKey,
  newTenant,
  secretOf,
  type TestAgent,
} from "../support";

/**
 * The access matrix: every tenant route x every role (and the bootstrap key, no key, a forged
 * key, a key tampered to name another tenant) x own / other tenant's resources. A key of one
 * tenant never reads or changes another's data, and a refused call changes nothing.
 */

interface Tenant {
  tenant: string;
  keys: Record<Role, string>;
  agent: TestAgent;
  agentId: string;
  /** A run dispatched to the agent (so it can be forked), and its intent. */
  runId: string;
  intentId: string;
}

const ROLES: Role[] = ["admin", "operator", "viewer", "agent"];
const TENANT_ROUTES = ROUTES.filter((r) => r.served === "tenant");

let a: Tenant;
let b: Tenant;

async function setup(name: string): Promise<Tenant> {
  const { tenant, admin } = await newTenant(name);
  const keys = {
    admin,
    operator: (await newKey(admin, "operator")).key,
    viewer: (await newKey(admin, "viewer")).key,
    agent: (await newKey(admin, "agent")).key,
  };
  const agentId = `${name}-agent`;
  const agent = await connectAgent(keys.agent, tenant, agentId, {
    registration: { max_concurrency: 64 },
  });
  const accepted = await json<{ run: { run_id: string }; intent: { intent_id: string } }>(
    await call("POST", "/v1/intents", {
      key: admin,
      body: { params: { prompt: "x" }, targets: [{ agent_id: agentId }] },
    }),
    201,
  );
  await agent.next("dispatch");
  return {
    tenant,
    keys,
    agent,
    agentId,
    runId: accepted.run.run_id,
    intentId: accepted.intent.intent_id,
  };
}

/** A fresh pending run of tenant `t` (not dispatched: no agent has its app). */
async function pendingRun(t: Tenant): Promise<{ run_id: string; intent_id: string }> {
  const body = await json<{ run: { run_id: string }; intent: { intent_id: string } }>(
    await call("POST", "/v1/intents", {
      key: t.keys.admin,
      body: { params: { prompt: "p" }, targets: [{ app: "nobody" }] },
    }),
    201,
  );
  return { run_id: body.run.run_id, intent_id: body.intent.intent_id };
}

/** The request that exercises `spec`, against resources of `owner`. */
async function requestFor(
  spec: RouteSpec,
  owner: Tenant,
): Promise<{ path: string; body?: unknown }> {
  const op = spec.route.operationId;
  switch (op) {
    case "createKey":
      return { path: "/v1/keys", body: { role: "viewer", name: "made in matrix" } };
    case "revokeKey":
      return { path: `/v1/keys/${(await newKey(owner.keys.admin, "viewer")).id}` };
    case "putSettings":
      return { path: "/v1/settings", body: { retry: { max_attempts: 4 } } };
    case "putGatewayConfig":
      return { path: "/v1/gateway/config", body: { cache: { ttl_s: 60 } } };
    case "getAgent":
      return { path: `/v1/agents/${owner.agentId}` };
    case "submitIntent":
      return {
        path: "/v1/intents",
        body: { params: { prompt: "q" }, targets: [{ app: "nobody" }] },
      };
    case "getIntent":
      return { path: `/v1/intents/${owner.intentId}` };
    case "cancelIntent":
      return { path: `/v1/intents/${(await pendingRun(owner)).intent_id}/cancel`, body: {} };
    case "getRun":
      return { path: `/v1/runs/${owner.runId}` };
    case "cancelRun":
      return {
        path: `/v1/runs/${(await pendingRun(owner)).run_id}/cancel`,
        body: { reason: "matrix" },
      };
    case "forkRun":
      return { path: `/v1/runs/${owner.runId}/fork`, body: {} };
    case "ingestEvents":
      return {
        path: "/v1/events",
        body: {
          events: [
            {
              event_id: uuidv7(),
              tenant: owner.tenant,
              run_id: null,
              agent_id: owner.agentId,
              source: "edge",
              seq: 0,
              kind: "heartbeat",
              payload: { status: "online", running: [], outbox_pending: 0, load: null },
              ts: new Date().toISOString(),
            },
          ],
        },
      };
    default:
      return { path: spec.route.path };
  }
}

const OK_STATUS: Record<string, number> = {
  createKey: 201,
  submitIntent: 201,
  forkRun: 201,
  connectAgent: 426,
};

async function send(
  spec: RouteSpec,
  key: string | undefined,
  req: { path: string; body?: unknown },
) {
  const response = await call(spec.route.method.toUpperCase(), req.path, {
    key,
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
  // The SSE stream stays open: read the status, then hang up.
  if (spec.route.operationId === "streamEvents" && response.status === 200)
    await response.body?.cancel();
  return response;
}

async function snapshot(t: Tenant) {
  const keys = await json<{ keys: unknown[] }>(
    await call("GET", "/v1/keys", { key: t.keys.admin }),
    200,
  );
  const runs = await json<{ runs: unknown[] }>(
    await call("GET", "/v1/runs?limit=500", { key: t.keys.admin }),
    200,
  );
  const settings = await json(await call("GET", "/v1/settings", { key: t.keys.admin }), 200);
  const events = await json<{ events: unknown[] }>(
    await call("GET", "/v1/events?limit=1000", { key: t.keys.admin }),
    200,
  );
  return { keys: keys.keys.length, runs: runs.runs, settings, events: events.events.length };
}

beforeAll(async () => {
  a = await setup("ma");
  b = await setup("mb");
});

describe("access matrix: every route x every role, own tenant", () => {
  for (const spec of TENANT_ROUTES) {
    const allowed = spec.access as readonly Role[];
    for (const role of ROLES) {
      const may = allowed.includes(role);
      it(`${spec.route.method.toUpperCase()} ${spec.route.path} as ${role} -> ${may ? "allowed" : "403"}`, async () => {
        const response = await send(spec, a.keys[role], await requestFor(spec, a));
        const expected = may ? (OK_STATUS[spec.route.operationId] ?? 200) : 403;
        expect(response.status, await response.clone().text()).toBe(expected);
        if (!may)
          expect((await json<{ error: { code: string } }>(response)).error.code).toBe("forbidden");
      });
    }
  }
});

describe("access matrix: other tenant's resources and foreign keys", () => {
  it("refuses every route to no key, a malformed key, a forged key, a tampered key and the bootstrap key, changing nothing", async () => {
    const before = await snapshot(a);
    const secret = secretOf(a.keys.admin);
    const callers: [string, string | undefined, number][] = [
      ["no key", undefined, 401],
      ["malformed", "not-a-key", 401],
      ["forged", `aur_admin_${a.tenant}_${"A".repeat(43)}`, 401],
      ["tampered to tenant a", `aur_admin_${a.tenant}_${secretOf(b.keys.admin)}`, 401],
      ["a's secret aimed at b", `aur_admin_${b.tenant}_${secret}`, 401],
      ["bootstrap", BOOTSTRAP_KEY, 403],
    ];
    for (const spec of TENANT_ROUTES) {
      for (const [who, key, status] of callers) {
        const response = await send(spec, key, await requestFor(spec, a));
        expect(
          response.status,
          `${spec.route.operationId} with ${who}: ${await response.clone().text()}`,
        ).toBe(status);
      }
    }
    const after = await snapshot(a);
    // requestFor made fresh keys/runs with the admin key for id routes; compare only what callers could change.
    expect(after.settings).toEqual(before.settings);
    expect(after.events).toBe(before.events);
  });

  it("answers 404 for another tenant's ids and lists only the caller's own data", async () => {
    for (const role of ROLES) {
      const key = a.keys[role];
      for (const spec of TENANT_ROUTES) {
        const allowed = (spec.access as readonly Role[]).includes(role);
        if (!allowed || !spec.route.path.includes("{id}")) continue;
        const req = await requestFor(spec, b);
        const response = await send(spec, key, req);
        expect(
          response.status,
          `${role} ${spec.route.operationId} on b: ${await response.clone().text()}`,
        ).toBe(404);
      }
    }
    const intents = await json<{ intents: { intent: { intent_id: string } }[] }>(
      await call("GET", "/v1/intents?limit=500", { key: a.keys.viewer }),
      200,
    );
    expect(intents.intents.map((i) => i.intent.intent_id)).toContain(a.intentId);
    expect(intents.intents.map((i) => i.intent.intent_id)).not.toContain(b.intentId);
    const bRun = b.runId;
    const runs = await json<{ runs: { run_id: string; tenant: string }[] }>(
      await call("GET", "/v1/runs?limit=500", { key: a.keys.viewer }),
      200,
    );
    expect(runs.runs.map((r) => r.run_id)).not.toContain(bRun);
    expect(new Set(runs.runs.map((r) => r.tenant))).toEqual(new Set([a.tenant]));
    const agents = await json<{ agents: { agent_id: string }[] }>(
      await call("GET", "/v1/agents", { key: a.keys.viewer }),
      200,
    );
    expect(agents.agents.map((x) => x.agent_id)).toEqual([a.agentId]);
    const events = await json<{ events: { tenant: string }[] }>(
      await call("GET", `/v1/events?run=${bRun}`, { key: a.keys.viewer }),
      200,
    );
    expect(events.events).toEqual([]);
    const all = await json<{ events: { tenant: string }[] }>(
      await call("GET", "/v1/events?limit=1000", { key: a.keys.admin }),
      200,
    );
    expect(new Set(all.events.map((e) => e.tenant))).toEqual(new Set([a.tenant]));
    const keys = await json<{ keys: { tenant: string }[] }>(
      await call("GET", "/v1/keys", { key: a.keys.admin }),
      200,
    );
    expect(new Set(keys.keys.map((k) => k.tenant))).toEqual(new Set([a.tenant]));
  });

  it("refuses events of another tenant posted with this tenant's agent key", async () => {
    const req = await requestFor(
      TENANT_ROUTES.find((r) => r.route.operationId === "ingestEvents")!,
      b,
    );
    const result = await json<{ stored: number; rejected: { issues: { path: string }[] }[] }>(
      await call("POST", "/v1/events", { key: a.keys.agent, body: req.body }),
      200,
    );
    expect(result.stored).toBe(0);
    expect(result.rejected[0]!.issues[0]!.path).toBe("tenant");
  });

  it("refuses an agent WebSocket for keys that are not this tenant's live agent keys", async () => {
    const revoked = await newKey(a.keys.admin, "agent");
    await json(await call("DELETE", `/v1/keys/${revoked.id}`, { key: a.keys.admin }), 200);
    for (const [key, status] of [
      [a.keys.admin, 403],
      [a.keys.operator, 403],
      [a.keys.viewer, 403],
      [revoked.key, 401],
      [`aur_agent_${a.tenant}_${"Z".repeat(43)}`, 401],
      [`aur_agent_${b.tenant}_${secretOf(a.keys.agent)}`, 401],
      [BOOTSTRAP_KEY, 403],
    ] as const) {
      await expect(connectAgent(key, a.tenant, "intruder")).rejects.toThrow(
        `upgrade answered ${status}`,
      );
    }
    // An agent key connects to its own tenant only: the agent it registers is nowhere else.
    const visitor = await connectAgent(a.keys.agent, a.tenant, "a-visitor");
    const listed = async (t: Tenant) =>
      (
        await json<{ agents: { agent_id: string }[] }>(
          await call("GET", "/v1/agents", { key: t.keys.admin }),
          200,
        )
      ).agents.map((x) => x.agent_id);
    expect(await listed(a)).toContain("a-visitor");
    expect(await listed(b)).not.toContain("a-visitor");
    visitor.close();
  });
});

describe("access matrix: the gateway configuration never reaches a platform secret", () => {
  const provider = (name: string, slot: "key" | "gateway_token") =>
    slot === "key"
      ? {
          id: "p",
          kind: "openai",
          base_url: "https://api.openai.com/v1",
          key: { secret: name },
          models: ["m"],
        }
      : {
          id: "p",
          kind: "ai-gateway",
          account_id: "acct",
          gateway_id: "gw",
          upstream: "openai",
          key: { secret: name },
          gateway_token: { secret: name },
          models: ["m"],
        };

  it("every binding and secret the Worker holds, in every key slot: refused for admins, 403 for every other role, config unchanged", async () => {
    const before = await json<{ version: number }>(
      await call("GET", "/v1/gateway/config", { key: a.keys.admin }),
      200,
    );
    for (const name of PLATFORM_ENV) {
      for (const slot of ["key", "gateway_token"] as const) {
        const body = { providers: [provider(name, slot)] };
        for (const role of ROLES) {
          const response = await call("PUT", "/v1/gateway/config", { key: a.keys[role], body });
          const text = await response.text();
          expect(response.status, `${role} ${name} ${slot}: ${text}`).toBe(
            // AURAISON_* names fail the schema (400); the bindings fail the operator's offer (422).
            role !== "admin" ? 403 : name.startsWith("AURAISON_") ? 400 : 422,
          );
          if (role === "admin") expect(text).toContain(`providers[0].${slot}`);
        }
      }
    }
    const after = await json<{ version: number }>(
      await call("GET", "/v1/gateway/config", { key: a.keys.admin }),
      200,
    );
    expect(after.version).toBe(before.version);
  });
});
