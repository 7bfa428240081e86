import { describe, expect, it } from "vitest";
import { costOf, estimateCost, priceOf } from "../../../../central/gateway/pricing/prices";

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
