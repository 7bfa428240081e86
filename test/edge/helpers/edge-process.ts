import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { AgentEvent } from "../../../contract";
import { RpcClient } from "../../../edge/rpc/client";
import { answers } from "../../../edge/rpc/server";
import { BIN } from "../../helpers/cli";
import type { FauxStep } from "./faux";
import type { TestApp } from "./runtime";

export const FAUX_EXTENSION = fileURLToPath(
  new URL("../fixtures/faux-extension.ts", import.meta.url),
);

export interface EdgeProcess {
  child: ChildProcess;
  client: RpcClient;
  output: () => string;
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts the real `auraison edge start` for a test app, driven by a faux model script. */
export async function startEdge(
  app: TestApp,
  steps: FauxStep[],
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<EdgeProcess> {
  const script = join(app.stateDir, "..", "faux-script.json");
  writeFileSync(script, JSON.stringify({ steps }));
  const child = spawn(
    process.execPath,
    [
      BIN,
      "edge",
      "start",
      "--app",
      "lab-notes",
      "--agent-id",
      "host-1.lab-notes",
      "--app-dir",
      app.dir,
      "--state",
      app.stateDir,
      "--workdir",
      app.workdir,
      "--model",
      "faux/faux-1",
      "--extension",
      FAUX_EXTENSION,
      ...extraArgs,
    ],
    {
      env: {
        ...process.env,
        AURAISON_URL: "",
        AURAISON_KEY: "",
        AURAISON_FAUX_SCRIPT: script,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout!.on("data", (d) => {
    output += d;
  });
  child.stderr!.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const socket = join(app.stateDir, "edge.sock");
  const deadline = Date.now() + 30_000;
  while (!(await answers(socket, 200))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`edge start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    client: new RpcClient(socket),
    output: () => output,
    exited,
    signal: (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}

/** Every event in an outbox directory, in append order, read straight from the files. */
export function readOutbox(stateDir: string): AgentEvent[] {
  const dir = join(stateDir, "outbox");
  const events: AgentEvent[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith(".ndjson"))
    .sort()) {
    const text = readFileSync(join(dir, name), "utf8");
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    for (const line of complete.split("\n")) if (line) events.push(JSON.parse(line) as AgentEvent);
  }
  return events;
}

export async function until<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A crash mid-run on the real `edge start`: starts a run, SIGKILLs the agent once `cutWhen`
 * holds (a tool call's remote work is under way), runs `afterCrash` (to look at what the crash
 * left), then starts the agent again on the same state and waits for the resumed run to end.
 * Returns the run's id and every event of it.
 */
export async function crashMidRun(
  app: TestApp,
  steps: FauxStep[],
  cutWhen: (events: AgentEvent[]) => boolean | Promise<boolean>,
  afterCrash: (events: AgentEvent[]) => Promise<void> = async () => {},
): Promise<{ runId: string; events: AgentEvent[] }> {
  const first = await startEdge(app, steps);
  let second: EdgeProcess | undefined;
  try {
    const { run_id } = await first.client.startRun({ prompt: "crash in the middle" });
    const ofRun = () => readOutbox(app.stateDir).filter((e) => e.run_id === run_id);
    await until(() => cutWhen(ofRun()), 60_000);
    await first.signal("SIGKILL");
    await afterCrash(ofRun());
    second = await startEdge(app, steps);
    const resumed = second;
    await until(async () => (await resumed.client.run(run_id)).finished_at !== null, 60_000);
    expect(await resumed.signal("SIGTERM")).toBe(0);
    return { runId: run_id, events: ofRun() };
  } finally {
    for (const edge of [first, second])
      if (edge && edge.child.exitCode === null && edge.child.signalCode === null)
        await edge.signal("SIGKILL");
  }
}
