import { describe, expect, it } from "vitest";
import { close, fits, openLease, retire, spend } from "../../../../central/gateway/lease/lease";
import { LEASE_MAX_SLOTS, leaseSlots } from "../../../../central/gateway/tenant/leases";
import { grant } from "./grant";

const small = {
  documents: [],
  documentBound: 200_000,
  inputTokens: 200,
  outputTokens: 100,
  choices: 1,
};

describe("a lease's life in the Worker", () => {
  it("hands out its slots in order, then retires exhausted and closes once with what it started", () => {
    const lease = openLease("t", grant(), 1_000);
    expect([spend(lease, small, 1_000), spend(lease, small, 1_500)]).toEqual([
      { ok: true, slot: 0 },
      { ok: true, slot: 1 },
    ]);
    expect(spend(lease, small, 1_600)).toEqual({ ok: true, slot: 2 });
    expect(lease.state).toEqual({ kind: "retired", reason: "exhausted" });
    expect(spend(lease, small, 1_700)).toEqual({ ok: false, why: "exhausted" });
    expect(close(lease)).toEqual({ id: "l1", started: 3 });
    expect(close(lease)).toBeNull();
    expect(lease.state).toEqual({ kind: "closed", reason: "exhausted" });
  });

  it("expires ttl after the Worker asked for it (not after it arrived), returning the unstarted slots", () => {
    const lease = openLease("t", grant(), 1_000);
    expect(spend(lease, small, 2_999).ok).toBe(true);
    expect(spend(lease, small, 3_000)).toEqual({ ok: false, why: "expired" });
    expect(close(lease)).toEqual({ id: "l1", started: 1 });
  });

  it("takes no call with a document, however small: only the tenant object knows its models' windows", () => {
    const lease = openLease("t", grant(), 0);
    expect(spend(lease, { ...small, documents: [0] }, 1)).toEqual({ ok: false, why: "too_large" });
    expect(spend(lease, small, 1)).toEqual({ ok: true, slot: 0 });
  });

  it("refuses a call larger than a slot but stays live for smaller ones", () => {
    const lease = openLease("t", grant(), 0);
    expect(
      spend(
        lease,
        {
          documents: [],
          documentBound: 200_000,
          inputTokens: 2_000,
          outputTokens: 100,
          choices: 1,
        },
        1,
      ),
    ).toEqual({
      ok: false,
      why: "too_large",
    });
    // No output limit: the call may take the tenant's maximum, more than a slot holds.
    expect(
      fits(lease.grant, {
        documents: [],
        documentBound: 200_000,
        inputTokens: 10,
        outputTokens: null,
        choices: 1,
      }),
    ).toBe(false);
    expect(
      fits(grant({ slotOutputTokens: 4_096 }), {
        documents: [],
        documentBound: 200_000,
        inputTokens: 10,
        outputTokens: null,
        choices: 1,
      }),
    ).toBe(true);
    // Each of a call's choices (OpenAI's `n`) may take the whole output.
    expect(fits(lease.grant, { ...small, choices: 2 })).toBe(false);
    expect(spend(lease, small, 2).ok).toBe(true);
  });

  it("admits nothing once retired for any reason, and keeps the first reason", () => {
    const lease = openLease("t", grant(), 0);
    expect(retire(lease, "stale")).toBe("stale");
    expect(retire(lease, "expired")).toBe("stale");
    expect(spend(lease, small, 1)).toEqual({ ok: false, why: "stale" });
    expect(close(lease)).toEqual({ id: "l1", started: 0 });
    expect(spend(lease, small, 1).ok).toBe(false);
  });
});

describe("how many slots a lease may hold", () => {
  it("takes a quarter of what is left under the tightest budget or limit, and none below two slots", () => {
    const slot = { tokens: 1_000, usd: 0.01 };
    expect(leaseSlots({ tokens: null, usd: null, requests: null }, slot)).toBe(LEASE_MAX_SLOTS);
    expect(leaseSlots({ tokens: 40_000, usd: null, requests: null }, slot)).toBe(10);
    expect(leaseSlots({ tokens: 40_000, usd: 0.2, requests: null }, slot)).toBe(5);
    expect(leaseSlots({ tokens: null, usd: null, requests: 30 }, slot)).toBe(7);
    expect(leaseSlots({ tokens: 7_999, usd: null, requests: null }, slot)).toBe(0);
    expect(leaseSlots({ tokens: -5, usd: null, requests: null }, slot)).toBe(0);
  });
});
