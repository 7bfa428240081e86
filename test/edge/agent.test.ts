import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AgentEvent } from "../../contract";
import { type EdgeProcess, readOutbox, startEdge, until } from "./helpers/edge-process";
import type { FauxStep } from "./helpers/faux";
import { makeApp, ofKind } from "./helpers/runtime";

const running: EdgeProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) await p.signal("SIGKILL");
});

async function start(...args: Parameters<typeof startEdge>) {
  const edge = await startEdge(...args);
  running.push(edge);
  return edge;
}

/** Events per run and attempt must be numbered 0..n with no gap and no repeat. */
function expectGapless(events: AgentEvent[]) {
  const ids = new Set(events.map((e) => e.event_id));
  expect(ids.size).toBe(events.length);
  const byRun = new Map<string, number[]>();
  for (const e of events) {
    const key = `${e.run_id}/${e.attempt}`;
    byRun.set(key, [...(byRun.get(key) ?? []), e.seq]);
  }
  for (const [key, seqs] of byRun) expect(seqs, key).toEqual(seqs.map((_, i) => i));
  for (const e of events) AgentEvent.parse(e);
}

function logged(workdir: string): string {
  const file = join(workdir, "log.txt");
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

const logging: FauxStep[] = [
  { tool: "bash", args: { command: "echo one >> log.txt" } },
  { tool: "bash", args: { command: "echo two >> log.txt; sleep 60" } },
  { tool: "bash", args: { command: "echo three >> log.txt" } },
  { text: "three lines logged" },
];

describe("edge start", { timeout: 120_000 }, () => {
  it("serves runs over its local socket and shuts down cleanly on SIGTERM", async () => {
    const app = makeApp();
    const edge = await start(app, [
      { tool: "bash", args: { command: "echo hi" } },
      { text: "said hi" },
    ]);
    const health = await edge.client.health();
    expect(health).toMatchObject({
      agent_id: "host-1.lab-notes",
      app: "lab-notes",
      tenant: "local",
      status: "degraded",
      central: { url: null, connected: false },
      model: "faux/faux-1",
    });
    const record = await edge.client.startRun({ prompt: "say hi" });
    const seen: string[] = [];
    await edge.client.follow(record.run_id, (e) => seen.push(e.kind));
    expect(seen[0]).toBe("run_started");
    expect(seen.at(-1)).toBe("run_completed");
    expect((await edge.client.run(record.run_id)).result).toBe("said hi");
    expect(await edge.signal("SIGTERM")).toBe(0);
    expect(existsSync(join(app.stateDir, "edge.sock"))).toBe(false);
    expect(existsSync(join(app.stateDir, "edge.lock"))).toBe(false);
  });

  it("checkpoints a run on SIGTERM past the drain timeout and resumes it on the next start", async () => {
    const app = makeApp();
    const first = await start(app, logging, ["--drain-timeout", "500ms"]);
    const { run_id } = await first.client.startRun({ prompt: "log three lines" });
    await until(() => logged(app.workdir).includes("two"));
    expect(await first.signal("SIGTERM")).toBe(0);
    expect(first.output()).toContain("checkpointing");
    const before = readOutbox(app.stateDir);
    expect(before.some((e) => e.kind === "run_completed")).toBe(false);

    const second = await start(app, logging);
    await until(async () => (await second.client.run(run_id)).status === "completed");
    expect(readFileSync(join(app.workdir, "log.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    const after = readOutbox(app.stateDir);
    expect(after.slice(0, before.length)).toEqual(before);
    expectGapless(after);
    expect(ofKind(after, "run_started").map((e) => e.payload.resumed)).toEqual([false, true]);
  });

  it("loses no event a tool or model call produced when SIGKILLed mid-run, and finishes it after a restart", async () => {
    const app = makeApp();
    const first = await start(app, logging);
    const { run_id } = await first.client.startRun({ prompt: "log three lines" });
    await until(() => logged(app.workdir).includes("two"));
    await first.signal("SIGKILL");

    // Everything that happened before the kill is in the outbox: both model calls, the first
    // tool call's finish, the second tool call's start.
    const before = readOutbox(app.stateDir);
    expectGapless(before);
    const ofRun = before.filter((e) => e.run_id === run_id);
    expect(ofKind(ofRun, "model_call")).toHaveLength(2);
    expect(
      ofKind(ofRun, "tool_call_started").map((e) => JSON.parse(e.payload.arguments).command),
    ).toEqual(["echo one >> log.txt", "echo two >> log.txt; sleep 60"]);
    expect(ofKind(ofRun, "tool_call_finished").map((e) => e.payload.status)).toEqual(["ok"]);

    const second = await start(app, logging);
    await until(async () => (await second.client.run(run_id)).status === "completed");
    const after = readOutbox(app.stateDir);
    expect(after.slice(0, before.length)).toEqual(before);
    expectGapless(after);
    const run = after.filter((e) => e.run_id === run_id);
    expect(ofKind(run, "run_started").map((e) => e.payload.resumed)).toEqual([false, true]);
    const interrupted = ofKind(run, "tool_call_finished").find(
      (e) => e.payload.error_type === "interrupted",
    );
    expect(interrupted?.payload.tool).toBe("bash");
    expect(ofKind(run, "run_completed")).toHaveLength(1);
    expect(readFileSync(join(app.workdir, "log.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(await second.signal("SIGTERM")).toBe(0);
  });

  it("survives SIGKILL at arbitrary moments: the outbox stays gapless and the run completes", async () => {
    const app = makeApp();
    const busy: FauxStep[] = [
      ...Array.from({ length: 30 }, (_, i) => ({
        tool: "bash",
        args: { command: `echo ${i} >> busy.txt` },
      })),
      { text: "busy done" },
    ];
    let edge = await start(app, busy);
    const { run_id } = await edge.client.startRun({ prompt: "be busy" });
    for (const delay of [150, 400, 250]) {
      await new Promise((r) => setTimeout(r, delay));
      await edge.signal("SIGKILL");
      expectGapless(readOutbox(app.stateDir));
      edge = await start(app, busy);
    }
    await until(async () => (await edge.client.run(run_id)).status === "completed", 60_000);
    const events = readOutbox(app.stateDir).filter((e) => e.run_id === run_id);
    expectGapless(events);
    expect(ofKind(events, "run_completed")).toHaveLength(1);
    // Each restart resumed the run; no tool call both finished and was reported interrupted.
    const finishes = ofKind(events, "tool_call_finished");
    const ids = finishes.map((e) => e.payload.tool_call_id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 120_000);
});
