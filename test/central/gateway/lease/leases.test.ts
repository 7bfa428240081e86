import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { app } from "../../../../central/app";
import { readInbound } from "../../../../central/gateway/call/inbound";
import { WorkerLeases, workerLeases } from "../../../../central/gateway/lease/worker-leases";
import { LEASE_TTL_MS } from "../../../../central/gateway/tenant/leases";
import { type GatewayStatus, HEADERS, type StoredEvent } from "../../../../contract";
import { BOOTSTRAP_KEY, call, events, json, newKey, newTenant } from "../../support";

/**
 * Worker leases, end to end in workerd: model calls through the Worker (scripted providers, no
 * network), admitted under leases the tenant object grants, with their settlements batched.
 * The Worker's clock is turned forward here, as the tenant object's is in support.ts.
 */

let skew = 0;
// The time a request waits for before closing the lease it brought passes at once, and the
// clock stays: the lease stays live for the test's next calls (one test turns it forward).
const clock = () => Date.now() + skew;
const timeStands = async () => {};
workerLeases.useClock(clock, timeStands);
afterEach(() => {
  // A later test must not see leases this one left live.
  skew += LEASE_TTL_MS * 10;
});

const ANSWER = "x".repeat(400); // 100 tokens, as scripted answers count them

function provider(id: string, answer = ANSWER) {
  return { id, kind: "scripted", models: ["m"], script: [{ answer }] };
}

async function configure(admin: string, extra: Record<string, unknown> = {}) {
  return json(
    await call("PUT", "/v1/gateway/config", {
      key: admin,
      body: {
        providers: [provider("one"), provider("two", "y".repeat(400))],
        aliases: { auto: { candidates: ["one/m"] } },
        ...extra,
      },
    }),
    200,
  );
}

const workerEnv = { ...env, AURAISON_BOOTSTRAP_KEY: BOOTSTRAP_KEY };

function chatRequest(key: string, body: Record<string, unknown>): Request {
  return new Request("http://central/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "auto",
      max_tokens: 100,
      messages: [{ role: "user", content: "hello" }],
      ...body,
    }),
  });
}

/** A model call through the Worker; `settled` waits for its settlement (its `waitUntil`). */
async function chat(key: string, body: Record<string, unknown> = {}) {
  const ctx = createExecutionContext();
  const response = await app.fetch(chatRequest(key, body), workerEnv, ctx);
  const text = await response.text();
  return {
    status: response.status,
    text,
    admission: response.headers.get(HEADERS.admission),
    provider: response.headers.get(HEADERS.provider),
    cache: response.headers.get(HEADERS.cache),
    settled: () => waitOnExecutionContext(ctx),
  };
}

const status = async (admin: string) =>
  json<GatewayStatus>(await call("GET", "/v1/gateway/status", { key: admin }), 200);

const tenantBudget = async (admin: string) => (await status(admin)).budgets[0]!;

async function modelCalls(admin: string): Promise<StoredEvent[]> {
  return (await events(admin, "&kind=model_call")).events;
}

