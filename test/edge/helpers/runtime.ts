import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExtensionFactory } from "@earendil-works/pi-coding-agent";
import {
  type AgentEvent,
  AgentEvent as AgentEventSchema,
  type Intent,
  uuidv7,
} from "../../../contract";
import { parseModelRef } from "../../../edge/models/model-settings";
import { localIntent } from "../../../edge/runs/local-intent";
import type { RunRecord } from "../../../edge/runs/run-record";
import { EdgeRuntime, type EdgeRuntimeOptions } from "../../../edge/runtime";
import { FAUX_MODEL, type FauxStep, fauxProvider } from "./faux";

export interface TestApp {
  dir: string;
  stateDir: string;
  workdir: string;
}

/** A fresh app folder (optional app.json, skills, adapters) and state dir under tmp. */
export function makeApp(
  files: {
    appJson?: unknown;
    skills?: Record<string, string>;
    adapters?: Record<string, unknown>;
  } = {},
): TestApp {
  const root = mkdtempSync(join(tmpdir(), "edge-app-"));
  const dir = join(root, "app");
  mkdirSync(dir, { recursive: true });
  if (files.appJson !== undefined)
    writeFileSync(join(dir, "app.json"), JSON.stringify(files.appJson, null, 2));
  for (const [name, body] of Object.entries(files.skills ?? {})) {
    mkdirSync(join(dir, "skills", name), { recursive: true });
    writeFileSync(join(dir, "skills", name, "SKILL.md"), body);
  }
  for (const [name, decl] of Object.entries(files.adapters ?? {})) {
    mkdirSync(join(dir, "adapters"), { recursive: true });
    writeFileSync(join(dir, "adapters", `${name}.json`), JSON.stringify(decl, null, 2));
  }
  const stateDir = join(root, "state");
  const workdir = join(root, "work");
  mkdirSync(workdir, { recursive: true });
  return { dir, stateDir, workdir };
}

export async function openRuntime(
  app: TestApp,
  steps: FauxStep[],
  overrides: Partial<EdgeRuntimeOptions> = {},
  extensions: ExtensionFactory[] = [],
): Promise<EdgeRuntime> {
  return EdgeRuntime.open({
    app: "lab-notes",
    agentId: "host-1.lab-notes",
    tenant: "lab",
    stateDir: app.stateDir,
    workdir: app.workdir,
    appDir: app.dir,
    models: { primary: parseModelRef(FAUX_MODEL), gateway: null, fallback: null, scripted: null },
    extensionFactories: [fauxProvider(steps), ...extensions],
    ...overrides,
  });
}

/** Runs a local task to its end and returns the final record and its events (validated). */
export async function runTask(
  runtime: EdgeRuntime,
  prompt: string,
  extra: Record<string, unknown> = {},
): Promise<{ record: RunRecord; events: AgentEvent[] }> {
  const execution = await runtime.startLocal({ type: "task", params: {}, prompt, ...extra });
  const record = await execution.done;
  const events = await runtime.eventsOf(record.run_id);
  for (const e of events) AgentEventSchema.parse(e);
  return { record, events };
}

export function kinds(events: readonly AgentEvent[]): string[] {
  return events.map((e) => e.kind);
}

export function ofKind<K extends AgentEvent["kind"]>(
  events: readonly AgentEvent[],
  kind: K,
): Extract<AgentEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<AgentEvent, { kind: K }> => e.kind === kind);
}

/** Polls a run's logged events until `predicate` holds (a run going on in the background). */
export async function waitForEvents(
  runtime: EdgeRuntime,
  runId: string,
  predicate: (events: AgentEvent[]) => boolean,
): Promise<AgentEvent[]> {
  for (let i = 0; i < 500; i++) {
    const events = await runtime.eventsOf(runId);
    if (predicate(events)) return events;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for the events of run ${runId}`);
}

/**
 * A run this agent was given and admitted (as the dispatch handler admits central's), not yet
 * begun: `request` adds to a plain task intent.
 */
export async function admitRun(
  runtime: EdgeRuntime,
  request: Record<string, unknown> = {},
  origin: RunRecord["origin"] = "central",
): Promise<{ runId: string; intent: Intent }> {
  const intent = localIntent({ type: "task", params: {}, prompt: "work", ...request } as never, {
    tenant: "lab",
    agentId: "host-1.lab-notes",
  });
  const runId = uuidv7();
  await runtime.runs.admit(intent, runId, 1, origin);
  return { runId, intent };
}
