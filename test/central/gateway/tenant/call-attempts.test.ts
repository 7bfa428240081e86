import { describe, expect, it } from "vitest";
import { listedAttempts } from "../../../../central/gateway/tenant/call-attempts";
import type { ModelAttempt } from "../../../../contract";

const tried = (i: number, outcome: ModelAttempt["outcome"] = "error"): ModelAttempt => ({
  provider: `p${i}`,
  model: "m",
  outcome,
  error_type: outcome === "ok" ? null : "500",
  http_status: outcome === "ok" ? 200 : 500,
  latency_ms: i,
});
const usage = { input: 100, output: 1, cacheRead: 0, cacheWrite: 0 };

describe("the attempts a model_call lists", () => {
  it("lists every charged try, the first and the answering one when a chain made more than 32", () => {
    const attempts = [...Array.from({ length: 48 }, (_, i) => tried(i)), tried(48, "ok")];
    const tries = [40, 45].map((attempt) => ({
      attempt,
      provider: `p${attempt}`,
      model: "m",
      usage,
      cost: 0.5,
    }));
    const listed = listedAttempts(attempts, tries, (n) => n);
    expect(listed).toHaveLength(32);
    expect(listed.map((a) => a.latency_ms)).toEqual([
      ...Array.from({ length: 29 }, (_, i) => i),
      40,
      45,
      48,
    ]);
    expect(listed[29]).toMatchObject({ provider: "p40", input_tokens: 100, cost_usd: 0.5 });
    expect(listed[31]).toMatchObject({ provider: "p48", outcome: "ok" });
    expect(listed[31]).not.toHaveProperty("input_tokens");
  });
});
