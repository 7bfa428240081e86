import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type {
  AdmitRequest,
  AdmitResult,
  SettleRequest,
} from "../../../../central/gateway/admission";
import type { GatewayModelList, GatewayStatus, StoredEvent } from "../../../../contract";
import { call, connectAgent, events, json, newKey, newTenant, submit, usage } from "../../support";

/**
 * The gateway's side of the tenant Durable Object, through its RPC methods (what the Worker
 * calls) and its admin routes, in workerd. The calls themselves (upstreams, streams) are tested
 * against wrangler dev with fake providers.
 */

const PROVIDERS = [
  {
    id: "lab",
    kind: "openai-compatible",
    base_url: "http://gpu-1.lab:8000/v1",
    models: ["llama", "qwen"],
  },
  {
    id: "backup",
    kind: "openai-compatible",
    base_url: "http://gpu-2.lab:8000/v1",
    models: ["llama"],
  },
];
// $2 / $8 per million: a call estimated at 1,000 + 1,000 tokens reserves $0.01.
const PRICES = { version: "p1", models: { llama: { input: 2, output: 8 } } };

async function configure(admin: string, extra: Record<string, unknown> = {}) {
  return json(
    await call("PUT", "/v1/gateway/config", {
      key: admin,
      body: {
        providers: PROVIDERS,
        aliases: { auto: { candidates: ["lab/llama", "backup/llama"] } },
        prices: PRICES,
        ...extra,
      },
    }),
    200,
  );
}

const stub = (tenant: string) => env.TENANT.getByName(tenant);

function ask(secret: string, over: Partial<AdmitRequest> = {}): AdmitRequest {
  return {
    secret,
    dialect: "openai",
    operation: "chat",
    requested: "auto",
    stream: false,
    attribution: { run: null, agent: null, app: null, intentType: null, tags: [] },
    estimate: {
      documents: [],
      documentBound: 200_000,
      inputTokens: 1_000,
      outputTokens: 1_000,
      choices: 1,
    },
    cache: { hash: null, mode: "default" },
    ...over,
  };
}

function done(admitted: AdmitResult, over: Partial<SettleRequest> = {}): SettleRequest {
  if (admitted.kind !== "proceed") throw new Error(`not admitted: ${JSON.stringify(admitted)}`);
  const first = admitted.chain[0]!;
  return {
    ticket: admitted.ticket,
    outcome: "ok",
    provider: first.provider.id,
    model: first.model,
    responseModel: first.model,
    responseId: "r1",
    finishReasons: ["stop"],
    stream: false,
    usage: { input: 300, output: 100, cacheRead: 0, cacheWrite: 0 },
    usageEstimated: false,
    latencyMs: 40,
    ttftMs: null,
    gatewayMs: 1,
    attempts: [
      {
        provider: first.provider.id,
        model: first.model,
        outcome: "ok",
        error_type: null,
        http_status: 200,
        latency_ms: 38,
      },
    ],
    health: [
      {
        provider: first.provider.id,
        ok: true,
        breakerFailure: false,
        latencyMs: 38,
        ttftMs: null,
        error: null,
        probe: first.probe,
      },
    ],
    errorType: null,
    cacheHit: false,
    store: null,
    ...over,
  };
}

/** An answer of lab/llama, as a settlement stores it in the cache. */
const llamaAnswer = (body: string) => ({
  body,
  provider: "lab",
  model: "llama",
  responseModel: "llama",
  usage: { input: 3, output: 4, cacheRead: 0, cacheWrite: 0 },
});

const status = async (admin: string) =>
  json<GatewayStatus>(await call("GET", "/v1/gateway/status", { key: admin }), 200);

