import { describe, expect, it } from "vitest";
import { judgeStatus } from "../../../../central/gateway/resilience/failures";

describe("failed attempts", () => {
  it("retries and falls back on 429 and 5xx; only server errors trip the breaker", () => {
    expect(judgeStatus(429)).toEqual({ retry: true, fallback: true, breaker: false, type: "429" });
    for (const status of [500, 502, 503, 504, 529])
      expect(judgeStatus(status)).toMatchObject({ retry: true, fallback: true, breaker: true });
  });

  it("falls back without retrying on refused credentials and missing models", () => {
    expect(judgeStatus(401)).toMatchObject({ retry: false, fallback: true, breaker: true });
    expect(judgeStatus(404)).toMatchObject({ retry: false, fallback: true, breaker: false });
  });

  it("hands the caller its own mistakes", () => {
    for (const status of [400, 413, 422])
      expect(judgeStatus(status)).toMatchObject({ retry: false, fallback: false });
  });
});
