import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentEvent,
  CentralClient,
  EventsPage,
  IntentAccepted,
  RunState,
  type StoredEvent,
} from "../../../contract";
import { EdgeAgent } from "../../../edge/agent";
import { parseModelRef } from "../../../edge/models/model-settings";
import { STANDALONE_TENANT } from "../../../edge/runtime";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { runCli } from "../../helpers/cli";
import { type EdgeProcess, readOutbox, startEdge, until } from "../helpers/edge-process";
import { FAUX_MODEL, type FauxStep, fauxProvider } from "../helpers/faux";
import { makeApp, ofKind, openRuntime, runTask, type TestApp } from "../helpers/runtime";

/** The edge against the real central under `wrangler dev`. */
let central: CentralDev;
let tenants = 0;
beforeAll(async () => {
  central = await startCentralDev();
}, 120_000);
afterAll(async () => {
  await central?.stop();
});

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function tenant() {
  const name = `edge-it-${++tenants}`;
  const admin = await createTenant(central.url, central.bootstrapKey, name);
  const agentKey = await createKey(central.url, admin, "agent", "lab-host", "lab-notes");
  return { name, admin, agentKey, client: new CentralClient({ url: central.url, key: admin }) };
}

async function agent(app: TestApp, key: string, steps: FauxStep[]) {
  const edge = await EdgeAgent.start({
    app: "lab-notes",
    agentId: "host-1.lab-notes",
    tenant: "ignored",
    stateDir: app.stateDir,
    workdir: app.workdir,
    appDir: app.dir,
    central: { url: central.url, key },
    models: { primary: parseModelRef(FAUX_MODEL), gateway: null, fallback: null, scripted: null },
    extensionFactories: [fauxProvider(steps)],
    drainTimeoutMs: 5_000,
    log: () => {},
  });
  cleanup.push(() => edge.stop());
  await until(() => edge.link!.connected);
  return edge;
}

async function submit(client: CentralClient, prompt: string) {
  return client.request("POST", "/v1/intents", IntentAccepted, {
    params: { prompt },
    targets: [{ app: "lab-notes" }],
  });
}

async function runOf(client: CentralClient, runId: string) {
  return client.request("GET", `/v1/runs/${runId}`, RunState);
}

async function settled(client: CentralClient, runId: string, timeoutMs = 60_000) {
  return until(async () => {
    const run = await runOf(client, runId);
    return ["completed", "failed", "cancelled"].includes(run.status) ? run : null;
  }, timeoutMs);
}

async function logOf(client: CentralClient, runId: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await client.request(
      "GET",
      `/v1/events?run=${runId}&after=${after}&limit=500`,
      EventsPage,
    );
    events.push(...(page.events as StoredEvent[]));
    if (!page.has_more) return events;
    after = page.next_cursor;
  }
}

/** Central's log holds exactly the edge's events of the run, once each, in seq order. */
function expectSameLog(outbox: AgentEvent[], log: StoredEvent[]) {
  const fromEdge = log.filter((e) => e.source === "edge");
  expect(fromEdge.map((e) => e.event_id).sort()).toEqual(outbox.map((e) => e.event_id).sort());
  expect(new Set(fromEdge.map((e) => e.event_id)).size).toBe(fromEdge.length);
  const byAttempt = (events: AgentEvent[]) =>
    events
      .map((e) => `${e.attempt}/${e.seq}`)
      .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  expect(byAttempt(fromEdge)).toEqual(byAttempt(outbox));
}