describe("gateway admission in the tenant object", () => {
  it("reserves budgets atomically: concurrent calls that would overspend are refused, and settling frees the rest", async () => {
    const { tenant, admin } = await newTenant("gwb");
    await configure(admin, { budgets: { tenant: { usd: 0.05, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => stub(tenant).gatewayAdmit(ask(operator))),
    );
    const admitted = results.filter((r) => r.kind === "proceed");
    const refused = results.filter((r) => r.kind === "refused");
    expect(admitted).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(refused[0]).toMatchObject({
      status: 429,
      code: "budget_exceeded",
      limit: {
        kind: "budget",
        scope: "tenant",
        dimension: "usd",
        limit: 0.05,
        used: 0.05,
        requested: 0.01,
        period: "month",
      },
    });
    expect((refused[0] as { message: string }).message).toMatch(
      /the tenant has \$0\.05 per month; \$0\.05 is spent or reserved/,
    );
    let s = await status(admin);
    expect(s.budgets).toEqual([
      expect.objectContaining({
        scope: "tenant",
        usd_used: 0,
        usd_reserved: 0.05,
        usd_limit: 0.05,
        tokens_reserved: 10_000,
      }),
    ]);
    // Each call really cost 300 * $2/M + 100 * $8/M = $0.0014.
    for (const a of admitted) await stub(tenant).gatewaySettle(done(a));
    s = await status(admin);
    expect(s.budgets[0]).toMatchObject({ usd_used: 0.007, usd_reserved: 0, tokens_used: 2_000 });
    const again = await Promise.all(
      Array.from({ length: 6 }, () => stub(tenant).gatewayAdmit(ask(operator))),
    );
    expect(again.filter((r) => r.kind === "proceed")).toHaveLength(4);
    const log = await events(admin, "&kind=model_call,budget");
    const refusals = log.events.filter(
      (e) => e.kind === "model_call" && e.payload.error_type === "budget_exceeded",
    );
    expect(refusals).toHaveLength(17);
    expect(log.events.filter((e) => e.kind === "budget")[0]).toMatchObject({
      source: "central",
      payload: { scope: "tenant", dimension: "cost_usd", state: "exceeded", limit: 0.05 },
    });
  });

  it("settles a call once, however often its settlement comes (a Worker sends a failed batch again)", async () => {
    const { tenant, admin } = await newTenant("gwonce");
    await configure(admin, { budgets: { tenant: { usd: 1, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    const admitted = await stub(tenant).gatewayAdmit(ask(operator));
    await stub(tenant).gatewaySettle(done(admitted));
    await stub(tenant).gatewaySettleBatch({ settles: [done(admitted)], closes: [] });
    await stub(tenant).gatewaySettle(done(admitted));
    expect((await status(admin)).budgets[0]).toMatchObject({
      usd_used: 0.0014,
      usd_reserved: 0,
      tokens_used: 400,
    });
    expect((await events(admin, "&kind=model_call")).events).toHaveLength(1);
  });

  it("charges a call for a try that failed after its provider reported usage, at that try's price", async () => {
    const { tenant, admin } = await newTenant("gwbilled");
    await configure(admin, {
      budgets: { tenant: { usd: 1, period: "month" } },
      aliases: { auto: { candidates: ["lab/qwen", "backup/llama"] } },
      prices: {
        version: "p1",
        models: { llama: { input: 2, output: 8 }, qwen: { input: 1, output: 4 } },
      },
    });
    const operator = (await newKey(admin, "operator")).key;
    const admitted = await stub(tenant).gatewayAdmit(ask(operator));
    const failedTry = {
      provider: "lab",
      model: "qwen",
      outcome: "error" as const,
      error_type: "stream_error",
      http_status: 200,
      latency_ms: 90,
    };
    const answered = { ...failedTry, provider: "backup", model: "llama", outcome: "ok" as const };
    // lab/qwen's stream reported 50,000 input tokens (10,000 of them cached) and broke; backup/llama
    // answered with 300 + 100.
    const settlement = done(admitted, {
      provider: "backup",
      model: "llama",
      attempts: [failedTry, { ...answered, error_type: null }],
      billed: [
        { attempt: 0, usage: { input: 50_000, output: 1, cacheRead: 10_000, cacheWrite: 0 } },
      ],
    });
    await stub(tenant).gatewaySettle(settlement);
    await stub(tenant).gatewaySettle(settlement);
    // $0.0014 for the answer; 40,000 x $1 + 10,000 x $1 (no cache price) + 1 x $4 per million.
    expect((await status(admin)).budgets[0]).toMatchObject({
      usd_used: 0.051404,
      tokens_used: 400 + 50_001,
    });
    const [logged] = (await events(admin, "&kind=model_call")).events;
    expect(logged?.payload).toMatchObject({
      provider: "backup",
      input_tokens: 50_300,
      output_tokens: 101,
      cache_read_tokens: 10_000,
      cost_usd: 0.051404,
      attempts: [
        { provider: "lab", input_tokens: 50_000, output_tokens: 1, cost_usd: 0.050004 },
        { provider: "backup", outcome: "ok" },
      ],
    });
    if (logged?.kind !== "model_call") throw new Error(`not a model_call: ${logged?.kind}`);
    expect(logged.payload.attempts[1]).not.toHaveProperty("input_tokens");
  });

  it("charges an unpriced failed try's tokens, keeps the priced parts' dollars, and calls the call's cost unknown", async () => {
    const { tenant, admin } = await newTenant("gwbilledfree");
    await configure(admin, {
      budgets: { tenant: { tokens: 1_000_000, period: "month" } },
      aliases: { auto: { candidates: ["lab/qwen", "backup/llama"] } },
    });
    const operator = (await newKey(admin, "operator")).key;
    const admitted = await stub(tenant).gatewayAdmit(ask(operator));
    const tried = (provider: string, model: string) => ({
      provider,
      model,
      outcome: "error" as const,
      error_type: "stream_error",
      http_status: 200,
      latency_ms: 90,
    });
    await stub(tenant).gatewaySettle(
      done(admitted, {
        outcome: "error",
        provider: "backup",
        model: "llama",
        usage: null,
        errorType: "upstream_failed",
        attempts: [tried("lab", "qwen"), tried("backup", "llama")],
        billed: [
          { attempt: 0, usage: { input: 7_000, output: 1, cacheRead: 0, cacheWrite: 0 } },
          { attempt: 1, usage: { input: 3_000, output: 1, cacheRead: 0, cacheWrite: 0 } },
        ],
      }),
    );
    // The priced part's dollars are spent; the unpriced one is counted apart.
    expect((await status(admin)).budgets[0]).toMatchObject({
      tokens_used: 10_002,
      usd_used: 0.006008,
      unpriced_calls: 1,
    });
    const [logged] = (await events(admin, "&kind=model_call")).events;
    expect(logged?.payload).toMatchObject({
      input_tokens: 10_000,
      cost_usd: null,
      attempts: [
        { provider: "lab", input_tokens: 7_000, cost_usd: null },
        { provider: "backup", input_tokens: 3_000, cost_usd: 0.006008 },
      ],
    });
  });

  it("reserves the output of every choice a call asks for (OpenAI's n)", async () => {
    const { tenant, admin } = await newTenant("gwn");
    await configure(admin, { budgets: { tenant: { tokens: 1_000_000, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    const estimate = {
      documents: [],
      documentBound: 200_000,
      inputTokens: 1_000,
      outputTokens: 1_000,
      choices: 3,
    };
    const admitted = await stub(tenant).gatewayAdmit(ask(operator, { estimate }));
    expect(admitted.kind).toBe("proceed");
    expect((await status(admin)).budgets[0]).toMatchObject({ tokens_reserved: 1_000 + 3 * 1_000 });
  });

  it("reserves a call's documents at its models' largest context window", async () => {
    const { tenant, admin } = await newTenant("gwdoc");
    await configure(admin, {
      budgets: { tenant: { tokens: 3_000_000, period: "month" } },
      prices: {
        version: "p1",
        models: {
          llama: { input: 2, output: 8, context_window: 1_000_000 },
          qwen: { input: 1, output: 4, context_window: 128_000 },
        },
      },
      aliases: {
        auto: { candidates: ["lab/llama", "backup/llama"] },
        small: { candidates: ["lab/qwen"] },
      },
    });
    const operator = (await newKey(admin, "operator")).key;
    // One document named by reference, counted at 200k by the Worker, which knows no window.
    const estimate = {
      inputTokens: 1_000 + 200_000,
      documents: [0],
      documentBound: 200_000,
      outputTokens: 1_000,
      choices: 1,
    };
    expect((await stub(tenant).gatewayAdmit(ask(operator, { estimate }))).kind).toBe("proceed");
    expect((await status(admin)).budgets[0]).toMatchObject({
      tokens_reserved: 1_000 + 1_000_000 + 1_000,
    });
    // A 128k model: as the Worker counted it, not less.
    expect(
      (await stub(tenant).gatewayAdmit(ask(operator, { requested: "small", estimate }))).kind,
    ).toBe("proceed");
    expect((await status(admin)).budgets[0]).toMatchObject({
      tokens_reserved: 1_002_000 + 202_000,
    });
    // Four documents fit in one 1M context together: 1M, not 4M; and past the budget's rest.
    const four = { ...estimate, inputTokens: 1_000 + 4 * 200_000, documents: [0, 0, 0, 0] };
    const admitted = await stub(tenant).gatewayAdmit(ask(operator, { estimate: four }));
    expect(admitted.kind).toBe("proceed");
    expect((await status(admin)).budgets[0]).toMatchObject({
      tokens_reserved: 1_204_000 + 1_002_000,
    });
    expect(await stub(tenant).gatewayAdmit(ask(operator, { estimate: four }))).toMatchObject({
      kind: "refused",
      code: "budget_exceeded",
      message: expect.stringMatching(
        /may use up to 1002000 \(its 4 documents count at up to the model's context window\)$/,
      ),
    });
  });

  it("grants no lease for a call with a document, where it grants one for the same call without", async () => {
    const { tenant, admin } = await newTenant("gwdoclease");
    await configure(admin);
    const operator = (await newKey(admin, "operator")).key;
    const plain = {
      inputTokens: 1_000,
      documents: [],
      documentBound: 200_000,
      outputTokens: 1_000,
      choices: 1,
    };
    const withDocument = { ...plain, inputTokens: 201_000, documents: [0] };
    const leased = await stub(tenant).gatewayAdmit(ask(operator, { estimate: plain, lease: true }));
    expect(leased).toHaveProperty("lease.slots");
    expect(await stub(tenant).gatewayLease(ask(operator, { estimate: plain }))).not.toBeNull();
    const document = await stub(tenant).gatewayAdmit(
      ask(operator, { estimate: withDocument, lease: true }),
    );
    expect(document.kind).toBe("proceed");
    expect(document).not.toHaveProperty("lease");
    expect(await stub(tenant).gatewayLease(ask(operator, { estimate: withDocument }))).toBeNull();
  });

  it("refuses an unpriced model under a USD budget and explains the route", async () => {
    const { tenant, admin } = await newTenant("gwu");
    await configure(admin, { budgets: { apps: { "lab-notes": { usd: 1, period: "day" } } } });
    const operator = (await newKey(admin, "operator")).key;
    const unpriced = await stub(tenant).gatewayAdmit(
      ask(operator, {
        requested: "lab/qwen",
        attribution: { run: null, agent: null, app: "lab-notes", intentType: null, tags: [] },
      }),
    );
    expect(unpriced).toMatchObject({
      kind: "refused",
      status: 429,
      code: "budget_exceeded",
      limit: { scope: "app", subject: "lab-notes", dimension: "usd" },
    });
    expect((unpriced as { message: string }).message).toMatch(
      /has no known price, so it cannot be held to it/,
    );
    const otherApp = await stub(tenant).gatewayAdmit(
      ask(operator, {
        requested: "lab/qwen",
        attribution: { run: null, agent: null, app: "dea", intentType: null, tags: [] },
      }),
    );
    expect(otherApp.kind).toBe("proceed");
  });

  it("sends the tenant's output cap on a call that names none whenever its tokens are reserved", async () => {
    const capOf = async (extra: Record<string, unknown>) => {
      const { tenant, admin } = await newTenant("gwc");
      await configure(admin, { max_output_tokens: 2_048, ...extra });
      const operator = await newKey(admin, "operator");
      const asked = ask(operator.key);
      const admitted = await stub(tenant).gatewayAdmit({
        ...asked,
        estimate: { ...asked.estimate, outputTokens: null },
      });
      return admitted.kind === "proceed" ? admitted.outputCap : admitted;
    };
    expect(await capOf({})).toBeNull();
    expect(await capOf({ budgets: { tenant: { tokens: 1_000_000 } } })).toBe(2_048);
    // A per-minute token limit alone reserves the output too: uncapped, a call could run past it.
    expect(await capOf({ limits: { tenant: { tokens_per_minute: 1_000_000 } } })).toBe(2_048);
  });

  it("limits requests per minute per app and per key, naming the limit and when to retry", async () => {
    const { tenant, admin } = await newTenant("gwr");
    const operator = await newKey(admin, "operator");
    await configure(admin, {
      limits: {
        apps: { "lab-notes": { requests_per_minute: 3 } },
        keys: { [operator.id]: { tokens_per_minute: 7_000 } },
      },
    });
    const app = { run: null, agent: null, app: "lab-notes", intentType: null, tags: [] };
    const first = await Promise.all(
      [1, 2, 3].map(() => stub(tenant).gatewayAdmit(ask(admin, { attribution: app }))),
    );
    expect(first.every((r) => r.kind === "proceed")).toBe(true);
    const fourth = await stub(tenant).gatewayAdmit(ask(admin, { attribution: app }));
    expect(fourth).toMatchObject({
      kind: "refused",
      status: 429,
      code: "rate_limited",
      limit: {
        kind: "rate",
        scope: "app",
        subject: "lab-notes",
        dimension: "requests_per_minute",
        limit: 3,
        used: 3,
      },
    });
    expect((fourth as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect((fourth as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(120_000);
    // Tokens: 2,000 per call by estimate; the key's 7,000 per minute allow three.
    const byKey = await Promise.all(
      [1, 2, 3, 4].map(() => stub(tenant).gatewayAdmit(ask(operator.key))),
    );
    expect(byKey.map((r) => r.kind)).toEqual(["proceed", "proceed", "proceed", "refused"]);
    expect(byKey[3]).toMatchObject({
      limit: { scope: "key", subject: operator.id, dimension: "tokens_per_minute" },
    });
    // Settling with the real (smaller) usage gives the unused estimate back to the window.
    for (const r of byKey.slice(0, 3)) await stub(tenant).gatewaySettle(done(r));
    expect((await stub(tenant).gatewayAdmit(ask(operator.key))).kind).toBe("proceed");
    // A call larger than the minute's whole allowance never fits: no time to retry in.
    const huge = await stub(tenant).gatewayAdmit(
      ask(operator.key, {
        estimate: {
          documents: [],
          documentBound: 200_000,
          inputTokens: 6_000,
          outputTokens: 2_000,
          choices: 1,
        },
      }),
    );
    expect(huge).toMatchObject({ kind: "refused", status: 429, limit: { retry_after_ms: null } });
    expect(huge).not.toHaveProperty("retryAfterMs");
    expect((huge as { message: string }).message).toMatch(
      /may use 7000 tokens per minute, and this call alone may use 8000; send a smaller request \(a lower max_tokens\)/,
    );
    // A document is what makes a call that large: the message says so.
    const document = await stub(tenant).gatewayAdmit(
      ask(operator.key, {
        estimate: {
          documents: [0],
          documentBound: 200_000,
          inputTokens: 201_000,
          outputTokens: 1_000,
          choices: 1,
        },
      }),
    );
    expect((document as { message: string }).message).toMatch(
      /this call alone may use 202000 \(its document counts at up to the model's context window\); send a smaller request \(fewer documents, a lower max_tokens\)/,
    );
  });

  it("verifies attribution: only agent keys name runs, only registered agents of the key's app, only runs they hold", async () => {
    const { tenant, admin } = await newTenant("gwa");
    await configure(admin, { budgets: { run: { usd: 5 } } });
    const agentKey = (await newKey(admin, "agent", "lab-notes")).key;
    const otherKey = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(agentKey, tenant, "host-1.lab-notes");
    const other = await connectAgent(otherKey, tenant, "host-2.dea", { app: "dea" });
    const accepted = await submit(admin, {
      targets: [{ agent_id: "host-1.lab-notes" }],
      budget: { max_cost_usd: 0.015 },
      type: "task",
    });
    const held = await agent.take(await agent.next("dispatch"));
    const run = accepted.run.run_id;
    const who = (over: Partial<AdmitRequest["attribution"]>) => ({
      run: null,
      agent: null,
      app: null,
      intentType: null,
      tags: [],
      ...over,
    });
    expect(
      await stub(tenant).gatewayAdmit(ask(admin, { attribution: who({ run }) })),
    ).toMatchObject({ status: 403, message: expect.stringMatching(/only agent keys/) });
    expect(
      await stub(tenant).gatewayAdmit(ask(agentKey, { attribution: who({ agent: "ghost" }) })),
    ).toMatchObject({ status: 403, message: "agent ghost is not registered in this tenant" });
    expect(
      await stub(tenant).gatewayAdmit(ask(agentKey, { attribution: who({ agent: "host-2.dea" }) })),
    ).toMatchObject({ status: 403, message: expect.stringMatching(/limited to app lab-notes/) });
    expect(
      await stub(tenant).gatewayAdmit(
        ask(otherKey, { attribution: who({ agent: "host-2.dea", run }) }),
      ),
    ).toMatchObject({ status: 403, message: `run ${run} is not held by agent host-2.dea` });
    expect(
      await stub(tenant).gatewayAdmit(ask(agentKey, { attribution: who({ run }) })),
    ).toMatchObject({ status: 422, message: "x-auraison-run needs x-auraison-agent" });
    const viewer = (await newKey(admin, "viewer")).key;
    expect(await stub(tenant).gatewayAdmit(ask(viewer))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
    expect(
      await stub(tenant).gatewayAdmit(ask(`aur_agent_${tenant}_${"x".repeat(43)}`)),
    ).toMatchObject({ status: 401 });

    const ok = await stub(tenant).gatewayAdmit(
      ask(agentKey, { attribution: who({ agent: "host-1.lab-notes", run }) }),
    );
    expect(ok.kind).toBe("proceed");
    if (ok.kind !== "proceed") return;
    expect(ok.ticket.attribution).toMatchObject({
      runId: run,
      agentId: "host-1.lab-notes",
      attempt: 1,
      app: "lab-notes",
      intentType: "task",
    });
    // The intent's own budget ($0.015) is below the configured run budget ($5): a second call
    // reserving another $0.01 would overspend it.
    expect(
      await stub(tenant).gatewayAdmit(
        ask(agentKey, { attribution: who({ agent: "host-1.lab-notes", run }) }),
      ),
    ).toMatchObject({
      status: 429,
      limit: { scope: "run", subject: run, limit: 0.015 },
    });
    await stub(tenant).gatewaySettle(done(ok));
    // Once the run has ended, its former holder's calls are no longer charged to it.
    await agent.emit([
      agent.event(
        "run_completed",
        { result: "done", usage: usage(), duration_ms: 1, tree_ref: null },
        held,
      ),
    ]);
    expect(
      await stub(tenant).gatewayAdmit(
        ask(agentKey, { attribution: who({ agent: "host-1.lab-notes", run }) }),
      ),
    ).toMatchObject({ status: 403, message: `run ${run} is not held by agent host-1.lab-notes` });
    const calls = (await events(admin, `&kind=model_call&run=${run}`)).events as StoredEvent[];
    const settled = calls.find((e) => e.kind === "model_call" && e.payload.error_type === null)!;
    expect(settled).toMatchObject({
      run_id: run,
      agent_id: "host-1.lab-notes",
      source: "central",
      attempt: 1,
      payload: {
        provider: "lab",
        request_model: "llama",
        alias: "auto",
        observer: "gateway",
        input_tokens: 300,
        output_tokens: 100,
        cost_usd: 0.0014,
        price_version: "p1",
        app: "lab-notes",
        intent_type: "task",
        route: { requested: "auto", alias: "auto", chosen: { provider: "lab", model: "llama" } },
      },
    });
    agent.close();
    other.close();
  });

  it("opens a provider's circuit after repeated failures, routes around it, and closes it after a good probe", async () => {
    const { tenant, admin } = await newTenant("gwc");
    await configure(admin, { resilience: { breaker_failures: 2, breaker_cooldown_ms: 300 } });
    const failed = (a: AdmitResult) =>
      done(a, {
        outcome: "error",
        errorType: "upstream_failed",
        usage: null,
        health: [
          {
            provider: "lab",
            ok: false,
            breakerFailure: true,
            latencyMs: 5,
            ttftMs: null,
            error: "500 boom",
            probe: false,
          },
        ],
      });
    for (let i = 0; i < 2; i++)
      await stub(tenant).gatewaySettle(failed(await stub(tenant).gatewayAdmit(ask(admin))));
    let s = await status(admin);
    expect(s.providers.find((p) => p.id === "lab")).toMatchObject({
      circuit: "open",
      failures: 2,
      last_error: "500 boom",
      error_rate: expect.any(Number),
    });
    const around = await stub(tenant).gatewayAdmit(ask(admin));
    expect(around.kind === "proceed" && around.chain.map((c) => c.provider.id)).toEqual(["backup"]);
    expect(around.kind === "proceed" && around.ticket.route.candidates[0]!.reason).toMatch(
      /^circuit open until /,
    );
    await new Promise((r) => setTimeout(r, 1_100));
    // The Worker asks for a lease with every call it sends; a probe's call gets none, so the
    // probe's outcome decides the circuit before any more calls are routed to it.
    const probe = await stub(tenant).gatewayAdmit({ ...ask(admin), lease: true });
    expect(probe.kind === "proceed" && probe.chain.map((c) => [c.provider.id, c.probe])).toEqual([
      ["lab", true],
      ["backup", false],
    ]);
    expect(probe.kind === "proceed" && probe.lease).toBeUndefined();
    // While the probe is out, nobody else is sent to the provider.
    const meanwhile = await stub(tenant).gatewayAdmit(ask(admin));
    expect(meanwhile.kind === "proceed" && meanwhile.ticket.route.candidates[0]!.reason).toBe(
      "circuit half-open: its probe call is in flight",
    );
    await stub(tenant).gatewaySettle(done(probe));
    s = await status(admin);
    expect(s.providers.find((p) => p.id === "lab")).toMatchObject({
      circuit: "closed",
      consecutive_failures: 0,
    });
  });

  it("answers deterministic repeats from the cache, per route, and skips it when asked", async () => {
    const { tenant, admin } = await newTenant("gwk");
    await configure(admin);
    const hash = "a".repeat(64);
    const first = await stub(tenant).gatewayAdmit(ask(admin, { cache: { hash, mode: "default" } }));
    expect(first.kind === "proceed" && first.cacheKey).toBe(`${hash}|-|auto|lab/llama`);
    const answer = llamaAnswer('{"id":"x"}');
    await stub(tenant).gatewaySettle(
      done(first, { store: { key: `${hash}|-|auto|lab/llama`, answer } }),
    );
    const hit = await stub(tenant).gatewayAdmit(ask(admin, { cache: { hash, mode: "default" } }));
    expect(hit).toMatchObject({ kind: "cached", answer });
    if (hit.kind === "cached")
      await stub(tenant).gatewaySettle(
        done(first as AdmitResult, {
          ticket: hit.ticket,
          cacheHit: true,
          attempts: [],
          health: [],
        }),
      );
    expect(
      (await stub(tenant).gatewayAdmit(ask(admin, { cache: { hash, mode: "no-cache" } }))).kind,
    ).toBe("proceed");
    const noStore = await stub(tenant).gatewayAdmit(
      ask(admin, { cache: { hash, mode: "no-store" } }),
    );
    expect(noStore.kind === "proceed" && noStore.cacheKey).toBeNull();
    expect(
      (
        await stub(tenant).gatewayAdmit(
          ask(admin, { requested: "lab/llama", cache: { hash, mode: "default" } }),
        )
      ).kind,
    ).toBe("proceed");
    expect((await status(admin)).cache).toEqual({ entries: 1, bytes: answer.body.length, hits: 1 });
    const log = await events(admin, "&kind=model_call");
    expect(log.events.filter((e) => e.kind === "model_call" && e.payload.cache_hit)).toMatchObject([
      { payload: { cache_hit: true, cost_usd: 0, attempts: [] } },
    ]);
  });

  it("never replays an answer for a route whose first candidate has changed", async () => {
    const { tenant, admin } = await newTenant("gwr");
    await configure(admin);
    const hash = "b".repeat(64);
    const first = await stub(tenant).gatewayAdmit(ask(admin, { cache: { hash, mode: "default" } }));
    if (first.kind !== "proceed" || !first.cacheKey) throw new Error("expected a cache key");
    const answer = llamaAnswer('{"id":"y"}');
    await stub(tenant).gatewaySettle(done(first, { store: { key: first.cacheKey, answer } }));
    expect(
      (await stub(tenant).gatewayAdmit(ask(admin, { cache: { hash, mode: "default" } }))).kind,
    ).toBe("cached");
    // The alias now points at another model first: the stored answer is not its answer.
    await configure(admin, { aliases: { auto: { candidates: ["lab/qwen", "backup/llama"] } } });
    const after = await stub(tenant).gatewayAdmit(ask(admin, { cache: { hash, mode: "default" } }));
    expect(after.kind).toBe("proceed");
    expect(after.kind === "proceed" && after.cacheKey).toBe(`${hash}|-|auto|lab/qwen`);
  });

  it("caches embeddings only when the tenant asks, and leases them otherwise", async () => {
    const { tenant, admin } = await newTenant("gwe");
    await configure(admin);
    const embed = (over: Partial<AdmitRequest> = {}) =>
      ask(admin, {
        operation: "embeddings",
        estimate: {
          documents: [],
          documentBound: 200_000,
          inputTokens: 10,
          outputTokens: 0,
          choices: 1,
        },
        cache: { hash: "c".repeat(64), mode: "default" },
        lease: true,
        ...over,
      });
    const plain = await stub(tenant).gatewayAdmit(embed());
    expect(plain.kind === "proceed" && plain.cacheKey).toBeNull();
    expect(plain.kind === "proceed" && plain.lease?.cacheEnabled).toBe(false);
    await configure(admin, { cache: { embeddings: true } });
    const cached = await stub(tenant).gatewayAdmit(embed());
    expect(cached.kind === "proceed" && cached.cacheKey).toBe(`${"c".repeat(64)}|-|auto|lab/llama`);
    expect(cached.kind === "proceed" && cached.lease).toBeFalsy();
  });
});

describe("gateway admin API", () => {
  it("marks the models and aliases a script answers in /v1/models, so nothing mistakes them for a model", async () => {
    const { admin } = await newTenant();
    await configure(admin, {
      providers: [
        ...PROVIDERS,
        { id: "plans", kind: "scripted", models: ["p"], script: [{ answer: "{}" }] },
      ],
      aliases: {
        auto: { candidates: ["lab/llama", "backup/llama"] },
        mixed: { candidates: ["plans/p", "lab/llama"] },
        planner: { candidates: ["plans/p"] },
      },
    });
    const list = await json<GatewayModelList>(await call("GET", "/v1/models", { key: admin }), 200);
    expect(Object.fromEntries(list.data.map((m) => [m.id, m.scripted]))).toEqual({
      auto: false,
      mixed: false,
      planner: true,
      "lab/llama": false,
      "lab/qwen": false,
      "backup/llama": false,
      "plans/p": true,
    });
  });

  it("validates the config with field paths and keeps cost table versions immutable", async () => {
    const { admin } = await newTenant("gwcfg");
    const bad = await json<{ error: { code: string; issues: { path: string }[] } }>(
      await call("PUT", "/v1/gateway/config", {
        key: admin,
        body: { providers: PROVIDERS, aliases: { fast: { candidates: ["lab/gpt-9"] } } },
      }),
      422,
    );
    expect(bad.error.issues.map((i) => i.path)).toEqual(["aliases.fast.candidates[0]"]);
    await configure(admin);
    const changed = await json<{ error: { code: string; message: string } }>(
      await call("PUT", "/v1/gateway/config", {
        key: admin,
        body: {
          providers: PROVIDERS,
          prices: { version: "p1", models: { llama: { input: 1, output: 1 } } },
        },
      }),
      409,
    );
    expect(changed.error.message).toMatch(/version p1 is already stored with other prices/);
    const view = await configure(admin, {
      prices: { version: "p2", models: { llama: { input: 1, output: 1 } } },
    });
    expect(view).toMatchObject({ version: 2, prices: { version: "p2" } });
    const s = await status(admin);
    expect(s.prices.versions.map((v) => v.version)).toEqual(["p1", "p2"]);
  });

  it("refuses to store a key without a key-encryption key, and a stored key that does not exist", async () => {
    const { admin } = await newTenant("gwkey");
    const provider = { id: "openai", kind: "openai", models: ["gpt-4.1"] };
    const noKek = await json<{ error: { code: string; message: string } }>(
      await call("PUT", "/v1/gateway/config", {
        key: admin,
        body: { providers: [{ ...provider, key: { value: "sk-would-be-sealed-12345" } }] },
      }),
      503,
    );
    expect(noKek.error.message).toMatch(/AURAISON_GATEWAY_KEK/);
    const nothingStored = await json<{ error: { issues: { path: string; message: string }[] } }>(
      await call("PUT", "/v1/gateway/config", {
        key: admin,
        body: { providers: [{ ...provider, key: { stored: true } }] },
      }),
      422,
    );
    expect(nothingStored.error.issues).toMatchObject([
      {
        path: "providers[0].key",
        message: 'no key is stored for provider openai; send { "value": "..." } once',
      },
    ]);
    const audit = await json<{ entries: { action: string; outcome: string }[] }>(
      await call("GET", "/v1/audit", { key: admin }),
      200,
    );
    expect(
      audit.entries.filter((e) => e.action === "gateway.config.update").map((e) => e.outcome),
    ).toEqual(["error", "error"]);
  });
});