describe("gateway leases in the Worker", () => {
  it("admits calls after the first under a lease, with one model_call and exact spend per call", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin, { budgets: { tenant: { tokens: 1_000_000, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    const calls = [];
    for (let i = 0; i < 6; i++) {
      const done = await chat(operator);
      expect(done.status, done.text).toBe(200);
      calls.push(done);
    }
    await Promise.all(calls.map((c) => c.settled()));
    expect(calls.map((c) => c.admission)).toEqual([
      "tenant",
      "lease",
      "lease",
      "lease",
      "lease",
      "lease",
    ]);
    const logged = await modelCalls(admin);
    expect(logged).toHaveLength(6);
    const payloads = logged.map(
      (e) => e.payload as { call_id: string; input_tokens: number; output_tokens: number },
    );
    expect(new Set(payloads.map((p) => p.call_id)).size).toBe(6);
    const budget = await tenantBudget(admin);
    expect(budget.tokens_used).toBe(
      payloads.reduce((n, p) => n + p.input_tokens + p.output_tokens, 0),
    );
    // The lease's unstarted slots are still held for this Worker.
    expect(budget.tokens_reserved).toBeGreaterThan(0);
  });

  it("logs every call of a settlement batch once, in order, with the calls' metrics counted", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin, {});
    const operator = (await newKey(admin, "operator")).key;
    await (await chat(operator)).settled(); // the first call takes the lease
    // Concurrent calls settle within one batching window: one settlement RPC for several.
    const results = await Promise.all(Array.from({ length: 12 }, () => chat(operator)));
    await Promise.all(results.map((r) => r.settled()));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    const logged = await modelCalls(admin);
    expect(logged).toHaveLength(13);
    expect(new Set(logged.map((e) => (e.payload as { call_id: string }).call_id)).size).toBe(13);
    // The gateway's seq counts its events without gaps, in the log's order.
    expect(logged.map((e) => e.seq)).toEqual(logged.map((_, i) => logged[0]!.seq + i));
    const metrics = await (await call("GET", "/metrics", { key: admin })).text();
    expect(metrics).toMatch(/auraison_gateway_calls_total\{[^}]*outcome="ok"[^}]*\} 13\b/);
  });

  it("never lets concurrent calls spend past a token budget", async () => {
    const { admin } = await newTenant("lease");
    const limit = 20_000;
    await configure(admin, { budgets: { tenant: { tokens: limit, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    let ok = 0;
    let leased = 0;
    let refused = 0;
    for (let wave = 0; wave < 40; wave++) {
      const results = await Promise.all(Array.from({ length: 16 }, () => chat(operator)));
      await Promise.all(results.map((r) => r.settled()));
      for (const r of results) {
        if (r.status === 200) ok += 1;
        else {
          expect(JSON.parse(r.text).error.code).toBe("budget_exceeded");
          refused += 1;
        }
        if (r.admission === "lease") leased += 1;
      }
      const budget = await tenantBudget(admin);
      expect(budget.tokens_used + budget.tokens_reserved).toBeLessThanOrEqual(limit);
      if (results.every((r) => r.status !== 200)) break;
    }
    expect(leased).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const budget = await tenantBudget(admin);
    expect(budget.tokens_used).toBeLessThanOrEqual(limit);
    const logged = await modelCalls(admin);
    const spent = logged
      .map((e) => e.payload as { input_tokens: number; output_tokens: number })
      .reduce((n, p) => n + p.input_tokens + p.output_tokens, 0);
    expect(spent).toBe(budget.tokens_used);
    expect(
      logged.filter((e) => (e.payload as { error_type: string | null }).error_type === null),
    ).toHaveLength(ok);
  });

  it("refuses a revoked key once its lease is out of date, at the latest after the lease's time", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin);
    const operator = await newKey(admin, "operator");
    for (const admission of ["tenant", "lease"]) {
      const done = await chat(operator.key);
      expect(done.admission).toBe(admission);
      await done.settled();
    }
    await call("DELETE", `/v1/keys/${operator.id}`, { key: admin });
    // Without a word from the tenant object, the lease runs out at its time.
    skew += LEASE_TTL_MS;
    expect((await chat(operator.key)).status).toBe(401);
  });

  it("stops using a lease as soon as a settlement brings a newer epoch (key revoked)", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin);
    const operator = await newKey(admin, "operator");
    const other = (await newKey(admin, "operator")).key;
    await (await chat(operator.key)).settled();
    await call("DELETE", `/v1/keys/${operator.id}`, { key: admin });
    // Any settlement for the tenant answers its epoch: here another key's call.
    await (await chat(other)).settled();
    expect((await chat(operator.key)).status).toBe(401);
  });

  it("routes by a changed configuration once the epoch moves on", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin);
    const operator = (await newKey(admin, "operator")).key;
    for (let i = 0; i < 2; i++) {
      const done = await chat(operator);
      expect(done.provider).toBe("one");
      await done.settled();
    }
    await configure(admin, { aliases: { auto: { candidates: ["two/m"] } } });
    const stale = await chat(operator);
    await stale.settled();
    // At most the call already under way when the change came used the old route.
    const next = await chat(operator);
    expect(next.provider).toBe("two");
    expect(next.admission).toBe("tenant");
    await next.settled();
  });

  it("gives a lease's unused slots back when it expires", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin, { budgets: { tenant: { tokens: 1_000_000, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    for (let i = 0; i < 2; i++) await (await chat(operator)).settled();
    expect((await tenantBudget(admin)).tokens_reserved).toBeGreaterThan(0);
    skew += LEASE_TTL_MS;
    // Any call in this isolate finds the lease expired and closes it: here one another tenant makes.
    const elsewhere = await newTenant("lease");
    await configure(elsewhere.admin);
    await (await chat(elsewhere.admin)).settled();
    const budget = await tenantBudget(admin);
    expect(budget.tokens_reserved).toBe(0);
    expect((await modelCalls(admin)).length).toBe(2);
  });

  it("closes the lease of an isolate that serves nothing after it, at the lease's time", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin, {
      budgets: { tenant: { tokens: 1_000_000, period: "month" } },
      limits: { tenant: { requests_per_minute: 101 } },
    });
    const operator = (await newKey(admin, "operator")).key;
    // The wait for the lease's time turns the clock forward by as much.
    workerLeases.useClock(clock, async (ms) => {
      skew += ms;
    });
    try {
      const done = await chat(operator);
      expect(done.admission).toBe("tenant");
      await done.settled();
    } finally {
      workerLeases.useClock(clock, timeStands);
    }
    // No other request came: the granting call's own request closed the lease, none started.
    const after = await status(admin);
    expect(after.budgets[0]!.tokens_reserved).toBe(0);
    expect(after.rates[0]!.requests_last_minute).toBeCloseTo(1, 0);
    expect((await modelCalls(admin)).length).toBe(1);
  });

  it("leaves a call asking for several choices to the tenant object when a slot holds one", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin, { budgets: { tenant: { tokens: 1_000_000, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    await (await chat(operator)).settled(); // a lease of slots for 100 output tokens each
    expect((await chat(operator)).admission).toBe("lease");
    // Three choices may each take the 100.
    const several = await chat(operator, { n: 3 });
    expect(several.status, several.text).toBe(200);
    expect(several.admission).toBe("tenant");
    await several.settled();
  });

  it("leaves a call with a document to the tenant object, though it would fit a slot, and keeps the lease for the rest", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin);
    const operator = (await newKey(admin, "operator")).key;
    // Calls of 210,000 bytes: slots of 262,144 input tokens, room for a 200k document's bound.
    const large = { messages: [{ role: "user", content: "x".repeat(210_000) }] };
    await (await chat(operator, large)).settled();
    expect((await chat(operator, large)).admission).toBe("lease");
    // What a document may cost is for the tenant object to say (it knows the models' windows).
    const document = await chat(operator, {
      messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file-1" } }] }],
    });
    expect(document.status, document.text).toBe(200);
    expect(document.admission).toBe("tenant");
    await document.settled();
    expect((await chat(operator, large)).admission).toBe("lease");
  });

  it("sends every call to the tenant object near a budget's end (no lease would fit)", async () => {
    const { admin } = await newTenant("lease");
    // A slot holds 1,024 + 100 tokens; a quarter of 5,000 is not two of them.
    await configure(admin, { budgets: { tenant: { tokens: 5_000, period: "month" } } });
    const operator = (await newKey(admin, "operator")).key;
    for (let i = 0; i < 3; i++) {
      const done = await chat(operator);
      expect(done.status, done.text).toBe(200);
      expect(done.admission).toBe("tenant");
      await done.settled();
    }
    expect((await tenantBudget(admin)).tokens_reserved).toBe(0);
  });

  it("counts a lease's slots against the rate limits when granted and takes the unused back at close", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin, { limits: { tenant: { requests_per_minute: 101 } } });
    const operator = (await newKey(admin, "operator")).key;
    const requests = async () => (await status(admin)).rates[0]!.requests_last_minute;
    for (let i = 0; i < 3; i++) await (await chat(operator)).settled();
    // The first call, and a quarter of the 100 left after it held for the lease.
    expect(await requests()).toBeCloseTo(1 + 25, 0);
    skew += LEASE_TTL_MS;
    const elsewhere = await newTenant("lease");
    await configure(elsewhere.admin);
    await (await chat(elsewhere.admin)).settled();
    // Closed with 2 of its 25 slots started: the 23 others no longer count.
    expect(await requests()).toBeCloseTo(3, 0);
  });

  it("leaves deterministic calls to the tenant object when its response cache is on", async () => {
    const { admin } = await newTenant("lease");
    await configure(admin, { cache: { enabled: true } });
    const operator = (await newKey(admin, "operator")).key;
    const ask = async () => {
      const done = await chat(operator, {
        temperature: 0,
        max_tokens: undefined,
        messages: [{ role: "user", content: "same" }],
      });
      await done.settled();
      return done;
    };
    await (await chat(operator)).settled(); // a lease for this shape exists
    await ask();
    const second = await ask();
    expect(second.cache).toBe("hit");
    expect(second.admission).toBe("tenant");
  });

  it("learns from a deterministic call's admission that the cache answers its shape", async () => {
    const { tenant, admin } = await newTenant("lease");
    await configure(admin, { cache: { enabled: true } });
    const operator = (await newKey(admin, "operator")).key;
    const deterministic = { temperature: 0, max_tokens: undefined };
    // The shape of the calls made below, as the Worker reads them.
    const shape = WorkerLeases.shape(
      await readInbound(chatRequest(operator, deterministic), "chat", workerEnv),
      "chat",
    );
    // With an admission in flight for the shape, a call the isolate knows no lease would admit
    // does not wait for it.
    const waitsOnAdmission = async () => {
      let answer!: () => void;
      const inFlight = new Promise<null>((resolve) => {
        answer = () => resolve(null);
      });
      const asked = workerLeases.ask(
        shape,
        tenant,
        () => inFlight,
        () => null,
      );
      const tick = new Promise((resolve) => setTimeout(resolve, 0, true));
      const waits = await Promise.race([workerLeases.awaitAsked(shape, true), tick]);
      answer();
      await asked;
      return waits;
    };
    expect(await waitsOnAdmission()).toBe(true);
    // Only deterministic calls (no grant ever comes for them): the first admission teaches it.
    const done = await chat(operator, deterministic);
    await done.settled();
    expect(done.admission).toBe("tenant");
    expect(await waitsOnAdmission()).toBe(false);
  });
});