describe("edge with the real central", { timeout: 180_000 }, () => {
  it("takes a dispatch (ack, claim), runs it, and central's log and run state match the outbox", async () => {
    const t = await tenant();
    const app = makeApp();
    const edge = await agent(app, t.agentKey, [
      { tool: "bash", args: { command: "echo hi" } },
      { text: "hello central" },
    ]);
    const accepted = await submit(t.client, "say hi");
    const run = await settled(t.client, accepted.run.run_id);
    expect(run).toMatchObject({
      status: "completed",
      agent_id: "host-1.lab-notes",
      result: "hello central",
    });
    await until(() => edge.runtime.outbox.pending === 0);
    const outbox = await edge.runtime.eventsOf(run.run_id);
    const log = await logOf(t.client, run.run_id);
    expectSameLog(outbox, log);
    expect(log[0]).toMatchObject({ kind: "run_dispatched", source: "central" });
    expect(run.tree_ref).toEqual(ofKind(outbox, "run_completed")[0]!.payload.tree_ref);
    expect(run.usage.model_calls).toBe(2);
  });

  it("stops a run central cancels", async () => {
    const t = await tenant();
    const edge = await agent(makeApp(), t.agentKey, [
      { tool: "bash", args: { command: "sleep 60" } },
      { text: "never" },
    ]);
    const accepted = await submit(t.client, "sleep");
    await until(async () =>
      (await edge.runtime.eventsOf(accepted.run.run_id)).some(
        (e) => e.kind === "tool_call_started",
      ),
    );
    await t.client.request("POST", `/v1/runs/${accepted.run.run_id}/cancel`, RunState, {
      reason: "enough",
    });
    await until(() => edge.runtime.runs.get(accepted.run.run_id)?.status === "cancelled");
    const run = await settled(t.client, accepted.run.run_id);
    expect(run.status).toBe("cancelled");
    const cancelled = ofKind(await edge.runtime.eventsOf(run.run_id), "run_cancelled")[0]!;
    expect(cancelled.payload.by).toBe("central");
  });

  it("keeps running while central is down and replays the outbox in order when it is back", async () => {
    const t = await tenant();
    const edge = await agent(makeApp(), t.agentKey, [
      { tool: "bash", args: { command: "sleep 2" } },
      { tool: "bash", args: { command: "echo after the outage" } },
      { text: "done without central" },
    ]);
    const accepted = await submit(t.client, "work through an outage");
    const runId = accepted.run.run_id;
    await until(async () =>
      (await edge.runtime.eventsOf(runId)).some((e) => e.kind === "tool_call_started"),
    );
    await central.stop();
    await until(() => edge.runtime.runs.get(runId)?.status === "completed", 30_000);
    expect(edge.runtime.outbox.pending).toBeGreaterThan(0);
    expect(edge.health().central.connected).toBe(false);
    await central.restart();
    await until(() => edge.runtime.outbox.pending === 0, 60_000);
    const run = await settled(t.client, runId);
    expect(run).toMatchObject({ status: "completed", result: "done without central" });
    expectSameLog(await edge.runtime.eventsOf(runId), await logOf(t.client, runId));
  });

  it("delivers what the agent ran on its own to the central it connects to later, under that central's tenant", async () => {
    const t = await tenant();
    const app = makeApp();
    const alone = await openRuntime(app, [{ text: "done with no central" }], {
      tenant: STANDALONE_TENANT,
    });
    const { record, events } = await runTask(alone, "work alone");
    await alone.close();
    expect(record.status).toBe("completed");
    expect(new Set(events.map((e) => e.tenant))).toEqual(new Set([STANDALONE_TENANT]));

    const edge = await agent(app, t.agentKey, []);
    await until(() => edge.runtime.outbox.pending === 0, 60_000);
    expect(edge.health().outbox.rejected).toBe(0);
    const run = await settled(t.client, record.run_id);
    expect(run).toMatchObject({ status: "completed", result: "done with no central" });
    const log = await logOf(t.client, record.run_id);
    expectSameLog(events, log);
    expect(new Set(log.map((e) => e.tenant))).toEqual(new Set([t.name]));
  });

  it("loses nothing when the edge is SIGKILLed mid-run: after a restart central's log equals the outbox", async () => {
    const t = await tenant();
    const app = makeApp();
    const steps: FauxStep[] = [
      { tool: "bash", args: { command: "echo one >> log.txt" } },
      { tool: "bash", args: { command: "echo two >> log.txt; sleep 60" } },
      { text: "finished after a restart" },
    ];
    const args = ["--central", central.url, "--key", t.agentKey];
    let edge: EdgeProcess = await startEdge(app, steps, args);
    cleanup.push(() => (edge.child.exitCode === null ? edge.signal("SIGKILL") : Promise.resolve()));
    await until(async () => (await edge.client.health()).central.connected);
    const accepted = await submit(t.client, "log and sleep");
    const logFile = join(app.workdir, "log.txt");
    await until(() => existsSync(logFile) && readFileSync(logFile, "utf8").includes("two"), 60_000);
    await edge.signal("SIGKILL");
    edge = await startEdge(app, steps, args);
    const run = await settled(t.client, accepted.run.run_id, 90_000);
    expect(run).toMatchObject({
      status: "completed",
      result: "finished after a restart",
      attempt: 1,
    });
    await until(async () => (await edge.client.health()).outbox.pending === 0, 30_000);
    const outbox = readOutbox(app.stateDir).filter((e) => e.run_id === run.run_id);
    expect(ofKind(outbox, "run_started").map((e) => e.payload.resumed)).toEqual([false, true]);
    expectSameLog(outbox, await logOf(t.client, run.run_id));
  });

  it("forks a run through `auraison runs fork`, on the agent that holds its session", async () => {
    const t = await tenant();
    const edge = await agent(makeApp(), t.agentKey, [
      { tool: "write", args: { path: "a.txt", content: "A" } },
      { tool: "write", args: { path: "b.txt", content: "B" } },
      { text: "wrote both" },
    ]);
    const source = await settled(t.client, (await submit(t.client, "write files")).run.run_id);
    const entry = ofKind(await edge.runtime.eventsOf(source.run_id), "message").filter(
      (e) => e.payload.role === "tool",
    )[0]!.payload.entry_id!;
    const forked = await runCli(
      [
        "runs",
        "fork",
        source.run_id,
        "--at",
        entry,
        "--central",
        central.url,
        "--key",
        t.admin,
        "--json",
      ],
      { timeoutMs: 60_000 },
    );
    expect(forked.code, forked.stderr).toBe(0);
    const accepted = IntentAccepted.parse(JSON.parse(forked.stdout));
    expect(accepted.intent.fork_of).toEqual({ run_id: source.run_id, entry_id: entry });
    const run = await settled(t.client, accepted.run.run_id);
    expect(run).toMatchObject({
      status: "completed",
      agent_id: "host-1.lab-notes",
      result: "wrote both",
    });
    const started = ofKind(await edge.runtime.eventsOf(run.run_id), "run_started")[0]!.payload;
    expect(started.forked_from).toEqual({ run_id: source.run_id, entry_id: entry });
    const writes = ofKind(await edge.runtime.eventsOf(run.run_id), "tool_call_started").map(
      (e) => JSON.parse(e.payload.arguments).path,
    );
    expect(writes).toEqual(["b.txt"]);
  });
});
