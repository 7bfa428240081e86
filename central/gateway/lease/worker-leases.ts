import type { CallEstimate, LeaseClose, LeaseGrant, SettleRequest, Ticket } from "../admission";
import { close, type Lease, openLease, retire, spend } from "./lease";

/**
 * Settlements wait this long for others to go in the same RPC. A settlement costs the tenant
 * object about a millisecond of CPU whatever it carries (the RPC, a transaction, the event
 * append and its notice), so a window shorter than the gap between calls settles one call at a
 * time: with 2 ms, calls one after another to a provider answering in 1 ms cost workerd 2.5 ms
 * of CPU each, with 100 ms 1.0 ms (bench/results/gateway-comparison.md). Nothing waits on it:
 * budgets stay exact because leased calls spend inside reservations already made, the caller
 * has its answer, and a revocation or a changed route still reaches leased calls within the
 * lease's 2 s; what lags by up to this much is the `model_call` event, the spend shown and a
 * cacheable answer's storing.
 */
const SETTLE_BATCH_MS = 100;
/** A batch never holds more settlements than this. */
const SETTLE_BATCH_MAX = 64;
/**
 * Waits before each new try of a settlement batch whose RPC failed: all within a request's
 * `waitUntil` (30 s), past a Durable Object's restart.
 */
const SETTLE_RETRY_MS = [250, 1_000, 4_000];
/** Expired leases are looked for at most this often. */
const SWEEP_EVERY_MS = 250;
/** Leases kept per isolate; the oldest is closed to make room. */
const MAX_LEASES = 1_024;

/** What a call admitted under a lease starts with, as if the tenant object had admitted it. */
export interface LeasedAdmission {
  ticket: Ticket;
  grant: LeaseGrant;
  /** Half the lease is gone: ask for the next one now, off this call's path. */
  renew: boolean;
}

interface Pending {
  settles: SettleRequest[];
  /** A batch is open: a request is waiting out the window to send it. */
  open: boolean;
}

type Stubs = Pick<Env, "TENANT">;

/**
 * The model gateway's leases in this Worker isolate, and its batched settlements: calls that
 * fit a live lease are admitted here, without a round trip to the tenant object; settlements
 * go to the object after the answer, a few calls to an RPC, with the closes of retired leases;
 * each batch's answer carries the object's epoch, and leases of an older one retire at once.
 * Shared by every request the isolate serves, as the isolate's other caches are.
 */
