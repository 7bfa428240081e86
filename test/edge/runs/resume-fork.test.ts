import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RunRecords } from "../../../edge/runs/run-records";
import type { EdgeRuntime } from "../../../edge/runtime";
import type { FauxStep } from "../helpers/faux";
import {
  admitRun,
  kinds,
  makeApp,
  ofKind,
  openRuntime,
  type TestApp,
  waitForEvents,
} from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const script: FauxStep[] = [
  { tool: "bash", args: { command: "echo one >> log.txt" } },
  { tool: "bash", args: { command: "echo two >> log.txt; sleep 30" } },
  { tool: "bash", args: { command: "echo three >> log.txt" } },
  { text: "logged" },
];

describe("resume after a restart", () => {
  it("checkpoints a run on shutdown and finishes it on the next start, same attempt, seq going on", async () => {
    const app: TestApp = makeApp();
    runtime = await openRuntime(app, script);
    const execution = await runtime.startLocal({
      type: "task",
      params: {},
      prompt: "log three lines",
    });
    const runId = execution.runId;
    await waitForEvents(runtime, runId, (e) => ofKind(e, "tool_call_started").length === 2);
    // The second command has begun once its first line is written: interrupt it in its sleep.
    const log = join(app.workdir, "log.txt");
    for (let i = 0; i < 200 && !readFileSync(log, "utf8").includes("two"); i++)
      await new Promise((r) => setTimeout(r, 25));
    await runtime.runs.checkpointAll("test shutdown");
    const checkpointed = await execution.done;
    expect(checkpointed.status).toBe("running");
    const before = await runtime.eventsOf(runId);
    expect(kinds(before)).not.toContain("run_completed");
    await runtime.close();

    runtime = await openRuntime(app, script);
    const [resumed] = await runtime.runs.resumeInterrupted();
    expect(resumed!.runId).toBe(runId);
    const final = await resumed!.done;
    expect(final.status).toBe("completed");
    expect(final.result).toBe("logged");
    expect(readFileSync(join(app.workdir, "log.txt"), "utf8")).toBe("one\ntwo\nthree\n");

    const events = await runtime.eventsOf(runId);
    expect(events.slice(0, before.length)).toEqual(before);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    const starts = ofKind(events, "run_started").map((e) => e.payload);
    expect(starts.map((s) => [s.resumed, s.attempt])).toEqual([
      [false, 1],
      [true, 1],
    ]);
    expect(starts[1]!.tree_ref.session_file).toBe(starts[0]!.tree_ref.session_file);
    expect(ofKind(events, "run_completed")).toHaveLength(1);
    // The interrupted sleep reports as failed; the model saw it and went on with the script.
    const sleep = ofKind(events, "tool_call_finished").find((e) =>
      ofKind(events, "tool_call_started").some(
        (s) =>
          s.payload.tool_call_id === e.payload.tool_call_id &&
          s.payload.arguments.includes("sleep"),
      ),
    )!;
    expect(sleep.payload.status).toBe("error");
    // Usage carries over: the final tally counts the model calls of both processes.
    expect(ofKind(events, "run_completed")[0]!.payload.usage.model_calls).toBe(
      ofKind(events, "model_call").length,
    );
  });

  it("resumes a run once when it is begun twice at the same time", async () => {
    const app = makeApp();
    runtime = await openRuntime(app, script);
    const execution = await runtime.startLocal({ type: "task", params: {}, prompt: "log" });
    await waitForEvents(
      runtime,
      execution.runId,
      (e) => ofKind(e, "tool_call_started").length === 2,
    );
    await runtime.runs.checkpointAll("test shutdown");
    await execution.done;
    await runtime.close();

    runtime = await openRuntime(app, script);
    const [a, b] = await Promise.all([
      runtime.runs.begin(execution.runId),
      runtime.runs.begin(execution.runId),
    ]);
    expect(a).toBe(b);
    expect((await a!.done).status).toBe("completed");
    const starts = ofKind(await runtime.eventsOf(execution.runId), "run_started");
    expect(starts.map((s) => s.payload.resumed)).toEqual([false, true]);
  });

  it("completes a run whose final answer was written but whose completion was not", async () => {
    const app = makeApp();
    runtime = await openRuntime(app, [{ text: "answer before the crash" }]);
    const first = await runtime.startLocal({ type: "task", params: {}, prompt: "answer" });
    const done = await first.done;
    expect(done.status).toBe("completed");
    await runtime.close();
    runtime = undefined;

    // Pretend the agent died right after pi wrote the answer: the record still says running.
    const recordFile = join(app.stateDir, "runs", `${done.run_id}.json`);
    const record = JSON.parse(readFileSync(recordFile, "utf8"));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(recordFile, JSON.stringify({ ...record, status: "running", finished_at: null }));

    runtime = await openRuntime(app, [{ text: "must not be asked" }]);
    const [resumed] = await runtime.runs.resumeInterrupted();
    const final = await resumed!.done;
    expect(final.status).toBe("completed");
    expect(final.result).toBe("answer before the crash");
    const events = await runtime.eventsOf(done.run_id);
    expect(ofKind(events, "model_call")).toHaveLength(1);
  });

  it.each(["completed", "cancelled"] as const)(
    "settles a run that ended (%s) before its record did, and never runs it again",
    async (end) => {
      const app = makeApp();
      runtime = await openRuntime(app, [
        { tool: "bash", args: { command: "echo before >> effects.txt; sleep 1" } },
        { text: "done" },
      ]);
      const first = await runtime.startLocal({ type: "task", params: {}, prompt: "go" });
      if (end === "cancelled") {
        const effects = join(app.workdir, "effects.txt");
        for (let i = 0; i < 200 && !existsSync(effects); i++)
          await new Promise((r) => setTimeout(r, 25));
        runtime.runs.cancel(first.runId, "not wanted", "tester");
      }
      const done = await first.done;
      expect(done.status).toBe(end);
      const logged = await runtime.eventsOf(done.run_id);
      await runtime.close();
      runtime = undefined;

      // The agent died after logging the terminal event, before settling the record.
      const recordFile = join(app.stateDir, "runs", `${done.run_id}.json`);
      const record = JSON.parse(readFileSync(recordFile, "utf8"));
      writeFileSync(
        recordFile,
        JSON.stringify({ ...record, status: "running", finished_at: null }),
      );

      runtime = await openRuntime(app, [
        { tool: "bash", args: { command: "echo after >> effects.txt" } },
        { text: "ran again" },
      ]);
      const [resumed] = await runtime.runs.resumeInterrupted();
      const final = await resumed!.done;
      expect(final).toMatchObject({
        status: end,
        result: done.result,
        error: done.error,
        usage: done.usage,
      });
      expect(final.finished_at).toBe(ofKind(logged, `run_${end}`)[0]!.ts);
      expect(await runtime.eventsOf(done.run_id)).toEqual(logged);
      expect(readFileSync(join(app.workdir, "effects.txt"), "utf8")).toBe("before\n");
      expect(runtime.runs.get(done.run_id)?.status).toBe(end);
    },
  );
});

