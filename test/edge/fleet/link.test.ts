import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VERSION as PI_VERSION } from "@earendil-works/pi-coding-agent";
import { afterEach, describe, expect, it } from "vitest";
import { nowTs, uuidv7 } from "../../../contract";
import { EdgeAgent } from "../../../edge/agent";
import { parseModelRef } from "../../../edge/models/model-settings";
import { FAUX_MODEL, type FauxStep, fauxProvider } from "../helpers/faux";
import { intentFor } from "../helpers/intents";
import { makeApp, ofKind, type TestApp } from "../helpers/runtime";
import { wireServer } from "../helpers/wire-server";

type Server = Awaited<ReturnType<typeof wireServer>>;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function server(options: Parameters<typeof wireServer>[0] = {}) {
  const s = await wireServer(options);
  cleanup.push(s.close);
  return s;
}

async function agent(
  app: TestApp,
  central: Server | null,
  steps: FauxStep[],
  log: (line: string) => void = () => {},
) {
  const a = await EdgeAgent.start({
    app: "lab-notes",
    agentId: "host-1.lab-notes",
    tenant: "lab",
    stateDir: app.stateDir,
    workdir: app.workdir,
    appDir: app.dir,
    central: central && { url: central.url, key: "test-key" },
    models: { primary: parseModelRef(FAUX_MODEL), gateway: null, fallback: null, scripted: null },
    extensionFactories: [fauxProvider(steps)],
    drainTimeoutMs: 2_000,
    log,
  });
  cleanup.push(() => a.stop());
  return a;
}

function dispatch(central: Server, runId: string, intent: unknown, attempt = 1) {
  central.send({ type: "dispatch", run_id: runId, attempt, intent, ack_timeout_ms: 5_000 });
}

const skill = `---
name: sample-weigher
description: Weighs lab samples with the scale adapter. Use when asked for a sample's mass.
allowed-tools: lab_get_sample read
metadata:
  version: 1.2.0
---
# Sample weigher
Run ./weigh.sh <id>.
`;

