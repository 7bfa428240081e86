import { describe, expect, it } from "vitest";
import type { LeaseGrant } from "../../../../central/gateway/admission";
import { WorkerLeases } from "../../../../central/gateway/lease/worker-leases";
import { grant } from "./grant";

/**
 * Who waits for whose admission in one isolate: calls that find no lease wait for the one
 * being asked for their shape, unless no lease could admit them (a deterministic call the
 * tenant's response cache may answer), which ask the tenant object at once.
 */

/** The shape of a tenant's chat calls for a model, from one key with no attribution. */
const shapeOf = (tenant = "t", requested = "auto") =>
  WorkerLeases.shape({ tenant, secret: "s", requested, attribution: {} }, "chat");
const SHAPE = shapeOf();
const need = {
  documents: [],
  documentBound: 200_000,
  inputTokens: 10,
  outputTokens: 10,
  choices: 1,
};

/** A lease of 8 slots, from a tenant whose response cache is on or off. */
const grantOf = (cacheEnabled: boolean, id = "l1") => grant({ id, slots: 8, cacheEnabled });

/** An answer from the tenant object that the test gives when it chooses. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** What `waiting` gave once everything already due has run, or "pending". */
async function promptly<T>(waiting: Promise<T>): Promise<T | "pending"> {
  const tick = new Promise<"pending">((resolve) => setTimeout(resolve, 0, "pending"));
  return Promise.race([waiting, tick]);
}

/** Asks for a lease for `shape` with `answer` as the tenant object's (a grant, or none). */
const askWith = (
  leases: WorkerLeases,
  answer: Promise<LeaseGrant | null>,
  deterministic = false,
  shape = SHAPE,
) =>
  leases.ask(
    shape,
    "t",
    () => answer,
    (g) => g,
    deterministic,
  );

/** Leases with a first grant for SHAPE spent to its end, and the next admission in flight. */
async function withAdmissionInFlight(cacheEnabled: boolean) {
  const leases = new WorkerLeases(() => 1_000);
  await askWith(leases, Promise.resolve(grantOf(cacheEnabled)));
  while (leases.admit(SHAPE, "chat", need, false)) {}
  const next = deferred<LeaseGrant>();
  void askWith(leases, next.promise);
  return { leases, next };
}

describe("waiting for a lease being asked for", () => {
  it.each([
    ["a call", false],
    ["a deterministic call of a tenant that caches nothing (the lease will admit it)", true],
  ])(
    "%s waits for its shape's admission in flight, then runs under the lease it brings",
    async (_, deterministic) => {
      const { leases, next } = await withAdmissionInFlight(false);
      const waits = leases.awaitAsked(SHAPE, deterministic);
      expect(await promptly(waits)).toBe("pending");
      next.resolve(grantOf(false, "l2"));
      expect(await waits).toBe(true);
      expect(leases.admit(SHAPE, "chat", need, deterministic)?.grant.id).toBe("l2");
    },
  );

  it("a deterministic call of a caching tenant does not wait: no lease would admit it", async () => {
    const { leases, next } = await withAdmissionInFlight(true);
    expect(await promptly(leases.awaitAsked(SHAPE, true))).toBe(false);
    // Other calls of the shape still wait for the lease.
    expect(await promptly(leases.awaitAsked(SHAPE, false))).toBe("pending");
    next.resolve(grantOf(true, "l2"));
  });

  it("nobody waits for a deterministic call's admission when the tenant caches (it brings no lease)", async () => {
    const leases = new WorkerLeases(() => 1_000);
    await askWith(leases, Promise.resolve(grantOf(true)));
    const hit = deferred<null>();
    const asked = askWith(leases, hit.promise, true);
    expect(await promptly(leases.awaitAsked(SHAPE, false))).toBe(false);
    hit.resolve(null);
    await asked;
  });

  it("learns the cache from an admission without a lease: deterministic calls then stop waiting", async () => {
    const leases = new WorkerLeases(() => 1_000);
    const first = deferred<null>();
    const asked = askWith(leases, first.promise, true);
    // Nothing known yet: the next deterministic call waits for the first one's admission.
    const waits = leases.awaitAsked(SHAPE, true);
    expect(await promptly(waits)).toBe("pending");
    first.resolve(null);
    await asked;
    await waits;
    leases.cacheIs(SHAPE, "t", true); // what handle-call.ts does when the object keyed the call
    const next = deferred<null>();
    const again = askWith(leases, next.promise, true);
    expect(await promptly(leases.awaitAsked(SHAPE, true))).toBe(false);
    expect(await promptly(leases.awaitAsked(SHAPE, false))).toBe(false);
    next.resolve(null);
    await again;
  });

  it("forgets a tenant's cache when its epoch moves (the configuration may have turned it off)", async () => {
    const leases = new WorkerLeases(() => 1_000);
    leases.observe("t", "e1");
    leases.cacheIs(SHAPE, "t", true);
    const other = shapeOf("u");
    leases.cacheIs(other, "u", true);
    leases.observe("t", "e2");
    const inFlight = deferred<null>();
    void askWith(leases, inFlight.promise);
    expect(await promptly(leases.awaitAsked(SHAPE, true))).toBe("pending");
    void askWith(leases, inFlight.promise, false, other);
    expect(await promptly(leases.awaitAsked(other, true))).toBe(false);
    inFlight.resolve(null);
  });

  it("leaves a failed admission to its own call: nothing unhandled, and the shape's waiters go on", async () => {
    const unhandled: unknown[] = [];
    const record = (event: PromiseRejectionEvent) => unhandled.push(event.reason);
    addEventListener("unhandledrejection", record);
    try {
      const leases = new WorkerLeases(() => 1_000);
      const failing = deferred<null>();
      const asked = askWith(
        leases,
        failing.promise.then(() => {
          throw new Error("the tenant object is unreachable");
        }),
      );
      const waiting = leases.awaitAsked(SHAPE, false);
      failing.resolve(null);
      await expect(asked).rejects.toThrow("unreachable");
      expect(await waiting).toBe(true);
      // A failed renewal nobody waited for: its caller handles `asked`, and nothing else rejects.
      await expect(askWith(leases, Promise.reject(new Error("gone")))).rejects.toThrow("gone");
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      removeEventListener("unhandledrejection", record);
    }
  });

  it("remembers at most 1,024 caching shapes, the oldest out first", async () => {
    const leases = new WorkerLeases(() => 1_000);
    const shape = (i: number) => shapeOf("t", `m${i}`);
    for (let i = 0; i <= 1_024; i++) leases.cacheIs(shape(i), "t", true);
    const inFlight = deferred<null>();
    for (const i of [0, 1, 1_024]) void askWith(leases, inFlight.promise, false, shape(i));
    expect(await promptly(leases.awaitAsked(shape(0), true))).toBe("pending");
    expect(await promptly(leases.awaitAsked(shape(1), true))).toBe(false);
    expect(await promptly(leases.awaitAsked(shape(1_024), true))).toBe(false);
    inFlight.resolve(null);
  });

  it("remembers the tenant's cache past its lease, and forgets it when a grant says it is off", async () => {
    let now = 1_000;
    const leases = new WorkerLeases(() => now);
    await askWith(leases, Promise.resolve(grantOf(true)));
    now += 60_000; // the lease expired and is swept
    expect(leases.admit(SHAPE, "chat", need, false)).toBeNull();
    const off = deferred<LeaseGrant>();
    void askWith(leases, off.promise);
    expect(await promptly(leases.awaitAsked(SHAPE, true))).toBe(false);
    off.resolve(grantOf(false, "l2"));
    await leases.awaitAsked(SHAPE, false);
    while (leases.admit(SHAPE, "chat", need, false)) {}
    const next = deferred<LeaseGrant>();
    void askWith(leases, next.promise);
    expect(await promptly(leases.awaitAsked(SHAPE, true))).toBe("pending");
    next.resolve(grantOf(false, "l3"));
  });
});

