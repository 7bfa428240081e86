import { describe, expect, it } from "vitest";
import {
  type ProviderView,
  type RouteRequest,
  route,
} from "../../../../central/gateway/routing/router";
import { GatewayConfig } from "../../../../contract";

const config = GatewayConfig.parse({
  providers: [
    {
      id: "openai",
      kind: "openai",
      key: { secret: "OPENAI_API_KEY" },
      models: ["gpt-4.1", "gpt-4.1-mini"],
    },
    {
      id: "anthropic",
      kind: "anthropic",
      key: { secret: "ANTHROPIC_API_KEY" },
      models: ["claude-sonnet-4-5"],
    },
    {
      id: "lab",
      kind: "openai-compatible",
      base_url: "http://gpu-1:8000/v1",
      models: ["llama-3.1-8b", "gpt-4.1-mini"],
    },
  ],
  aliases: {
    auto: {
      candidates: ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4-5", "lab/llama-3.1-8b"],
    },
    cheap: {
      candidates: [
        "openai/gpt-4.1",
        "anthropic/claude-sonnet-4-5",
        "openai/gpt-4.1-mini",
        "lab/llama-3.1-8b",
      ],
      strategy: "cost",
    },
    fast: {
      candidates: ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4-5", "lab/llama-3.1-8b"],
      strategy: "latency",
    },
    smart: { candidates: ["anthropic/claude-sonnet-4-5", "openai/gpt-4.1"] },
  },
  rules: [
    { id: "dea-smart", when: { app: ["dea"], intent_type: ["analysis"] }, use: { alias: "smart" } },
    {
      id: "vision",
      when: { tags_any: ["vision"], model: ["auto", "gpt-4.1"] },
      use: { candidates: ["openai/gpt-4.1"] },
    },
  ],
});

const prices = {
  version: "2026-06",
  models: {
    "openai/gpt-4.1": { input: 2, output: 8 },
    "gpt-4.1-mini": { input: 0.4, output: 1.6 },
    "anthropic/claude-sonnet-4-5": { input: 3, output: 15, cache_write: 3.75 },
  },
};

const healthy =
  (over: Partial<ProviderView> = {}) =>
  (): ProviderView => ({
    kind: "x",
    circuit: "closed",
    probeDue: false,
    nextProbeAt: null,
    latencyMs: null,
    errorRate: null,
    unusable: null,
    ...over,
  });

const req = (over: Partial<RouteRequest> = {}): RouteRequest => ({
  requested: "auto",
  app: null,
  intentType: null,
  tags: [],
  inputTokens: 1_000,
  outputTokens: 1_000,
  ...over,
});

const NOW = 1_700_000_000_000;
const noBudget = { usd: null };