describe("central link", () => {
  it("registers its app, skills and capabilities, then heartbeats", async () => {
    const central = await server({ heartbeatMs: 100 });
    const app = makeApp({
      appJson: { capabilities: ["scale", "gpu"], max_concurrency: 2 },
      skills: { "sample-weigher": skill },
    });
    await agent(app, central, []);
    await central.waitFor(() => central.received.filter((m) => m.type === "heartbeat").length >= 3);
    const hello = central.received[0]!;
    expect(hello.type).toBe("hello");
    if (hello.type !== "hello") return;
    expect(hello.registration).toMatchObject({
      agent_id: "host-1.lab-notes",
      app: "lab-notes",
      capabilities: ["scale", "gpu"],
      harness: { name: "pi", version: PI_VERSION },
      max_concurrency: 2,
      skills: [
        {
          name: "sample-weigher",
          app: "lab-notes",
          version: "1.2.0",
          tools: ["lab_get_sample", "read"],
        },
      ],
    });
    expect(central.received.find((m) => m.type === "heartbeat")).toMatchObject({
      status: "online",
      running: [],
      outbox_pending: 0,
    });
  });

  it("runs a dispatch: ack, claim, run, events delivered and acknowledged in order", async () => {
    const central = await server();
    const app = makeApp();
    const edge = await agent(app, central, [
      { tool: "bash", args: { command: "echo hi" } },
      { text: "hi back" },
    ]);
    await central.waitFor(() => edge.link!.connected);
    const runId = uuidv7();
    dispatch(central, runId, intentFor("say hi"), 2);
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === runId && e.kind === "run_completed"),
    );
    const types = central.received.map((m) => m.type);
    expect(types.indexOf("ack")).toBeLessThan(types.indexOf("claim"));
    const events = central.log().filter((e) => e.run_id === runId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.attempt === 2 && e.source === "edge" && e.tenant === "lab")).toBe(
      true,
    );
    expect(ofKind(events, "run_completed")[0]!.payload.result).toBe("hi back");
    await central.waitFor(() => edge.runtime.outbox.pending === 0);
    expect(edge.runtime.runs.get(runId)).toMatchObject({
      status: "completed",
      origin: "central",
      attempt: 2,
    });
  });

  it("refuses a malformed intent with a refuse and an error event, and keeps serving", async () => {
    const central = await server();
    const edge = await agent(makeApp(), central, [{ text: "fine" }]);
    await central.waitFor(() => edge.link!.connected);
    const bad = uuidv7();
    dispatch(central, bad, { type: "task", params: "not an object", targets: [] });
    await central.waitFor(() => central.received.some((m) => m.type === "refuse"));
    const refuse = central.received.find((m) => m.type === "refuse")!;
    expect(refuse).toMatchObject({ run_id: bad, attempt: 1, reason: "invalid_intent" });
    expect(refuse.type === "refuse" && refuse.message).toContain("intent_id");
    await central.waitFor(() => central.log().some((e) => e.run_id === bad));
    const error = central.log().find((e) => e.run_id === bad)!;
    expect(error).toMatchObject({ kind: "error", seq: 0, attempt: 1 });
    expect(error.kind === "error" && error.payload).toMatchObject({
      category: "invalid_intent",
      code: "invalid_intent",
      fatal: true,
    });
    expect(edge.runtime.runs.get(bad)).toBeUndefined();

    const good = uuidv7();
    dispatch(central, good, intentFor("still there?"));
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === good && e.kind === "run_completed"),
    );

    const elsewhere = uuidv7();
    dispatch(central, elsewhere, { ...intentFor("x"), targets: [{ app: "other-app" }] });
    await central.waitFor(() => central.received.filter((m) => m.type === "refuse").length === 2);
    expect(central.received.filter((m) => m.type === "refuse")[1]).toMatchObject({
      reason: "unsupported",
    });
  });

  it("continues a run central re-dispatches under a new attempt, in the same session", async () => {
    const central = await server();
    const edge = await agent(makeApp(), central, [
      { tool: "bash", args: { command: "sleep 1" } },
      { text: "done on attempt 2" },
    ]);
    await central.waitFor(() => edge.link!.connected);
    const runId = uuidv7();
    const intent = intentFor("sleep a bit");
    dispatch(central, runId, intent, 1);
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === runId && e.kind === "tool_call_started"),
    );
    dispatch(central, runId, intent, 2);
    await central.waitFor(() =>
      central
        .log()
        .some((e) => e.run_id === runId && e.attempt === 2 && e.kind === "run_completed"),
    );
    const second = central.log().filter((e) => e.run_id === runId && e.attempt === 2);
    expect(second.map((e) => e.seq)).toEqual(second.map((_, i) => i));
    const started = ofKind(second, "run_started")[0]!.payload;
    expect(started).toMatchObject({ attempt: 2, resumed: true });
    const first = central.log().filter((e) => e.run_id === runId && e.attempt === 1);
    expect(first.some((e) => e.kind === "run_completed")).toBe(false);
    expect(ofKind(first, "run_started")[0]!.payload.tree_ref.session_file).toBe(
      started.tree_ref.session_file,
    );
    expect(edge.runtime.runs.get(runId)).toMatchObject({ status: "completed", attempt: 2 });
  });

  const ACTING: FauxStep[] = [
    { tool: "bash", args: { command: "echo one >> effects.txt; sleep 30" } },
    { tool: "bash", args: { command: "echo two >> effects.txt" } },
    { text: "done after the lapse" },
  ];

  /** A run dispatched under a short lease that central (the wire server) does not renew. */
  async function lapsedRun(central: Server, app: TestApp) {
    const lines: string[] = [];
    const edge = await agent(app, central, ACTING, (line) => lines.push(line));
    await central.waitFor(() => edge.link!.connected);
    const runId = uuidv7();
    const intent = intentFor("act on the lab");
    dispatch(central, runId, intent, 1);
    await central.waitFor(
      () => lines.some((l) => l.includes("lease ran out")) && !edge.runtime.runs.isActive(runId),
    );
    expect(edge.runtime.runs.get(runId)).toMatchObject({ status: "running", attempt: 1 });
    expect(readFileSync(join(app.workdir, "effects.txt"), "utf8")).toBe("one\n");
    expect(central.log().some((e) => e.run_id === runId && e.kind === "run_completed")).toBe(false);
    return { edge, runId, intent };
  }

  async function completed(central: Server, runId: string, attempt: number) {
    await central.waitFor(() =>
      central
        .log()
        .some((e) => e.run_id === runId && e.attempt === attempt && e.kind === "run_completed"),
    );
  }

  it("stops a central run whose lease ran out unrenewed, and goes on with it when central dispatches it again", async () => {
    const central = await server({ leaseMs: 500 });
    const app = makeApp();
    const { edge, runId, intent } = await lapsedRun(central, app);
    central.setLeaseMs(60_000);
    dispatch(central, runId, intent, 2);
    await completed(central, runId, 2);
    expect(edge.runtime.runs.get(runId)).toMatchObject({
      status: "completed",
      attempt: 2,
      result: "done after the lapse",
    });
    expect(readFileSync(join(app.workdir, "effects.txt"), "utf8")).toBe("one\ntwo\n");
  });

  it("goes on with a run stopped at its lease's end when central renews the lease after all", async () => {
    const central = await server({ leaseMs: 500 });
    const app = makeApp();
    const { edge, runId } = await lapsedRun(central, app);
    central.send({
      type: "lease",
      run_id: runId,
      attempt: 1,
      lease_expires_at: nowTs(Date.now() + 60_000),
    });
    await completed(central, runId, 1);
    expect(edge.runtime.runs.get(runId)).toMatchObject({ status: "completed", attempt: 1 });
    expect(readFileSync(join(app.workdir, "effects.txt"), "utf8")).toBe("one\ntwo\n");
  });

  it("after a restart, waits for central to renew a lease that ran out while the agent was down", async () => {
    const central = await server({ leaseMs: 500 });
    const app = makeApp();
    const { edge, runId } = await lapsedRun(central, app);
    await edge.stop();
    expect(edge.runtime.runs.get(runId)?.lease_expires_at).not.toBeNull();
    // Central is away: the lease the record keeps has run out, so the run is not resumed.
    const offline = await agent(app, null, ACTING);
    expect(offline.runtime.runs.isActive(runId)).toBe(false);
    await offline.stop();
    // Nor is a run whose record has no lease at all (an attempt dispatched again, not claimed).
    const file = join(app.stateDir, "runs", `${runId}.json`);
    const kept = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...kept, lease_expires_at: null }));
    const unleased = await agent(app, null, ACTING);
    expect(unleased.runtime.runs.isActive(runId)).toBe(false);
    await unleased.stop();
    // Back with central, which renews the lease its hello names: the run goes on.
    central.setLeaseMs(60_000);
    central.setRenew(true);
    const back = await agent(app, central, ACTING);
    await completed(central, runId, 1);
    expect(back.runtime.runs.get(runId)).toMatchObject({
      status: "completed",
      result: "done after the lapse",
    });
    expect(readFileSync(join(app.workdir, "effects.txt"), "utf8")).toBe("one\ntwo\n");
  });

  it("after a restart with central away, stops a resumed run when the lease its record kept runs out", async () => {
    const central = await server({ leaseMs: 1_500 });
    const app = makeApp();
    const slow: FauxStep[] = [
      { tool: "bash", args: { command: "sleep 30" } },
      { tool: "bash", args: { command: "sleep 30" } },
      { text: "never" },
    ];
    const first = await agent(app, central, slow);
    await central.waitFor(() => first.link!.connected);
    const runId = uuidv7();
    dispatch(central, runId, intentFor("act on the lab"));
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === runId && e.kind === "tool_call_started"),
    );
    await first.forceStop();
    const kept = first.runtime.runs.get(runId)!.lease_expires_at!;
    expect(Date.parse(kept)).toBeGreaterThan(Date.now());
    await central.close();
    const lines: string[] = [];
    const alone = await agent(app, central, slow, (line) => lines.push(line));
    expect(alone.runtime.runs.isActive(runId)).toBe(true);
    await central.waitFor(
      () => lines.some((l) => l.includes("lease ran out")) && !alone.runtime.runs.isActive(runId),
      10_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(kept));
    expect(alone.runtime.runs.get(runId)?.status).toBe("running");
  });

  it("keeps a central run going while central renews its lease", async () => {
    const central = await server({ leaseMs: 400, heartbeatMs: 100, renew: true });
    const edge = await agent(makeApp(), central, [
      { tool: "bash", args: { command: "sleep 1.5" } },
      { text: "done under renewals" },
    ]);
    await central.waitFor(() => edge.link!.connected);
    const runId = uuidv7();
    dispatch(central, runId, intentFor("take a while"));
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === runId && e.kind === "run_completed"),
    );
    expect(central.received.some((m) => m.type === "heartbeat" && m.running.length > 0)).toBe(true);
    expect(edge.runtime.runs.get(runId)).toMatchObject({
      status: "completed",
      attempt: 1,
      result: "done under renewals",
    });
  });

  it("stops a run when central cancels it", async () => {
    const central = await server();
    const edge = await agent(makeApp(), central, [
      { tool: "bash", args: { command: "sleep 30" } },
      { text: "x" },
    ]);
    await central.waitFor(() => edge.link!.connected);
    const runId = uuidv7();
    dispatch(central, runId, intentFor("sleep"));
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === runId && e.kind === "tool_call_started"),
    );
    central.send({ type: "cancel", run_id: runId, reason: "operator cancelled" });
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === runId && e.kind === "run_cancelled"),
    );
    const cancelled = central.log().find((e) => e.run_id === runId && e.kind === "run_cancelled")!;
    expect(cancelled.kind === "run_cancelled" && cancelled.payload).toMatchObject({
      reason: "operator cancelled",
      by: "central",
    });
  });

  it("redelivers unacknowledged events after a dropped connection; central's log holds each once", async () => {
    const central = await server();
    const edge = await agent(makeApp(), central, [{ text: "done" }]);
    await central.waitFor(() => edge.link!.connected);
    central.holdAcks(true);
    const runId = uuidv7();
    dispatch(central, runId, intentFor("x"));
    // One batch goes out and is never acknowledged; the rest waits behind it.
    await central.waitFor(
      () =>
        edge.runtime.runs.get(runId)?.status === "completed" &&
        central.received.some((m) => m.type === "events"),
    );
    expect(edge.runtime.outbox.pending).toBeGreaterThan(0);
    expect(central.log().length).toBeGreaterThan(0);
    central.holdAcks(false);
    central.drop();
    await central.waitFor(() => central.connections === 2 && edge.runtime.outbox.pending === 0);
    const events = central.log().filter((e) => e.run_id === runId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    const sent = central.received
      .filter((m) => m.type === "events")
      .flatMap((m) => (m.type === "events" ? m.events : []));
    expect(sent.length).toBeGreaterThan(central.log().length);
  });

  it("keeps running through a central outage and delivers everything in order once central is back", async () => {
    let central = await server();
    const port = central.port;
    const edge = await agent(makeApp(), central, [
      { tool: "bash", args: { command: "sleep 1" } },
      { tool: "bash", args: { command: "echo after" } },
      { text: "survived the outage" },
    ]);
    await central.waitFor(() => edge.link!.connected);
    const runId = uuidv7();
    dispatch(central, runId, intentFor("work"));
    await central.waitFor(() =>
      central.log().some((e) => e.run_id === runId && e.kind === "tool_call_started"),
    );
    const beforeOutage = central.log().length;
    await central.close();
    cleanup.splice(cleanup.indexOf(central.close), 1);

    // Central is gone: the run finishes anyway, its events wait in the outbox.
    for (let i = 0; i < 300 && edge.runtime.runs.get(runId)?.status !== "completed"; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(edge.runtime.runs.get(runId)?.status).toBe("completed");
    expect(edge.runtime.outbox.pending).toBeGreaterThan(0);
    expect(edge.health().central.connected).toBe(false);

    central = await server({ port });
    await central.waitFor(() => edge.runtime.outbox.pending === 0, 30_000);
    const events = (await edge.runtime.eventsOf(runId)).map((e) => e.event_id);
    const delivered = central
      .log()
      .filter((e) => e.run_id === runId)
      .map((e) => e.event_id);
    // The new central got everything the old one had not acknowledged, in outbox order.
    expect(delivered).toEqual(events.slice(events.length - delivered.length));
    expect(beforeOutage + delivered.length).toBeGreaterThanOrEqual(events.length);
    const hello = central.received.find((m) => m.type === "hello");
    expect(hello?.type === "hello" && hello.holding).toEqual([]);
  }, 60_000);

  it("reports a refused key and keeps retrying with backoff", async () => {
    const central = await server({ key: "another-key" });
    const edge = await agent(makeApp(), central, []);
    for (let i = 0; i < 100 && !edge.link!.lastError; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(edge.link!.lastError).toMatch(/HTTP 401.*check the agent key/);
    expect(edge.health().central).toMatchObject({ connected: false });
    expect(central.connections).toBe(0);
  });

  it("drains and says goodbye on stop", async () => {
    const central = await server();
    const edge = await agent(makeApp(), central, []);
    await central.waitFor(() => edge.link!.connected);
    await edge.stop();
    await central.waitFor(() => central.received.some((m) => m.type === "goodbye"));
    const types = central.received.map((m) => m.type);
    expect(types.indexOf("drain")).toBeLessThan(types.indexOf("goodbye"));
    expect(central.received.find((m) => m.type === "goodbye")).toMatchObject({
      reason: "shutdown",
    });
  });
});
