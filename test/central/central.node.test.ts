import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse } from "../../cli/sse";
import { IntentAccepted, RunState, StoredEvent, uuidv7 } from "../../contract";
import { type CentralDev, createKey, createTenant, startCentralDev } from "../helpers/central-dev";
import { ScriptedAgent } from "../helpers/scripted-agent";

/** Central under `wrangler dev`: real sockets, real restarts. */
let central: CentralDev;

beforeAll(async () => {
  central = await startCentralDev();
}, 120_000);
afterAll(async () => {
  await central?.stop();
});

async function api<T>(
  method: string,
  path: string,
  key: string,
  body?: unknown,
  status = 200,
): Promise<T> {
  const response = await fetch(`${central.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Processes of a process group that are still running (zombies awaiting their reaper aside). */
function liveInGroup(pgid: number): string[] {
  const live: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z")
        live.push(stat.slice(0, stat.lastIndexOf(")") + 1));
    } catch {}
  }
  return live;
}

const until = async <T>(check: () => Promise<T | undefined>, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe("central under wrangler dev", () => {
  it("serves health and the OpenAPI document, and creates tenants only with the bootstrap key", async () => {
    expect(await (await fetch(`${central.url}/health`)).json()).toMatchObject({ ok: true });
    const doc = (await (await fetch(`${central.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toContain("/v1/agents/connect");
    const refused = await fetch(`${central.url}/v1/tenants`, {
      method: "POST",
      headers: { authorization: "Bearer not-the-key", "content-type": "application/json" },
      body: JSON.stringify({ tenant: "nope" }),
    });
    expect(refused.status).toBe(401);
    const admin = await createTenant(central.url, central.bootstrapKey, "node-basics");
    expect(admin.startsWith("aur_admin_node-basics_")).toBe(true);
    const big = await fetch(`${central.url}/v1/intents`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ targets: [{ app: "a" }], params: { prompt: "x".repeat(300_000) } }),
    });
    expect(big.status).toBe(413);
  });

  it("dispatches over a real WebSocket, streams the run over SSE and resumes at Last-Event-ID", async () => {
    const admin = await createTenant(central.url, central.bootstrapKey, "node-ws");
    const agentKey = await createKey(central.url, admin, "agent", "edge");
    const agent = await ScriptedAgent.connect(central.url, agentKey, "node-ws", "lab-1");
    const accepted = IntentAccepted.parse(
      await api(
        "POST",
        "/v1/intents",
        admin,
        { params: { prompt: "summarise" }, targets: [{ app: "lab-notes" }] },
        201,
      ),
    );
    const stream = await fetch(
      `${central.url}/v1/events/stream?run=${accepted.run.run_id}&after=0`,
      {
        headers: { authorization: `Bearer ${admin}` },
      },
    );
    const messages = readSse(stream.body!)[Symbol.asyncIterator]();
    const first = await messages.next();
    expect(StoredEvent.parse(JSON.parse(first.value!.data)).kind).toBe("run_dispatched");
    await messages.return?.(undefined);
    await agent.complete(await agent.next("dispatch"), "three notes summarised");
    const resumed = await fetch(`${central.url}/v1/events/stream?run=${accepted.run.run_id}`, {
      headers: { authorization: `Bearer ${admin}`, "last-event-id": first.value!.id! },
    });
    const kinds: string[] = [];
    for await (const message of readSse(resumed.body!)) {
      if (message.event !== "event") continue;
      kinds.push(JSON.parse(message.data).kind);
      if (kinds.length === 3) break;
    }
    expect(kinds).toEqual(["run_started", "message", "run_completed"]);
    expect(
      RunState.parse(await api("GET", `/v1/runs/${accepted.run.run_id}`, admin)),
    ).toMatchObject({ status: "completed", result: "three notes summarised" });
    await agent.close();
  });

  it("survives a restart: the running run, its lease and the log continue; the agent resumes what it holds", async () => {
    const admin = await createTenant(central.url, central.bootstrapKey, "node-restart");
    const agentKey = await createKey(central.url, admin, "agent", "edge");
    const agent = await ScriptedAgent.connect(central.url, agentKey, "node-restart", "lab-1");
    const accepted = IntentAccepted.parse(
      await api(
        "POST",
        "/v1/intents",
        admin,
        { params: { prompt: "long job" }, targets: [{ app: "lab-notes" }] },
        201,
      ),
    );
    const run = await agent.take(await agent.next("dispatch"));
    await agent.emit([
      agent.event("message", { role: "assistant", text: "half way", entry_id: "e1", turn: 1 }, run),
    ]);
    await central.restart();
    await until(async () => (agent.closed ? true : undefined));
    const back = await ScriptedAgent.connect(central.url, agentKey, "node-restart", "lab-1", {
      holding: [run],
    });
    expect(await back.next("lease")).toMatchObject({ run_id: run.run_id, attempt: 1 });
    await back.emit([
      back.event(
        "run_completed",
        {
          result: "done after restart",
          usage: { tokens_in: 1, tokens_out: 1, cost_usd: 0 },
          duration_ms: 9,
          tree_ref: null,
        },
        run,
      ),
    ]);
    expect(
      RunState.parse(await api("GET", `/v1/runs/${accepted.run.run_id}`, admin)),
    ).toMatchObject({ status: "completed", attempt: 1 });
    const log = await api<{ events: { cursor: number; kind: string }[] }>(
      "GET",
      `/v1/events?run=${run.run_id}`,
      admin,
    );
    expect(log.events.map((e) => e.kind)).toEqual(["run_dispatched", "message", "run_completed"]);
    expect(log.events.map((e) => e.cursor)).toEqual(
      [...log.events.map((e) => e.cursor)].sort((a, b) => a - b),
    );
    await back.close();
  }, 60_000);

  it("re-dispatches after a central outage outlived the lease, from the timer persisted before the outage", async () => {
    const admin = await createTenant(central.url, central.bootstrapKey, "node-outage");
    await api("PUT", "/v1/settings", admin, {
      heartbeat: { interval_ms: 1_000, offline_grace_ms: 60_000 },
      dispatch: { ack_timeout_ms: 1_000, lease_ms: 2_000 },
      retry: { max_attempts: 3, backoff: "fixed", base_delay_ms: 0 },
    });
    const agentKey = await createKey(central.url, admin, "agent", "edge");
    const lost = await ScriptedAgent.connect(central.url, agentKey, "node-outage", "lost-1");
    const accepted = IntentAccepted.parse(
      await api(
        "POST",
        "/v1/intents",
        admin,
        { params: { prompt: "x" }, targets: [{ app: "lab-notes" }] },
        201,
      ),
    );
    await lost.take(await lost.next("dispatch"));
    await central.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    await central.restart();
    const rescuer = await ScriptedAgent.connect(central.url, agentKey, "node-outage", "rescuer");
    const beat = setInterval(
      () => rescuer.send({ type: "heartbeat", status: "online", running: [], outbox_pending: 0 }),
      300,
    );
    const retry = await rescuer.next("dispatch", () => true, 15_000);
    clearInterval(beat);
    expect(retry).toMatchObject({ run_id: accepted.run.run_id, attempt: 2 });
    const expired = await api<{ events: { payload: { agent_id: string } }[] }>(
      "GET",
      `/v1/events?run=${accepted.run.run_id}&kind=lease_expired`,
      admin,
    );
    expect(expired.events[0]!.payload.agent_id).toBe("lost-1");
    await rescuer.close();
  }, 60_000);

  it("ingests events over HTTP with an agent key, deduplicating a resend", async () => {
    const admin = await createTenant(central.url, central.bootstrapKey, "node-http");
    const agentKey = await createKey(central.url, admin, "agent", "edge");
    const events = [1, 2, 3].map((seq) => ({
      event_id: uuidv7(),
      tenant: "node-http",
      run_id: null,
      agent_id: "offline-host",
      source: "edge",
      seq,
      kind: "error",
      payload: {
        category: "infrastructure",
        code: "central_unreachable",
        message: "buffered while offline",
        fatal: false,
      },
      ts: new Date().toISOString(),
    }));
    expect(await api("POST", "/v1/events", agentKey, { events })).toEqual({
      stored: 3,
      duplicates: 0,
      rejected: [],
    });
    expect(await api("POST", "/v1/events", agentKey, { events })).toEqual({
      stored: 0,
      duplicates: 3,
      rejected: [],
    });
    const forged = await fetch(`${central.url}/v1/events`, {
      method: "POST",
      headers: {
        authorization: `Bearer aur_agent_node-http_${"F".repeat(43)}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ events }),
    });
    expect(forged.status).toBe(401);
  });

  it("stops its whole process group (wrangler and workerd) and frees the port", async () => {
    const pgid = central.pid()!;
    await central.stop();
    expect(central.pid()).toBeNull();
    expect(liveInGroup(pgid)).toEqual([]);
    await expect(fetch(`${central.url}/health`)).rejects.toThrow();
  });
});