/**
 * A request that brought a grant closes the lease at its time (`closeAtExpiry`), so an isolate
 * that serves nothing after it still gives the unused slots back.
 */
describe("closing a lease at its time", () => {
  function isolate(sleep: "turns the clock" | "stands", failures = 0) {
    let now = 1_000;
    let failing = failures;
    const batches: { settles: unknown[]; closes: { id: string; started: number }[] }[] = [];
    const waits: number[] = [];
    const env = {
      TENANT: {
        getByName: () => ({
          gatewaySettleBatch: async (batch: (typeof batches)[number]) => {
            batches.push(batch);
            if (failing-- > 0) throw new Error("Durable Object reset because its code was updated");
            return { epoch: "e1" };
          },
        }),
      },
    } as unknown as Pick<Env, "TENANT">;
    const leases = new WorkerLeases(
      () => now,
      async (ms) => {
        waits.push(ms);
        if (sleep === "turns the clock") now += ms;
      },
    );
    return { leases, env, batches, waits };
  }

  it("closes a lease no call retired, with the slots it started", async () => {
    const { leases, env, batches } = isolate("turns the clock");
    await askWith(leases, Promise.resolve(grantOf(false)));
    expect(leases.admit(SHAPE, "chat", need, false)).not.toBeNull();
    await leases.closeAtExpiry(env, SHAPE);
    expect(batches).toEqual([{ settles: [], closes: [{ id: "l1", started: 1 }] }]);
    expect(leases.admit(SHAPE, "chat", need, false)).toBeNull();
  });

  it("sends the close of a lease replaced before its time", async () => {
    const { leases, env, batches } = isolate("turns the clock");
    await askWith(leases, Promise.resolve(grantOf(false)));
    const closing = leases.closeAtExpiry(env, SHAPE);
    await askWith(leases, Promise.resolve(grantOf(false, "l2")));
    await closing;
    expect(batches.flatMap((b) => b.closes)).toEqual([{ id: "l1", started: 0 }]);
  });

  it("leaves a lease whose time the clock has not reached", async () => {
    const { leases, env, batches } = isolate("stands");
    await askWith(leases, Promise.resolve(grantOf(false)));
    await leases.closeAtExpiry(env, SHAPE);
    expect(batches).toEqual([]);
    expect(leases.admit(SHAPE, "chat", need, false)).not.toBeNull();
  });

  it("sends a batch again when its RPC fails, a few times, then gives up", async () => {
    const passes = isolate("turns the clock", 2);
    await askWith(passes.leases, Promise.resolve(grantOf(false)));
    await passes.leases.closeAtExpiry(passes.env, SHAPE);
    expect(passes.batches).toHaveLength(3);
    expect(new Set(passes.batches.map((b) => JSON.stringify(b))).size).toBe(1);
    const fails = isolate("turns the clock", 9);
    await askWith(fails.leases, Promise.resolve(grantOf(false)));
    await expect(fails.leases.closeAtExpiry(fails.env, SHAPE)).rejects.toThrow(/reset/);
    expect(fails.batches).toHaveLength(4);
    // The lease's own wait, then one before each new try.
    expect(fails.waits.slice(1)).toEqual([250, 1_000, 4_000]);
  });
});
