import { describe, expect, it } from "vitest";
import { retryAfterMs, retryDelayMs } from "../../../../central/gateway/resilience/backoff";

const settings = { backoff_base_ms: 200, backoff_max_ms: 1_000, max_retry_after_ms: 5_000 };

describe("retry backoff", () => {
  it("grows exponentially to its cap, with full jitter", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, settings, null, () => 0.999))).toEqual([
      199, 399, 799, 999,
    ]);
    expect(retryDelayMs(3, settings, null, () => 0)).toBe(0);
    expect(retryDelayMs(3, settings, null, () => 0.5)).toBe(400);
  });

  it("waits at least the provider's Retry-After, and gives up on one beyond the limit", () => {
    expect(retryDelayMs(1, settings, 3_000, () => 0.5)).toBe(3_000);
    expect(retryDelayMs(1, settings, 5_001, () => 0.5)).toBeNull();
  });

  it("reads retry-after-ms, retry-after seconds and HTTP dates", () => {
    const now = Date.parse("2026-11-21T12:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after-ms": "1500" }), now)).toBe(1500);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ "retry-after": "0.5" }), now)).toBe(500);
    expect(retryAfterMs(new Headers({ "retry-after": "Sat, 21 Nov 2026 12:00:03 GMT" }), now)).toBe(
      3000,
    );
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }), now)).toBeNull();
    expect(retryAfterMs(new Headers(), now)).toBeNull();
  });
});
