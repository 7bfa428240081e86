import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../../../central/db/database";
import { BudgetLedger } from "../../../../central/gateway/tenant/budgets";
import { LeaseLedger } from "../../../../central/gateway/tenant/leases";
import { RateLimiter } from "../../../../central/gateway/tenant/rate-limits";
import { createLogger } from "../../../../central/log";
import { newTenant } from "../../support";

/** The tenant object's lease records, over its real storage, across a restart of the object. */
describe("leases in the tenant object", () => {
  it("frees a lease's slots as its calls settle and at its close, after the object restarted", async () => {
    const { tenant } = await newTenant("leaserestart");
    const reserved = await runInDurableObject(env.TENANT.getByName(tenant), (_agent, state) => {
      const now = () => 1_000_000;
      // The object's gateway parts, as a life of it makes them over its storage.
      const life = () => {
        const budgets = new BudgetLedger(openDatabase(state.storage), state.storage, now, log);
        const rates = new RateLimiter(now);
        return { budgets, leases: new LeaseLedger(budgets, rates, state.storage, log) };
      };
      const log = createLogger({ test: "leases" });
      const held = () =>
        state.storage.kv.get<{ tokens: number }>("gateway/reservation/lease/l1")?.tokens ?? 0;
      const first = life();
      first.leases.grant("l1", {
        slots: 4,
        budgeted: true,
        slotTokens: 1_000,
        slotUsd: 0.01,
        app: null,
        runId: null,
        subjects: [{ scope: "tenant", subject: "-", limit: undefined }],
        rateWindow: 16,
        expiresAt: 3_600_000,
      });
      first.leases.settled("l1");
      const before = held();
      // A deploy: a new life of the object, the Worker's calls still settling under the lease.
      const second = life();
      second.leases.settled("l1");
      const afterSettle = held();
      second.leases.close("l1", 2);
      return [before, afterSettle, held(), state.storage.kv.get("gateway/lease/l1") ?? null];
    });
    expect(reserved).toEqual([3_000, 2_000, 0, null]);
  });
});
