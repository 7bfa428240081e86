import { describe, expect, it } from "vitest";
import { usageFromAnthropic } from "../../../../central/gateway/dialects/usage";
import { pricesFromLiteLlm } from "../../../../central/gateway/pricing/litellm";
import { costOf, estimateCost, priceOf } from "../../../../central/gateway/pricing/prices";
import { LITELLM_SAMPLE } from "./catalogue";

const prices = {
  version: "v1",
  models: {
    "anthropic/claude-sonnet-4-5": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
    "gpt-4.1-mini": { input: 0.4, output: 1.6 },
    "lab/llama": { input: 0, output: 0 },
  },
};

describe("cost table", () => {
  it("prices by provider/model first, then by bare model id", () => {
    expect(priceOf(prices, "openai", "gpt-4.1-mini")).toEqual({ input: 0.4, output: 1.6 });
    expect(priceOf(prices, "anthropic", "claude-sonnet-4-5")?.cache_read).toBe(0.3);
    expect(priceOf(prices, "openai", "gpt-5")).toBeNull();
    expect(priceOf(null, "openai", "gpt-4.1-mini")).toBeNull();
    // A provider may serve a model named like an Object member; it has no price unless listed.
    for (const model of ["__proto__", "constructor", "toString"]) {
      expect(priceOf(prices, "openai", model)).toBeNull();
      expect(estimateCost(prices, "openai", model, { input: 1, output: 1 })).toBeNull();
    }
  });

  it("charges uncached input, cache reads, cache writes and output at their own prices", () => {
    // 1,000 input of which 600 cache reads and 100 cache writes; 200 output.
    const usd = costOf(prices, "anthropic", "claude-sonnet-4-5", {
      input: 1000,
      output: 200,
      cacheRead: 600,
      cacheWrite: 100,
    });
    expect(usd).toBeCloseTo((300 * 3 + 600 * 0.3 + 100 * 3.75 + 200 * 15) / 1e6, 12);
  });

  it("charges cache tokens at the input price when the table has no cache price", () => {
    expect(
      costOf(prices, "openai", "gpt-4.1-mini", {
        input: 1000,
        output: 0,
        cacheRead: 500,
        cacheWrite: 0,
      }),
    ).toBeCloseTo(0.0004, 12);
  });

  it("is null for an unpriced model, never $0, while a free model costs exactly 0", () => {
    expect(
      costOf(prices, "openai", "gpt-5", { input: 10, output: 10, cacheRead: 0, cacheWrite: 0 }),
    ).toBeNull();
    expect(
      costOf(prices, "lab", "llama", { input: 10, output: 10, cacheRead: 0, cacheWrite: 0 }),
    ).toBe(0);
  });

  it("estimates an upper bound: every input token at the dearest input price", () => {
    expect(
      estimateCost(prices, "anthropic", "claude-sonnet-4-5", { input: 1_000_000, output: 0 }),
    ).toBe(3.75);
    expect(estimateCost(prices, "x", "unknown", { input: 1, output: 1 })).toBeNull();
  });
});

describe("prices from LiteLLM's catalogue", () => {
  const { prices: table, missing } = pricesFromLiteLlm(LITELLM_SAMPLE, "litellm-2026-12-06", [
    { provider: "an", catalogue: "anthropic", model: "claude-sonnet-4-5" },
    { provider: "oa", catalogue: "openai", model: "gpt-4.1-mini" },
    { provider: "az", catalogue: "azure", model: "gpt-4o" },
    { provider: "oa", catalogue: "openai", model: "dall-e-3" },
    { provider: "lab", catalogue: null, model: "llama" },
  ]);

  it("reads per-million prices, long-context tiers, one-hour cache writes and limits", () => {
    expect(table.version).toBe("litellm-2026-12-06");
    expect(table.models["claude-sonnet-4-5"]).toEqual({
      input: 3,
      output: 15,
      cache_read: 0.3,
      cache_write: 3.75,
      cache_write_1h: 6,
      tiers: [
        {
          above: 200_000,
          input: 6,
          output: 22.5,
          cache_read: 0.6,
          cache_write: 7.5,
          cache_write_1h: 12,
        },
      ],
      context_window: 200_000,
      max_output_tokens: 64_000,
    });
    // Found only under its provider's prefix: priced for that provider alone.
    expect(table.models["az/gpt-4o"]).toMatchObject({ input: 2.5, output: 10 });
    expect(table.models["gpt-4.1-mini"]?.context_window).toBe(1_047_576);
    expect(missing).toEqual(["oa/dall-e-3", "lab/llama"]);
  });

  it("prices a call above 200k input tokens at the long-context rates, whole", () => {
    const usage = { input: 250_000, output: 1_000, cacheRead: 200_000, cacheWrite: 0 };
    expect(costOf(table, "an", "claude-sonnet-4-5", usage)).toBeCloseTo(
      (50_000 * 6 + 200_000 * 0.6 + 1_000 * 22.5) / 1e6,
      12,
    );
    const below = { input: 150_000, output: 1_000, cacheRead: 0, cacheWrite: 0 };
    expect(costOf(table, "an", "claude-sonnet-4-5", below)).toBeCloseTo(
      (150_000 * 3 + 1_000 * 15) / 1e6,
      12,
    );
    expect(
      estimateCost(table, "an", "claude-sonnet-4-5", { input: 300_000, output: 1_000 }),
    ).toBeCloseTo((300_000 * 12 + 1_000 * 22.5) / 1e6, 12); // the dearest: one-hour writes
  });

  it("charges one-hour cache writes at their own price", () => {
    expect(
      usageFromAnthropic({
        input_tokens: 2_000,
        output_tokens: 0,
        cache_creation_input_tokens: 8_000,
        cache_creation: { ephemeral_5m_input_tokens: 3_000, ephemeral_1h_input_tokens: 5_000 },
      }),
    ).toEqual({ input: 10_000, output: 0, cacheRead: 0, cacheWrite: 8_000, cacheWrite1h: 5_000 });
    const usage = {
      input: 10_000,
      output: 0,
      cacheRead: 0,
      cacheWrite: 8_000,
      cacheWrite1h: 5_000,
    };
    expect(costOf(table, "an", "claude-sonnet-4-5", usage)).toBeCloseTo(
      (2_000 * 3 + 3_000 * 3.75 + 5_000 * 6) / 1e6,
      12,
    );
    // Above 200k input tokens, at the long-context tier's one-hour price.
    const long = { ...usage, input: 300_000 };
    expect(costOf(table, "an", "claude-sonnet-4-5", long)).toBeCloseTo(
      (292_000 * 6 + 3_000 * 7.5 + 5_000 * 12) / 1e6,
      12,
    );
  });
});