describe("fork", () => {
  it("branches a new run off any entry of a finished run's session tree", async () => {
    const app = makeApp();
    runtime = await openRuntime(app, [
      { tool: "write", args: { path: "a.txt", content: "A" } },
      { tool: "write", args: { path: "b.txt", content: "B" } },
      { text: "wrote a and b" },
    ]);
    const source = await (
      await runtime.startLocal({ type: "task", params: {}, prompt: "write files" })
    ).done;
    const sourceEvents = await runtime.eventsOf(source.run_id);
    const toolMessages = ofKind(sourceEvents, "message").filter((e) => e.payload.role === "tool");
    const afterFirstWrite = toolMessages[0]!.payload.entry_id!;

    const fork = await (
      await runtime.startLocal({
        type: "task",
        params: {},
        prompt: "write files",
        fork_of: { run_id: source.run_id, entry_id: afterFirstWrite },
      })
    ).done;
    expect(fork.status).toBe("completed");
    expect(fork.forked_from).toEqual({ run_id: source.run_id, entry_id: afterFirstWrite });
    const events = await runtime.eventsOf(fork.run_id);
    expect(ofKind(events, "run_started")[0]!.payload.forked_from).toEqual({
      run_id: source.run_id,
      entry_id: afterFirstWrite,
    });
    // The fork continued from after the first write: the model's next step was the second write.
    const writes = ofKind(events, "tool_call_started").map(
      (e) => JSON.parse(e.payload.arguments).path,
    );
    expect(writes).toEqual(["b.txt"]);

    // Its session is a new file holding the source's branch up to the fork point, then its own.
    const forkFile = join(app.stateDir, fork.tree_ref.session_file);
    expect(fork.tree_ref.session_file).not.toBe(source.tree_ref.session_file);
    const lines = readFileSync(forkFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      type: "session",
      parentSession: join(app.stateDir, source.tree_ref.session_file),
    });
    expect(lines.some((l) => l.id === afterFirstWrite)).toBe(true);
    // The source's session is untouched.
    const sourceLines = readFileSync(join(app.stateDir, source.tree_ref.session_file), "utf8")
      .trim()
      .split("\n");
    expect(sourceLines.length).toBeGreaterThan(0);
    expect(existsSync(forkFile)).toBe(true);
  });

  it("from a finished answer, takes the fork's prompt as the next instruction", async () => {
    const app = makeApp();
    runtime = await openRuntime(app, [{ text: "first answer" }, { text: "second answer" }]);
    const source = await (await runtime.startLocal({ type: "task", params: {}, prompt: "q1" }))
      .done;
    const fork = await (
      await runtime.startLocal({
        type: "task",
        params: {},
        prompt: "q2",
        fork_of: { run_id: source.run_id },
      })
    ).done;
    expect(fork.result).toBe("second answer");
    const users = ofKind(await runtime.eventsOf(fork.run_id), "message").filter(
      (e) => e.payload.role === "user",
    );
    expect(users.map((u) => u.payload.text)).toEqual(["q2"]);
  });

  it("forks again a fork the agent stopped before its session was copied", async () => {
    const app = makeApp();
    const script: FauxStep[] = [{ text: "first answer" }, { text: "second answer" }];
    runtime = await openRuntime(app, script);
    const source = await (await runtime.startLocal({ type: "task", params: {}, prompt: "q1" }))
      .done;
    const { runId } = await admitRun(
      runtime,
      { prompt: "q2", fork_of: { run_id: source.run_id } },
      "local",
    );
    await runtime.close();
    // The agent died in begin() right after the claim was written, before the copy was made.
    await new RunRecords(app.stateDir).transition(runId, "claim");

    runtime = await openRuntime(app, script);
    const [resumed] = await runtime.runs.resumeInterrupted();
    const fork = await resumed!.done;
    expect(fork.result).toBe("second answer");
    expect(fork.tree_ref.session_file).not.toBe(`sessions/${runId}-1.jsonl`);
    const events = await runtime.eventsOf(runId);
    expect(ofKind(events, "run_started").map((e) => e.payload.resumed)).toEqual([false]);
    const messages = ofKind(events, "message").map((e) => [e.payload.role, e.payload.text]);
    expect(messages).toEqual([
      ["user", "q2"],
      ["assistant", "second answer"],
    ]);
  });

  it("fails cleanly for an unknown entry or a run this agent does not hold", async () => {
    const app = makeApp();
    runtime = await openRuntime(app, [{ text: "x" }]);
    const source = await (await runtime.startLocal({ type: "task", params: {}, prompt: "q" })).done;
    const badEntry = await (
      await runtime.startLocal({
        type: "task",
        params: {},
        prompt: "q",
        fork_of: { run_id: source.run_id, entry_id: "deadbeef" },
      })
    ).done;
    expect(badEntry.status).toBe("failed");
    expect(badEntry.error).toMatchObject({
      category: "invalid_intent",
      reason: "fork_point_not_found",
    });
    const elsewhere = await (
      await runtime.startLocal({
        type: "task",
        params: {},
        prompt: "q",
        fork_of: { run_id: "01a1ffd8-f261-735f-9d67-5b635864709c" },
      })
    ).done;
    expect(elsewhere.error?.message).toContain("is not on this agent");
    expect(kinds(await runtime.eventsOf(elsewhere.run_id))).toEqual(["run_failed"]);
  });
});
