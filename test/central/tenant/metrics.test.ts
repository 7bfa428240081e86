import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AdmitRequest, SettleRequest } from "../../../central/gateway/admission";
import { AGENT_STATUSES, RUN_STATUSES } from "../../../contract";
import { parseExposition, sampleValue } from "../../helpers/prometheus-text";
import { call, connectAgent, FAST, json, newKey, newTenant, putSettings, submit } from "../support";

/**
 * GET /metrics through the real Worker and tenant object in workerd: who may read it, and that
 * what it shows follows the tenant's state — runs, the queue, dispatches, agents, the log, the
 * gateway's calls, tokens, cost, circuits and budgets. promtool and a real Prometheus check the
 * format against `wrangler dev` (metrics.node.test.ts).
 */

async function scrape(key: string) {
  const response = await call("GET", "/metrics", { key });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return { text, samples: parseExposition(text) };
}

const PROVIDERS = [
  { id: "lab", kind: "openai-compatible", base_url: "http://gpu-1.lab:8000/v1", models: ["llama"] },
  {
    id: "backup",
    kind: "openai-compatible",
    base_url: "http://gpu-2.lab:8000/v1",
    models: ["llama"],
  },
];

function ask(secret: string, requested: string): AdmitRequest {
  return {
    secret,
    dialect: "openai",
    requested,
    stream: true,
    operation: "chat",
    attribution: { run: null, agent: null, app: null, intentType: null, tags: [] },
    estimate: {
      documents: [],
      documentBound: 200_000,
      inputTokens: 1_000,
      outputTokens: 1_000,
      choices: 1,
    },
    cache: { hash: null, mode: "default" },
  };
}

