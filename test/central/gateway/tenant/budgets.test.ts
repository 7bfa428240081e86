import { describe, expect, it } from "vitest";
import { budgetScopes } from "../../../../central/gateway/tenant/budgets";
import type { Budgets } from "../../../../contract";

describe("a call's budgets", () => {
  const budgets = {
    apps: { lab: { tokens: 10, period: "day" } },
    per_app: { tokens: 5, period: "day" },
  } as unknown as Budgets;

  it("gives an app without its own budget the per-app one, whatever its name", () => {
    for (const app of ["other", "constructor"])
      expect(budgetScopes(budgets, app, null, null)).toEqual([
        { scope: "app", subject: app, tokens: 5, period: "day" },
      ]);
    expect(budgetScopes(budgets, "lab", null, null)).toEqual([
      { scope: "app", subject: "lab", tokens: 10, period: "day" },
    ]);
  });
});
