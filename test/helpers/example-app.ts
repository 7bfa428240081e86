import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "vitest";
import type { AgentEvent } from "../../contract";
import { loadAppFolder } from "../../edge/config/app-folder";
import { resolveModelSettings } from "../../edge/models/resolve";
import { EdgeRuntime } from "../../edge/runtime";
import { ofKind } from "../edge/helpers/runtime";
import { runCli } from "./cli";

export const EXAMPLE_APPS = resolve("examples/apps");

/**
 * An edge runtime for one of `examples/apps/<app>`, as the local stack runs it with no model
 * provider: on the app's scripted model, with a fresh state dir and workdir (seeded from the
 * app's `workdir_seed`). `env` resolves the `${NAME}` references of its adapters.
 */
export async function openExampleApp(app: string, env: NodeJS.ProcessEnv = {}) {
  const dir = join(EXAMPLE_APPS, app);
  const root = mkdtempSync(join(tmpdir(), `${app}-`));
  const folder = loadAppFolder({ app, appDir: dir });
  const models = resolveModelSettings({
    app,
    gateway: null,
    fallback: {},
    env: {},
    scripted: { scenario: folder.scripted!, skillsDir: folder.skillsDir! },
  });
  const runtime = await EdgeRuntime.open({
    app,
    agentId: `host-1.${app}`,
    tenant: "lab",
    stateDir: join(root, "state"),
    workdir: join(root, "work"),
    appDir: dir,
    models,
    env,
  });
  return { runtime, models, dir, workdir: join(root, "work") };
}

/**
 * The run went as its scenario says: every model call labelled scripted, the tool calls in this
 * order (a step's parallel calls may finish in any order within it), each one ok.
 */
export function expectScriptedRun(events: readonly AgentEvent[], tools: readonly string[][]) {
  for (const call of ofKind(events, "model_call"))
    expect(call.payload).toMatchObject({ provider: "scripted", scripted: true, cost_usd: 0 });
  const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
  for (const f of finished) expect(f.status, `${f.tool}: ${f.error_message}`).toBe("ok");
  let at = 0;
  for (const step of tools) {
    const got = finished.slice(at, at + step.length).map((f) => f.tool);
    expect(got.sort()).toEqual([...step].sort());
    at += step.length;
  }
  expect(finished).toHaveLength(at);
}

/** The JSON output of a finished tool call. */
export function outputOf(event: Extract<AgentEvent, { kind: "tool_call_finished" }>): unknown {
  return JSON.parse(event.payload.result ?? "null");
}

/** `auraison plan pddl --skills` over the app's skills and its example problem, optimal, as JSON. */
export async function planExampleApp(app: string, problem = "pddl/problem.pddl") {
  const dir = join(EXAMPLE_APPS, app);
  const r = await runCli(
    [
      "plan",
      "pddl",
      "--skills",
      join(dir, "skills"),
      "--problem",
      join(dir, problem),
      "--optimal",
      "--json",
    ],
    { timeoutMs: 60_000 },
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    actions: string[];
    skills: string[][];
    cost: number;
    optimal: boolean;
  };
}
