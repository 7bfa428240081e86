import type { Logger } from "../../log";
import type { BudgetLedger } from "./budgets";
import type { RateLimiter, RateSubject } from "./rate-limits";
import { StoredMap } from "./stored-map";

/** How long the Worker may admit calls under a lease: also the bound on revocation and config. */
export const LEASE_TTL_MS = 2_000;
/** The most call slots one lease holds. */
export const LEASE_MAX_SLOTS = 64;
/** A lease takes at most this share of what is left under any budget or rate limit. */
export const LEASE_SHARE = 0.25;
/** Fewer slots than this are not worth a lease: the calls go to the object one by one. */
export const LEASE_MIN_SLOTS = 2;

/** A lease as the tenant object keeps it, until every started slot has settled. */
interface LeaseRecord {
  slots: number;
  /** A budget applies to the lease's calls: its outstanding slots are reserved. */
  budgeted: boolean;
  /** Slots the Worker said it started, once it closed the lease. */
  started: number | null;
  settled: number;
  slotTokens: number;
  slotUsd: number;
  app: string | null;
  runId: string | null;
  subjects: RateSubject[];
  rateWindow: number;
  expiresAt: number;
}

/** What a lease may hold: a share of what is left, never more than `LEASE_MAX_SLOTS`. */
export function leaseSlots(
  room: { tokens: number | null; usd: number | null; requests: number | null },
  slot: { tokens: number; usd: number },
): number {
  let slots = LEASE_MAX_SLOTS;
  const cap = (left: number | null, each: number) => {
    if (left !== null && each > 0) slots = Math.min(slots, Math.floor((left * LEASE_SHARE) / each));
  };
  cap(room.tokens, slot.tokens);
  cap(room.usd, slot.usd);
  cap(room.requests, 1);
  return slots >= LEASE_MIN_SLOTS ? slots : 0;
}

/** Where a lease's record is kept in the object's storage, by id. */
const LEASE_PREFIX = "gateway/lease/";

/**
 * The tenant object's side of leases: each one is a budget reservation of its outstanding
 * slots (granted, less settled, less the unused ones its close gave back) and its slots'
 * requests and tokens in the rate windows. Reservations are the budgets' own, so a lease never
 * lets spend pass a budget; a lease whose Worker vanished without closing it keeps its
 * reservation until the reservations' own expiry (`expiresAt`), as a call that never settled does.
 *
 * The records of budgeted leases are kept in the object's storage beside their reservations: an
 * object restarted (a deploy) while Workers still hold its leases must still free each slot as
 * its call settles and the unused ones at the close, or the reservations would hold the budget
 * for their hour.
 * The rate windows live in memory and start afresh with the object, so only leases granted by
 * this object's life correct them.
 */
export class LeaseLedger {
  private readonly records: StoredMap<LeaseRecord>;
  /** Leases this object's life granted: their slots are in its rate windows. */
  private readonly counted = new Set<string>();

  constructor(
    private readonly budgets: BudgetLedger,
    private readonly rates: RateLimiter,
    storage: DurableObjectStorage,
    log: Logger,
  ) {
    this.records = new StoredMap(storage, LEASE_PREFIX, log);
  }

  grant(id: string, lease: Omit<LeaseRecord, "started" | "settled">): void {
    this.records.setUnstored(id, { ...lease, started: null, settled: 0 });
    this.counted.add(id);
    this.rates.count(lease.subjects, lease.slotTokens, lease.slots);
    this.reserve(id);
  }

  /** One call under the lease settled: its slot's reservation goes (its real spend is recorded). */
  settled(id: string): void {
    const lease = this.records.get(id);
    if (!lease) return;
    lease.settled += 1;
    this.reserve(id);
  }

  /** The Worker stopped using the lease: unused slots return to the budgets and rate windows. */
  close(id: string, started: number): void {
    const lease = this.records.get(id);
    if (!lease || lease.started !== null) return;
    lease.started = Math.min(Math.max(0, started), lease.slots);
    const unused = lease.slots - lease.started;
    if (this.counted.has(id))
      this.rates.correct(lease.subjects, lease.rateWindow, -unused * lease.slotTokens, -unused);
    this.reserve(id);
  }

  /** Leases whose reservation lapsed (see the class comment) are forgotten. */
  prune(now: number): void {
    for (const [id, lease] of this.records.all()) if (lease.expiresAt <= now) this.forget(id);
  }

  private reserve(id: string): void {
    const lease = this.records.get(id)!;
    const outstanding = (lease.started ?? lease.slots) - lease.settled;
    const reservation = `lease/${id}`;
    const done = outstanding <= 0 && lease.started !== null;
    if (lease.budgeted) {
      if (outstanding <= 0) this.budgets.release(reservation);
      else
        this.budgets.reserve(
          reservation,
          lease.app,
          lease.runId,
          { tokens: outstanding * lease.slotTokens, usd: outstanding * lease.slotUsd },
          lease.expiresAt,
        );
    }
    if (done) this.forget(id);
    // Only a reservation outlives the object: a lease without one has nothing to free after a
    // restart, and is not worth a write per call.
    else if (lease.budgeted) this.records.set(id, lease);
    else this.records.setUnstored(id, lease);
  }

  private forget(id: string): void {
    this.records.delete(id);
    this.counted.delete(id);
  }
}