export class WorkerLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly epochs = new Map<string, string>();
  /** Retired leases whose close has not been sent, by tenant. */
  private readonly closing = new Map<string, Lease[]>();
  private readonly pending = new Map<string, Pending>();
  /** Shapes whose next lease is being asked for (one request at a time per shape). */
  private readonly asking = new Map<string, Promise<unknown>>();
  /**
   * Shapes whose tenant's response cache was on when the isolate last heard (a grant, or the
   * admission of a deterministic call: the object grants no lease to one it may cache), with
   * their tenant; at most MAX_LEASES, oldest first out, forgotten when the tenant's epoch moves.
   * A deterministic call of such a shape never waits for another call's admission (no lease
   * would admit it), and no call waits for its admission, which never brings a lease.
   */
  private readonly caching = new Map<string, string>();
  private sweptAt = 0;

  constructor(
    private now: () => number,
    private sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Tests turn the Worker's clock (the tenant object's has its own) and say how time passes. */
  useClock(now: () => number, sleep: (ms: number) => Promise<void>): void {
    this.now = now;
    this.sleep = sleep;
  }

  /**
   * The calls one lease covers: the same tenant, key, attribution, model and operation. `call`
   * is the call as read at the Worker's door (call/inbound.ts), so every call names its shape
   * one way.
   */
  static shape(
    call: { tenant: string; secret: string; requested: string; attribution: unknown },
    operation: string,
  ): string {
    return JSON.stringify([call.tenant, call.secret, operation, call.requested, call.attribution]);
  }

  /** Admits a call under a live lease of its shape, or null: the tenant object must. */
  admit(
    shape: string,
    operation: Ticket["operation"],
    need: CallEstimate,
    deterministic: boolean,
  ): LeasedAdmission | null {
    const now = this.now();
    this.sweep(now);
    const lease = this.leases.get(shape);
    if (!lease) return null;
    // The response cache lives in the tenant object: a call it may answer goes there.
    if (deterministic && lease.grant.cacheEnabled) return null;
    if (this.epochs.get(lease.tenant) !== lease.grant.epoch) this.retireNow(shape, lease, "stale");
    const took = spend(lease, need, now);
    if (lease.state.kind !== "live") this.retireNow(shape, lease, "exhausted");
    if (!took.ok) return null;
    const { grant } = lease;
    const renew =
      !this.asking.has(shape) &&
      (lease.started * 2 >= grant.slots || (lease.expiresAt - now) * 2 <= grant.ttlMs);
    return {
      grant,
      renew,
      ticket: {
        callId: crypto.randomUUID(),
        operation,
        admittedAt: now,
        reservationId: null,
        lease: grant.id,
        attribution: grant.attribution,
        route: grant.route,
        alias: grant.alias,
        rateWindow: grant.rateWindow,
        estimatedTokens: grant.slotTokens,
        probes: [],
      },
    };
  }

  /**
   * Asks the tenant object for a lease (with a call's admission, or alone to renew one), one
   * request per shape at a time (the calls of the shape wait for it), except the admissions of
   * deterministic calls of a caching shape, which bring no lease; the lease, if any, is
   * installed when it comes.
   */
  ask<T>(
    shape: string,
    tenant: string,
    request: () => Promise<T>,
    leaseOf: (answer: T) => LeaseGrant | null | undefined,
    deterministic = false,
  ): Promise<T> {
    const askedAt = this.now();
    let done: Promise<unknown> | null = null;
    // The shape stops waiting on this admission as its lease, if any, is installed.
    const over = () => {
      if (done && this.asking.get(shape) === done) this.asking.delete(shape);
    };
    const asked = request().then(
      (answer) => {
        over();
        const grant = leaseOf(answer);
        if (grant) this.granted(shape, tenant, grant, askedAt);
        return answer;
      },
      (error: unknown) => {
        over();
        throw error;
      },
    );
    if (this.cacheAnswers(shape, deterministic)) return asked;
    // What the shape's other calls wait on never rejects: a failed admission is its own call's
    // to answer, and a rejection no call waited for would be reported as unhandled.
    done = asked.catch(() => undefined);
    this.asking.set(shape, done);
    return asked;
  }

  /**
   * Waits for a lease already being asked for calls of this shape (false: none is, or none
   * would admit this call, a deterministic one the tenant's cache may answer).
   */
  async awaitAsked(shape: string, deterministic: boolean): Promise<boolean> {
    const asked = this.asking.get(shape);
    if (!asked || this.cacheAnswers(shape, deterministic)) return false;
    await asked;
    return true;
  }

  /** A lease the tenant object granted; `askedAt` is this clock before the Worker asked. */
  granted(shape: string, tenant: string, grant: LeaseGrant, askedAt: number): void {
    this.observe(tenant, grant.epoch);
    const before = this.leases.get(shape);
    if (before) this.retireNow(shape, before, "replaced");
    if (this.leases.size >= MAX_LEASES) {
      const [oldest, lease] = this.leases.entries().next().value!;
      this.retireNow(oldest, lease, "replaced");
    }
    this.leases.set(shape, openLease(tenant, grant, askedAt));
    this.cacheIs(shape, tenant, grant.cacheEnabled);
  }

  /** Whether the tenant's response cache answers deterministic calls of this shape. */
  cacheIs(shape: string, tenant: string, on: boolean): void {
    this.caching.delete(shape);
    if (!on) return;
    if (this.caching.size >= MAX_LEASES) this.caching.delete(this.caching.keys().next().value!);
    this.caching.set(shape, tenant);
  }

  /** A call of this shape goes to the tenant object's cache, as the isolate last heard. */
  private cacheAnswers(shape: string, deterministic: boolean): boolean {
    return deterministic && this.caching.has(shape);
  }

  /** The tenant object's epoch: leases from another one stop admitting calls. */
  observe(tenant: string, epoch: string): void {
    const before = this.epochs.get(tenant);
    if (before === epoch) return;
    this.epochs.set(tenant, epoch);
    // The configuration may have turned the cache off: learnt again from the next answers.
    if (before !== undefined)
      for (const [shape, of] of this.caching) if (of === tenant) this.caching.delete(shape);
    for (const [shape, lease] of this.leases)
      if (lease.tenant === tenant && lease.grant.epoch !== epoch)
        this.retireNow(shape, lease, "stale");
  }

  /**
   * Queues a call's settlement (and any closes) for the tenant's object. The request that opens
   * a batch sends it when the window ends (the promise, for its `waitUntil`, ends when the
   * batch has been taken); a request whose settlement joins an open batch gets a promise that
   * is already done; one that fills a batch sends it at once and gets that send. No
   * request waits on a promise another request made: the runtime cancels such waits once the
   * other request has answered ("cross-request promise resolution"), and with a window longer
   * than the gap between calls most batches outlive the answer of the request that opened
   * them. When every call of a batch awaited the batch's one promise, central's bundle run by
   * workerd alone logged that warning for a fifth of the calls at concurrency 8, and under
   * Miniflare a call of each run of 1,000 went unanswered, once for over five minutes
   * (test/central/gateway/lease/settlement.node.test.ts checks every call answered and settled
   * once).
   */
  settle(env: Stubs, tenant: string, request: SettleRequest | null): Promise<void> {
    let queue = this.pending.get(tenant);
    if (!queue) {
      queue = { settles: [], open: false };
      this.pending.set(tenant, queue);
    }
    if (request) queue.settles.push(request);
    if (queue.settles.length >= SETTLE_BATCH_MAX) return this.flush(env, tenant, queue);
    if (queue.open) return Promise.resolve();
    queue.open = true;
    return new Promise((resolve) => setTimeout(resolve, SETTLE_BATCH_MS)).then(() => {
      queue.open = false;
      return this.flush(env, tenant, queue);
    });
  }

  /**
   * Closes the shape's lease at its time, unless a call or a batch has by then: the request
   * that brought the grant waits for this (its `waitUntil`). Without it an isolate that serves
   * nothing more after a grant (traffic moved to other isolates, or stopped) would close the
   * lease only at its next request, and the unused slots would stay reserved against the budgets
   * for the reservations' hour and counted in the rate window until its minute ended, each such
   * lease holding up to a quarter of what was left. Test: leases.test.ts "closes the lease of an
   * isolate that serves nothing after it, at the lease's time".
   */
  async closeAtExpiry(env: Stubs, shape: string): Promise<void> {
    const lease = this.leases.get(shape);
    if (!lease) return;
    await this.sleep(Math.max(0, lease.expiresAt - this.now()));
    if (lease.state.kind === "live") {
      // A clock that did not reach the lease's time (a test's) leaves it to the next request.
      if (this.now() < lease.expiresAt) return;
      this.retireNow(shape, lease, "expired");
    }
    if (this.closing.has(lease.tenant)) await this.settle(env, lease.tenant, null);
  }

  /** Tenants with leases retired since their last batch (their closes should go soon). */
  closesDue(): string[] {
    return [...this.closing.keys()];
  }

  private async flush(env: Stubs, tenant: string, queue: Pending): Promise<void> {
    const settles = queue.settles.splice(0);
    const closes: LeaseClose[] = [];
    for (const lease of this.closing.get(tenant) ?? []) {
      const report = close(lease);
      if (report) closes.push(report);
    }
    this.closing.delete(tenant);
    if (!settles.length && !closes.length) return;
    // A failed RPC is sent again, to a new stub (one that failed may stay broken): the object
    // may have restarted (a deploy), and the batch is each call's only record of its spend and
    // its `model_call` event. The object settles each call once (tenant/settled-calls.ts), so a
    // batch it applied before the failure is not counted twice.
    for (let attempt = 0; ; attempt++) {
      try {
        const stub = env.TENANT.getByName(tenant);
        const { epoch } = await stub.gatewaySettleBatch({ settles, closes });
        this.observe(tenant, epoch);
        return;
      } catch (error) {
        const wait = SETTLE_RETRY_MS[attempt];
        if (wait === undefined) throw error;
        await this.sleep(wait);
      }
    }
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const [shape, lease] of this.leases)
      if (now >= lease.expiresAt) this.retireNow(shape, lease, "expired");
  }

  private retireNow(shape: string, lease: Lease, reason: Parameters<typeof retire>[1]): void {
    retire(lease, reason);
    if (this.leases.get(shape) === lease) this.leases.delete(shape);
    const list = this.closing.get(lease.tenant);
    if (list) {
      if (!list.includes(lease)) list.push(lease);
    } else this.closing.set(lease.tenant, [lease]);
  }
}

/** This isolate's leases. */
export const workerLeases = new WorkerLeases(() => Date.now());