describe("router", () => {
  it("resolves an alias in its configured order and explains every candidate", () => {
    const out = route(config, prices, req(), healthy(), noBudget, NOW);
    if (!out.ok) throw new Error(out.message);
    expect(out.chain.map((c) => `${c.provider}/${c.model}`)).toEqual([
      "openai/gpt-4.1-mini",
      "anthropic/claude-sonnet-4-5",
      "lab/llama-3.1-8b",
    ]);
    expect(out.route).toMatchObject({
      requested: "auto",
      rule: null,
      alias: "auto",
      strategy: "ordered",
      chosen: { provider: "openai", model: "gpt-4.1-mini" },
      reason: "first of 3 available in the configured order",
    });
    expect(out.route.candidates.map((c) => [c.kept, c.reason, c.est_cost_usd])).toEqual([
      [true, "est. $0.0020", 0.002],
      [true, "est. $0.0187", 0.01875],
      [true, "unpriced", null],
    ]);
  });

  it("orders by estimated cost (unpriced last) and by observed latency (unobserved last)", () => {
    const cheap = route(config, prices, req({ requested: "cheap" }), healthy(), noBudget, NOW);
    if (!cheap.ok) throw new Error(cheap.message);
    expect(cheap.chain.map((c) => c.model)).toEqual([
      "gpt-4.1-mini",
      "gpt-4.1",
      "claude-sonnet-4-5",
      "llama-3.1-8b",
    ]);
    expect(cheap.route.reason).toBe("cheapest of 4 available (est. $0.0020)");
    const latency: Record<string, number | null> = { openai: 900, anthropic: 300, lab: null };
    const fast = route(
      config,
      prices,
      req({ requested: "fast" }),
      (id) => healthy({ latencyMs: latency[id] ?? null })(),
      noBudget,
      NOW,
    );
    if (!fast.ok) throw new Error(fast.message);
    expect(fast.chain.map((c) => c.provider)).toEqual(["anthropic", "openai", "lab"]);
    expect(fast.route.reason).toBe("fastest of 3 available (~300 ms)");
  });

  it("applies the first matching rule: app and intent type, tags with a named model", () => {
    const dea = route(
      config,
      prices,
      req({ app: "dea", intentType: "analysis" }),
      healthy(),
      noBudget,
      NOW,
    );
    expect(dea.ok && dea.route).toMatchObject({
      rule: "dea-smart",
      alias: "smart",
      chosen: { provider: "anthropic" },
    });
    const notDea = route(
      config,
      prices,
      req({ app: "dea", intentType: "task" }),
      healthy(),
      noBudget,
      NOW,
    );
    expect(notDea.ok && notDea.route.rule).toBe(null);
    const vision = route(
      config,
      prices,
      req({ requested: "gpt-4.1", tags: ["vision", "x"] }),
      healthy(),
      noBudget,
      NOW,
    );
    expect(vision.ok && vision.route).toMatchObject({
      rule: "vision",
      strategy: "ordered",
      alias: null,
      chosen: { model: "gpt-4.1" },
    });
  });

  it("honours a concrete model as asked: provider/model, or every provider that lists a bare id", () => {
    const one = route(
      config,
      prices,
      req({ requested: "anthropic/claude-sonnet-4-5", app: "dea", intentType: "analysis" }),
      healthy(),
      noBudget,
      NOW,
    );
    expect(one.ok && one.route).toMatchObject({
      rule: null,
      strategy: "direct",
      reason: "the caller asked for this model",
    });
    const bare = route(
      config,
      prices,
      req({ requested: "gpt-4.1-mini" }),
      healthy(),
      noBudget,
      NOW,
    );
    expect(bare.ok && bare.chain.map((c) => c.provider)).toEqual(["openai", "lab"]);
  });

  it("answers 404 for unknown names, listing the aliases", () => {
    const out = route(config, prices, req({ requested: "gpt-9" }), healthy(), noBudget, NOW);
    expect(out).toMatchObject({ ok: false, status: 404, code: "model_not_found" });
    expect(!out.ok && out.message).toContain("aliases: auto, cheap, fast, smart");
  });

  it("answers 404 for prototype member names, which no tenant declared", () => {
    for (const requested of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const out = route(config, prices, req({ requested }), healthy(), noBudget, NOW);
      expect(out).toMatchObject({ ok: false, status: 404, code: "model_not_found" });
    }
  });

  it("drops open circuits (with the time they may probe), lets a due probe through, demotes failing providers", () => {
    const views: Record<string, ProviderView> = {
      openai: healthy({ circuit: "open", nextProbeAt: NOW + 5_000 })(),
      anthropic: healthy({ errorRate: 0.7 })(),
      lab: healthy({ circuit: "open", probeDue: true, nextProbeAt: NOW - 1 })(),
    };
    const out = route(config, prices, req(), (id) => views[id]!, noBudget, NOW);
    if (!out.ok) throw new Error(out.message);
    expect(out.chain.map((c) => [c.provider, c.probe])).toEqual([
      ["lab", true],
      ["anthropic", false],
    ]);
    expect(out.route.candidates[0]).toMatchObject({
      kept: false,
      reason: `circuit open until ${new Date(NOW + 5_000).toISOString()}`,
    });
    expect(out.route.candidates[1]!.reason).toContain("demoted: error rate 70%");
    expect(out.route.reason).toBe(
      "first of 2 available in the configured order; this call probes its open circuit",
    );
  });

  it("answers 503 with the earliest probe time when every circuit is open", () => {
    const out = route(
      config,
      prices,
      req({ requested: "smart" }),
      () => healthy({ circuit: "open", nextProbeAt: NOW + 7_000 })(),
      noBudget,
      NOW,
    );
    expect(out).toMatchObject({
      ok: false,
      status: 503,
      code: "no_provider_available",
      retryAfterMs: 7_000,
    });
  });

  it("under a USD budget drops unpriced candidates and those whose estimate is over what is left", () => {
    const out = route(
      config,
      prices,
      req(),
      healthy(),
      { usd: { remaining: 0.01, scope: "app lab-notes day" } },
      NOW,
    );
    if (!out.ok) throw new Error(out.message);
    expect(out.chain.map((c) => c.provider)).toEqual(["openai"]);
    expect(out.route.candidates.map((c) => c.reason)).toEqual([
      "est. $0.0020",
      "est. $0.0187 is over the $0.0100 left in the app lab-notes day budget",
      "unpriced, and the app lab-notes day USD budget applies",
    ]);
    const none = route(
      config,
      prices,
      req(),
      healthy(),
      { usd: { remaining: 0.0001, scope: "run r" } },
      NOW,
    );
    expect(none).toMatchObject({ ok: false, status: 429, code: "budget_exceeded" });
  });

  it("never routes to a provider that cannot work here, and says why", () => {
    const out = route(
      config,
      prices,
      req({ requested: "smart" }),
      (id) =>
        healthy({ unusable: id === "anthropic" ? "this deployment has no AI binding" : null })(),
      noBudget,
      NOW,
    );
    expect(out.ok && out.route.candidates[0]).toMatchObject({
      kept: false,
      reason: "this deployment has no AI binding",
    });
  });

  it("says so when a tenant has no providers at all", () => {
    const out = route(GatewayConfig.parse({}), null, req(), healthy(), noBudget, NOW);
    expect(!out.ok && out.message).toMatch(/no model providers configured/);
  });
});
