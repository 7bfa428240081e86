import { describe, expect, it } from "vitest";
import {
  addUsage,
  DEFAULT_RETRY_POLICY,
  emptyUsage,
  RetryPolicy,
  retryDelayMs,
  shouldRetry,
  truncateText,
} from "../../contract";

describe("retry policy", () => {
  it("defaults: 3 attempts, exponential, only infrastructure and timeouts retry", () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({ max_attempts: 3, backoff: "exponential" });
    expect(shouldRetry(DEFAULT_RETRY_POLICY, "infrastructure", 1)).toBe(true);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, "timeout", 2)).toBe(true);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, "timeout", 3)).toBe(false);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, "policy", 1)).toBe(false);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, "budget_exceeded", 1)).toBe(false);
  });

  it("computes fixed, linear and exponential delays, capped", () => {
    const base = { base_delay_ms: 100, max_delay_ms: 1_000 };
    const fixed = RetryPolicy.parse({ ...base, backoff: "fixed" });
    const linear = RetryPolicy.parse({ ...base, backoff: "linear" });
    const exp = RetryPolicy.parse({ ...base, backoff: "exponential" });
    expect([2, 3, 4].map((a) => retryDelayMs(fixed, a))).toEqual([100, 100, 100]);
    expect([2, 3, 4].map((a) => retryDelayMs(linear, a))).toEqual([100, 200, 300]);
    expect([2, 3, 4, 5, 9].map((a) => retryDelayMs(exp, a))).toEqual([100, 200, 400, 800, 1_000]);
  });
});

describe("usage", () => {
  it("adds, and an unpriced side makes the total unpriced rather than $0", () => {
    const priced = { ...emptyUsage(), tokens_in: 10, cost_usd: 0.5 };
    const unpriced = { ...emptyUsage(), tokens_in: 5, cost_usd: null };
    expect(addUsage(priced, priced)).toMatchObject({ tokens_in: 20, cost_usd: 1 });
    expect(addUsage(priced, unpriced)).toMatchObject({ tokens_in: 15, cost_usd: null });
  });
});

describe("truncateText", () => {
  it("leaves short text alone and marks cuts", () => {
    expect(truncateText("abc", 10)).toBe("abc");
    const cut = truncateText("x".repeat(100), 40);
    expect(cut.length).toBe(40);
    expect(cut).toContain("truncated");
  });
});
