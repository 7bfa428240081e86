import { describe, expect, it } from "vitest";
import { IngestResult, uuidv7 } from "../../../contract";
import {
  call,
  connectAgent,
  events,
  json,
  newKey,
  newTenant,
  runState,
  submit,
  usage,
} from "../support";

function heartbeatEvent(tenant: string, agentId: string, extra: Record<string, unknown> = {}) {
  return {
    event_id: uuidv7(),
    tenant,
    run_id: null,
    agent_id: agentId,
    source: "edge",
    seq: 0,
    kind: "heartbeat",
    payload: { status: "online", running: [], outbox_pending: 0, load: null },
    ts: new Date().toISOString(),
    ...extra,
  };
}

describe("event ingest", () => {
  it("validates each event on its own: bad ones are reported with field paths, the rest stored", async () => {
    const { tenant, admin } = await newTenant("ev");
    const agentKey = (await newKey(admin, "agent")).key;
    const good = heartbeatEvent(tenant, "edge-1");
    const batch = [
      good,
      { ...heartbeatEvent(tenant, "edge-1"), kind: "teleported" },
      {
        ...heartbeatEvent(tenant, "edge-1"),
        payload: { status: "sleepy", running: [], outbox_pending: 0, load: null },
      },
      { ...heartbeatEvent(tenant, "edge-1"), seq: "one" },
      "not even an object",
      heartbeatEvent("someone-else", "edge-1"),
      heartbeatEvent(tenant, "central", { source: "central" }),
      heartbeatEvent(tenant, "edge-1", { event_id: "01000000-0000-7000-8000-000000000000" }),
    ];
    const result = IngestResult.parse(
      await json(await call("POST", "/v1/events", { key: agentKey, body: { events: batch } }), 200),
    );
    expect(result.stored).toBe(1);
    expect(result.duplicates).toBe(0);
    expect(result.rejected.map((r) => [r.index, r.issues[0]!.path])).toEqual([
      [1, "kind"],
      [2, "payload.status"],
      [3, "seq"],
      [4, "$"],
      [5, "tenant"],
      [6, "source"],
      [7, "event_id"],
    ]);
    expect(result.rejected[0]!.event_id).toBe((batch[1] as { event_id: string }).event_id);
    const log = await events(admin);
    expect(log.events.map((e) => e.event_id)).toEqual([good.event_id]);
  });

  it("deduplicates by event_id: a resent batch changes nothing", async () => {
    const { tenant, admin } = await newTenant("ev");
    const agentKey = (await newKey(admin, "agent")).key;
    const batch = [heartbeatEvent(tenant, "edge-1"), heartbeatEvent(tenant, "edge-1")];
    const first = IngestResult.parse(
      await json(await call("POST", "/v1/events", { key: agentKey, body: { events: batch } }), 200),
    );
    const again = IngestResult.parse(
      await json(
        await call("POST", "/v1/events", { key: agentKey, body: { events: [...batch, batch[0]] } }),
        200,
      ),
    );
    expect(first).toMatchObject({ stored: 2, duplicates: 0 });
    expect(again).toMatchObject({ stored: 0, duplicates: 3 });
    const log = await events(admin);
    expect(log.events.map((e) => e.cursor)).toEqual([1, 2]);
  });

  it("assigns a tenant-wide increasing cursor across agents and central", async () => {
    const { tenant, admin } = await newTenant("ev");
    const agentKey = (await newKey(admin, "agent")).key;
    const a = await connectAgent(agentKey, tenant, "a");
    const b = await connectAgent(agentKey, tenant, "b");
    await a.emit([
      a.event("heartbeat", { status: "online", running: [], outbox_pending: 0, load: null }),
    ]);
    await submit(admin, { targets: [{ agent_id: "b" }] });
    await b.emit([
      b.event("heartbeat", { status: "online", running: [], outbox_pending: 0, load: null }),
    ]);
    const log = await events(admin);
    expect(log.events.map((e) => [e.cursor, e.agent_id])).toEqual([
      [1, "a"],
      [2, "central"],
      [3, "b"],
    ]);
    const page = await events(admin, "&after=1&limit=1");
    expect(page).toMatchObject({ next_cursor: 2, has_more: true });
  });

  it("acks over the WebSocket what is durable, and refuses events an agent sends for another agent", async () => {
    const { tenant, admin } = await newTenant("ev");
    const agentKey = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(agentKey, tenant, "mine");
    const own = agent.event("heartbeat", {
      status: "online",
      running: [],
      outbox_pending: 0,
      load: null,
    });
    const forged = { ...own, event_id: uuidv7(), agent_id: "someone-else" };
    const ack = await agent.emit([own, forged], "batch-7");
    expect(ack).toMatchObject({ batch_id: "batch-7", stored: [own.event_id], duplicates: 0 });
    expect(ack.rejected[0]).toMatchObject({ index: 1, issues: [{ path: "agent_id" }] });
    const resent = await agent.emit([own], "batch-7-again");
    expect(resent).toMatchObject({ stored: [own.event_id], duplicates: 1 });
  });

  it("limits app-scoped agent keys to events of their app's agents", async () => {
    const { tenant, admin } = await newTenant("ev");
    const scoped = (await newKey(admin, "agent", "lab-notes")).key;
    await connectAgent(scoped, tenant, "notes-agent", { app: "lab-notes" });
    const result = IngestResult.parse(
      await json(
        await call("POST", "/v1/events", {
          key: scoped,
          body: {
            events: [heartbeatEvent(tenant, "notes-agent"), heartbeatEvent(tenant, "robot-agent")],
          },
        }),
        200,
      ),
    );
    expect(result.stored).toBe(1);
    expect(result.rejected[0]).toMatchObject({ index: 1, issues: [{ path: "agent_id" }] });
  });

  it("refuses what only central emits, and reports on a run from an agent it was never given", async () => {
    const { tenant, admin } = await newTenant("ev");
    const keyA = (await newKey(admin, "agent", "lab-a")).key;
    const keyB = (await newKey(admin, "agent", "lab-b")).key;
    const a1 = await connectAgent(keyA, tenant, "a1", { app: "lab-a" });
    const b1 = await connectAgent(keyB, tenant, "b1", { app: "lab-b" });
    const queued = await submit(admin, { type: "task", targets: [{ app: "lab-c" }] });
    const waiting = { run_id: queued.run.run_id, attempt: 1 };
    // b1 dispatches a queued run of another app to itself: refused, the run stays queued.
    const dispatch = b1.event(
      "run_dispatched",
      {
        intent_id: queued.intent.intent_id,
        agent_id: "b1",
        app: "lab-b",
        attempt: 1,
        ack_deadline: new Date(Date.now() + 30_000).toISOString(),
      },
      waiting,
    );
    const refused = await b1.emit([dispatch]);
    expect(refused.rejected[0]).toMatchObject({ index: 0, issues: [{ path: "kind" }] });
    b1.send({ type: "claim", ...waiting });
    expect(await b1.next("claim_rejected")).toMatchObject({ run_id: waiting.run_id });
    expect((await runState(admin, waiting.run_id)).status).toBe("pending");

    // b1 ends a1's run, over its socket and over HTTP: refused, the run goes on.
    const accepted = await submit(admin, { type: "task", targets: [{ app: "lab-a" }] });
    const run = await a1.take(await a1.next("dispatch"));
    const completed = b1.event(
      "run_completed",
      { result: "forged", usage: usage(), duration_ms: 1, tree_ref: null },
      run,
    );
    const cancelled = b1.event(
      "run_cancelled",
      { reason: "forged", by: "b1", usage: usage(), tree_ref: null },
      run,
    );
    expect((await b1.emit([completed])).rejected[0]).toMatchObject({
      issues: [{ path: "agent_id", message: `run ${run.run_id} was never given to b1` }],
    });
    const viaHttp = IngestResult.parse(
      await json(
        await call("POST", "/v1/events", { key: keyB, body: { events: [cancelled] } }),
        200,
      ),
    );
    expect(viaHttp).toMatchObject({ stored: 0, rejected: [{ issues: [{ path: "agent_id" }] }] });
    expect(await runState(admin, accepted.run.run_id)).toMatchObject({
      status: "running",
      agent_id: "a1",
      result: null,
    });
    const log = await events(admin, `&run=${accepted.run.run_id}`);
    expect(log.events.map((e) => [e.kind, e.agent_id])).toEqual([["run_dispatched", "central"]]);
  });

  it("keeps secrets out of the log: secret-looking values and secret-named fields are redacted", async () => {
    const { tenant, admin } = await newTenant("ev");
    const agentKey = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(agentKey, tenant, "leaky");
    const accepted = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const run = await agent.take(await agent.next("dispatch"));
    const openai = `sk-proj-${"a1B2".repeat(10)}`;
    await agent.emit([
      agent.event(
        "tool_call_started",
        {
          tool_call_id: "call_sk-1",
          tool: "http.get",
          arguments: JSON.stringify({
            url: "https://api.example.com",
            headers: { Authorization: `Bearer ${"t0k3n".repeat(8)}` },
            api_key: "hunter2hunter2",
          }),
          args_digest: "0123456789abcdef",
        },
        run,
      ),
      agent.event(
        "error",
        {
          category: "tool",
          code: "http_401",
          message: `rejected key ${openai} and ${agentKey}`,
          fatal: false,
          detail: {
            password: "correct horse",
            token: 12345,
            tokens_in: 7,
            token_count: 3,
            aws: "AKIAABCDEFGHIJKLMNOP",
            jwt: `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${"s".repeat(20)}`,
          },
        },
        run,
      ),
      agent.event(
        "run_completed",
        { result: `done; key was ${openai}`, usage: usage(1, 1), duration_ms: 1, tree_ref: null },
        run,
      ),
    ]);
    const log = JSON.stringify(await events(admin, `&run=${accepted.run.run_id}`));
    for (const secret of [
      openai,
      agentKey,
      "hunter2hunter2",
      "correct horse",
      "t0k3nt0k3n",
      "AKIAABCDEFGHIJKLMNOP",
      "eyJhbGciOiJIUzI1NiJ9",
    ])
      expect(log, secret).not.toContain(secret);
    expect(log).toContain("call_sk-1");
    expect(log).toContain('"tokens_in":7');
    expect(log).toContain('"token_count":3');
    expect(log).toContain("[REDACTED]");
    expect(
      JSON.stringify(
        await json(await call("GET", `/v1/runs/${accepted.run.run_id}`, { key: admin }), 200),
      ),
    ).not.toContain(openai);
  });
});

describe("intent params", () => {
  it("are redacted before they are stored, echoed or dispatched", async () => {
    const { admin } = await newTenant();
    const token = `glpat-${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
    const accepted = await json<{ intent: { intent_id: string; params: Record<string, unknown> } }>(
      await call("POST", "/v1/intents", {
        key: admin,
        body: {
          targets: [{ app: "nobody" }],
          params: { prompt: `clone with ${token}`, api_key: "x" },
        },
      }),
      201,
    );
    expect(JSON.stringify(accepted)).not.toContain(token);
    expect(accepted.intent.params).toEqual({
      prompt: "clone with [REDACTED]",
      api_key: "[REDACTED]",
    });
  });
});
