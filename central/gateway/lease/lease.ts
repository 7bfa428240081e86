import { type CallEstimate, type LeaseGrant, outputBound } from "../admission";

/**
 * A lease as the Worker holds it. Its life, each move with its reason:
 *
 *   live ──spend──▶ live                 a call fits a free slot: the Worker admits it itself
 *   live ──retire(expired)──▶ retired    its time is up (measured from before the Worker asked)
 *   live ──retire(exhausted)──▶ retired  every slot has a call
 *   live ──retire(stale)──▶ retired      the tenant object's epoch moved on (a key revoked, the
 *                                        configuration changed, a provider failed)
 *   live ──retire(replaced)──▶ retired   a newer lease for the same calls arrived
 *   retired ──close──▶ closed            the Worker told the object how many slots it started
 *
 * Nothing leaves `closed`; a retired lease admits nothing. Calls already started under a lease
 * finish and settle whatever its state.
 */
export type LeaseState =
  | { kind: "live" }
  | { kind: "retired"; reason: RetireReason }
  | { kind: "closed"; reason: RetireReason };

export type RetireReason = "expired" | "exhausted" | "stale" | "replaced";

export interface Lease {
  tenant: string;
  grant: LeaseGrant;
  /** Worker clock (ms): no call starts under the lease at or after this. */
  expiresAt: number;
  started: number;
  state: LeaseState;
}

/**
 * A lease from a grant. `askedAt` is the Worker's clock before it asked: the object granted the
 * lease later than that, so the lease ends here no later than `ttlMs` after it was granted.
 */
export function openLease(tenant: string, grant: LeaseGrant, askedAt: number): Lease {
  return { tenant, grant, expiresAt: askedAt + grant.ttlMs, started: 0, state: { kind: "live" } };
}

/**
 * Does the call fit one of the lease's slots (not too large for what each slot reserved)? A call
 * with a document never does: what it may cost depends on its models' context windows, which
 * only the tenant object knows (tenant-gateway.ts, admission).
 */
export function fits(grant: LeaseGrant, need: CallEstimate): boolean {
  return (
    need.documents.length === 0 &&
    need.inputTokens <= grant.slotInputTokens &&
    outputBound(need, grant.maxOutputTokens) <= grant.slotOutputTokens
  );
}

/**
 * Takes a slot for a call, or says why not: the lease is retired (or retires now, expired or
 * exhausted), or the call is larger than a slot (the lease stays live for smaller ones).
 */
export function spend(
  lease: Lease,
  need: CallEstimate,
  now: number,
): { ok: true; slot: number } | { ok: false; why: RetireReason | "too_large" } {
  if (lease.state.kind !== "live") return { ok: false, why: lease.state.reason };
  if (now >= lease.expiresAt) return { ok: false, why: retire(lease, "expired") };
  if (!fits(lease.grant, need)) return { ok: false, why: "too_large" };
  const slot = lease.started;
  lease.started += 1;
  if (lease.started >= lease.grant.slots) retire(lease, "exhausted");
  return { ok: true, slot };
}

/** Stops admitting calls under the lease (a no-op unless it is live). */
export function retire(lease: Lease, reason: RetireReason): RetireReason {
  if (lease.state.kind !== "live") return lease.state.reason;
  lease.state = { kind: "retired", reason };
  return reason;
}

/** The close to send for a retired lease, once: how many slots it started. */
export function close(lease: Lease): { id: string; started: number } | null {
  if (lease.state.kind !== "retired") return null;
  lease.state = { kind: "closed", reason: lease.state.reason };
  return { id: lease.grant.id, started: lease.started };
}