describe("GET /metrics", () => {
  it("answers readers of the tenant only, and is in the OpenAPI document", async () => {
    const { admin } = await newTenant("met");
    const viewer = (await newKey(admin, "viewer")).key;
    const agent = (await newKey(admin, "agent", "lab-notes")).key;
    await scrape(viewer);
    expect((await call("GET", "/metrics")).status).toBe(401);
    expect((await call("GET", "/metrics", { key: `${admin.slice(0, -3)}xyz` })).status).toBe(401);
    const refused = await call("GET", "/metrics", { key: agent });
    expect(refused.status).toBe(403);
    await refused.text();
    const wrongMethod = await call("POST", "/metrics", { key: admin, body: {} });
    expect(wrongMethod.status).toBe(405);
    await wrongMethod.text();
    const doc = await json<{ paths: Record<string, Record<string, { responses: object }>> }>(
      await call("GET", "/openapi.json"),
      200,
    );
    expect(Object.keys(doc.paths["/metrics"]?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "401", "403"]),
    );
  });

  it("counts runs, the queue, dispatch latency, agents and events from the tenant's state", async () => {
    const { tenant, admin } = await newTenant("met");
    const agentKey = (await newKey(admin, "agent", "lab-notes")).key;
    let { samples } = await scrape(admin);
    expect(sampleValue(samples, "auraison_tenant_info", { tenant })).toBe(1);
    for (const status of RUN_STATUSES)
      expect(sampleValue(samples, "auraison_runs", { status })).toBe(0);
    for (const status of AGENT_STATUSES)
      expect(sampleValue(samples, "auraison_agents", { status })).toBe(0);
    expect(sampleValue(samples, "auraison_run_queue_depth")).toBe(0);
    expect(sampleValue(samples, "auraison_events_ingested_total")).toBe(0);

    // Nobody serves lab-notes yet: both runs wait in the queue.
    await submit(admin, { targets: [{ app: "lab-notes" }] });
    await submit(admin, { targets: [{ app: "lab-notes" }] });
    ({ samples } = await scrape(admin));
    expect(sampleValue(samples, "auraison_runs", { status: "pending", app: "" })).toBe(2);
    expect(sampleValue(samples, "auraison_run_queue_depth")).toBe(2);
    expect(sampleValue(samples, "auraison_run_queue_oldest_age_seconds")).toBeGreaterThanOrEqual(0);

    const agent = await connectAgent(agentKey, tenant, "notes-1");
    await agent.take(await agent.next("dispatch"));
    ({ samples } = await scrape(admin));
    expect(sampleValue(samples, "auraison_runs", { status: "running", app: "lab-notes" })).toBe(1);
    expect(sampleValue(samples, "auraison_runs", { status: "pending", app: "" })).toBe(1);
    expect(sampleValue(samples, "auraison_run_queue_depth")).toBe(1);
    expect(sampleValue(samples, "auraison_agents", { app: "lab-notes", status: "busy" })).toBe(1);
    const latency = "auraison_run_dispatch_latency_seconds";
    const firstDispatch = { app: "lab-notes", dispatch: "first" };
    expect(sampleValue(samples, `${latency}_count`, firstDispatch)).toBe(1);
    expect(sampleValue(samples, `${latency}_bucket`, { ...firstDispatch, le: "+Inf" })).toBe(1);
    expect(sampleValue(samples, `${latency}_sum`, firstDispatch)).toBeGreaterThan(0);
    // Buckets are cumulative.
    const buckets = samples.filter((s) => s.name === `${latency}_bucket`).map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    const ingested = sampleValue(samples, "auraison_events_ingested_total")!;
    expect(ingested).toBeGreaterThanOrEqual(1);
    const log = await json<{ events: unknown[] }>(
      await call("GET", "/v1/events?limit=1000", { key: admin }),
      200,
    );
    expect(ingested).toBe(log.events.length);
    agent.close();
  });

  it("measures a retry's dispatch from the end of its backoff", async () => {
    const { tenant, admin } = await newTenant("metretry");
    await putSettings(admin, FAST);
    const agentKey = (await newKey(admin, "agent")).key;
    const silent = await connectAgent(agentKey, tenant, "silent");
    const stopSilent = silent.keepAlive();
    await submit(admin, { targets: [{ app: "lab-notes" }] });
    await silent.next("dispatch");
    // The silent agent never acknowledges: after the ack timeout the run goes to the helper.
    const helper = await connectAgent(agentKey, tenant, "helper");
    const stopHelper = helper.keepAlive();
    expect(await helper.next("dispatch", () => true, 6_000)).toMatchObject({ attempt: 2 });
    const { samples } = await scrape(admin);
    const latency = "auraison_run_dispatch_latency_seconds";
    for (const dispatch of ["first", "retry"])
      expect(sampleValue(samples, `${latency}_count`, { app: "lab-notes", dispatch })).toBe(1);
    // The retry had no backoff (FAST) and an agent waiting: it went out within the second.
    expect(
      sampleValue(samples, `${latency}_bucket`, { app: "lab-notes", dispatch: "retry", le: "1" }),
    ).toBe(1);
    stopSilent();
    stopHelper();
    silent.close();
    helper.close();
  });

  it("shows the gateway's calls, GenAI durations and tokens, cost, circuits and budgets", async () => {
    const { tenant, admin } = await newTenant("metgw");
    await json(
      await call("PUT", "/v1/gateway/config", {
        key: admin,
        body: {
          providers: PROVIDERS,
          prices: { version: "p1", models: { llama: { input: 2, output: 8 } } },
          budgets: { tenant: { usd: 10, tokens: 1_000_000, period: "month" } },
        },
      }),
      200,
    );
    const operator = (await newKey(admin, "operator")).key;
    const gateway = env.TENANT.getByName(tenant);
    const admitted = await gateway.gatewayAdmit(ask(operator, "lab/llama"));
    if (admitted.kind !== "proceed") throw new Error(JSON.stringify(admitted));
    const settle: SettleRequest = {
      ticket: admitted.ticket,
      outcome: "ok",
      provider: "lab",
      model: "llama",
      responseModel: "llama-3.1-8b",
      responseId: "r1",
      finishReasons: ["stop"],
      stream: true,
      usage: { input: 300, output: 100, cacheRead: 0, cacheWrite: 0 },
      usageEstimated: false,
      latencyMs: 1_500,
      ttftMs: 200,
      gatewayMs: 1,
      attempts: [],
      health: [
        {
          provider: "lab",
          ok: true,
          breakerFailure: false,
          latencyMs: 1_500,
          ttftMs: 200,
          error: null,
          probe: false,
        },
      ],
      errorType: null,
      cacheHit: false,
      store: null,
    };
    await gateway.gatewaySettle(settle);
    const failed = await gateway.gatewayAdmit(ask(operator, "lab/llama"));
    if (failed.kind !== "proceed") throw new Error(JSON.stringify(failed));
    await gateway.gatewaySettle({
      ...settle,
      ticket: failed.ticket,
      outcome: "error",
      responseModel: null,
      usage: null,
      latencyMs: 30,
      ttftMs: null,
      errorType: "upstream_error",
      health: [{ ...settle.health[0]!, ok: false, breakerFailure: true, error: "502" }],
    });
    // Over the token budget: refused before any provider was asked.
    const refused = await gateway.gatewayAdmit({
      ...ask(operator, "lab/llama"),
      estimate: {
        documents: [],
        documentBound: 200_000,
        inputTokens: 2_000_000,
        outputTokens: 1,
        choices: 1,
      },
    });
    expect(refused).toMatchObject({ kind: "refused", code: "budget_exceeded" });

    const { samples } = await scrape(admin);
    const calls = "auraison_gateway_calls_total";
    expect(sampleValue(samples, calls, { provider: "lab", model: "llama", outcome: "ok" })).toBe(1);
    expect(
      sampleValue(samples, calls, { provider: "lab", model: "llama", outcome: "upstream_error" }),
    ).toBe(1);
    expect(
      sampleValue(samples, calls, { provider: "lab", model: "llama", outcome: "budget_exceeded" }),
    ).toBe(1);
    // 300 * $2/M + 100 * $8/M
    expect(
      sampleValue(samples, "auraison_gateway_cost_usd_total", { provider: "lab", model: "llama" }),
    ).toBeCloseTo(0.0014, 10);

    const genAi = {
      gen_ai_operation_name: "chat",
      gen_ai_provider_name: "openai-compatible",
      gen_ai_request_model: "llama",
      provider: "lab",
    };
    const duration = "gen_ai_client_operation_duration_seconds";
    const ok = { ...genAi, gen_ai_response_model: "llama-3.1-8b" };
    expect(sampleValue(samples, `${duration}_count`, ok)).toBe(1);
    expect(sampleValue(samples, `${duration}_sum`, ok)).toBe(1.5);
    expect(sampleValue(samples, `${duration}_bucket`, { ...ok, le: "1.28" })).toBe(0);
    expect(sampleValue(samples, `${duration}_bucket`, { ...ok, le: "2.56" })).toBe(1);
    expect(
      sampleValue(samples, `${duration}_count`, { ...genAi, error_type: "upstream_error" }),
    ).toBe(1);
    const firstChunk = "gen_ai_client_operation_time_to_first_chunk_seconds";
    expect(sampleValue(samples, `${firstChunk}_sum`, ok)).toBe(0.2);
    const tokens = "gen_ai_client_token_usage";
    expect(sampleValue(samples, `${tokens}_sum`, { ...ok, gen_ai_token_type: "input" })).toBe(300);
    expect(sampleValue(samples, `${tokens}_sum`, { ...ok, gen_ai_token_type: "output" })).toBe(100);
    expect(
      sampleValue(samples, `${tokens}_bucket`, { ...ok, gen_ai_token_type: "input", le: "256" }),
    ).toBe(0);
    expect(
      sampleValue(samples, `${tokens}_bucket`, { ...ok, gen_ai_token_type: "input", le: "1024" }),
    ).toBe(1);

    expect(
      sampleValue(samples, "auraison_gateway_upstream_attempts_total", { provider: "lab" }),
    ).toBe(2);
    expect(
      sampleValue(samples, "auraison_gateway_upstream_failures_total", { provider: "lab" }),
    ).toBe(1);
    expect(
      sampleValue(samples, "auraison_gateway_circuit_state", {
        provider: "backup",
        state: "closed",
      }),
    ).toBe(1);
    const budget = { scope: "tenant", subject: "-", period: "month" };
    expect(sampleValue(samples, "auraison_budget_used_usd", budget)).toBeCloseTo(0.0014, 10);
    expect(sampleValue(samples, "auraison_budget_limit_usd", budget)).toBe(10);
    expect(sampleValue(samples, "auraison_budget_used_tokens", budget)).toBe(400);
    expect(sampleValue(samples, "auraison_budget_limit_tokens", budget)).toBe(1_000_000);
    expect(sampleValue(samples, "auraison_budget_reserved_usd", budget)).toBe(0);
  });
});
