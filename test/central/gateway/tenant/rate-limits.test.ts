import { describe, expect, it } from "vitest";
import { rateSubjects } from "../../../../central/gateway/tenant/rate-limits";
import type { RateLimits } from "../../../../contract";

describe("a call's rate limits", () => {
  const limits = {
    apps: { lab: { requests_per_minute: 9 } },
    per_app: { requests_per_minute: 7 },
    keys: {},
    per_key: { requests_per_minute: 3 },
  } as unknown as RateLimits;

  it("gives an app or key without its own limit the per-app or per-key one, whatever its name", () => {
    for (const [app, key] of [
      ["other", "k1"],
      ["constructor", "toString"],
    ] as const)
      expect(rateSubjects(limits, app, key).map((s) => s.limit)).toEqual([
        undefined,
        { requests_per_minute: 7 },
        { requests_per_minute: 3 },
      ]);
    expect(rateSubjects(limits, "lab", "k1")[1]!.limit).toEqual({ requests_per_minute: 9 });
  });
});
