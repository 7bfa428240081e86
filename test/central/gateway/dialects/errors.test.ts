import { describe, expect, it } from "vitest";
import { errorResponse } from "../../../../central/gateway/dialects/errors";
import { Failure, type LimitRefusal } from "../../../../contract";

/** A 429 for a limit, as the tenant object refuses a call. */
function refusal(limit: LimitRefusal): Response {
  return errorResponse(
    "openai",
    new Failure(429, "rate_limited", "refused", {
      limit,
      ...(limit.retry_after_ms !== null ? { retryAfterMs: limit.retry_after_ms } : {}),
    }),
  );
}

const rate: LimitRefusal = {
  kind: "rate",
  scope: "key",
  subject: "k1",
  dimension: "tokens_per_minute",
  limit: 7_000,
  used: 6_000,
  requested: 2_000,
  period: null,
  retry_after_ms: 12_000,
};

describe("a refusal's retry headers", () => {
  it("tell the official clients to retry a rate limit later, and never a call that cannot fit", async () => {
    const later = refusal(rate);
    expect(later.headers.get("retry-after")).toBe("12");
    expect(later.headers.get("x-should-retry")).toBeNull();
    const never = refusal({ ...rate, used: 0, requested: 8_000, retry_after_ms: null });
    expect(never.headers.get("retry-after")).toBeNull();
    expect(never.headers.get("x-should-retry")).toBe("false");
    const spent = refusal({ ...rate, kind: "budget", dimension: "usd", period: "day" });
    expect(spent.headers.get("x-should-retry")).toBe("false");
    await Promise.all([later, never, spent].map((r) => r.text()));
  });
});
