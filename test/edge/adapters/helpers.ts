import { expect } from "vitest";
import { type AgentEvent, ContractValidationError } from "../../../contract";
import type { AdapterFactory, AdapterTool, ExecutionAdapter } from "../../../edge/adapters/adapter";
import type { RunRecord } from "../../../edge/runs/run-record";
import type { EdgeRuntime } from "../../../edge/runtime";

/**
 * Runs a local task and, when `cancelWhen` first holds for the events so far (or the probe),
 * cancels it as an operator would. Returns the final record and every event of the run.
 */
export async function runAndCancelWhen(
  runtime: EdgeRuntime,
  prompt: string,
  cancelWhen: (events: AgentEvent[]) => boolean | Promise<boolean>,
  extra: Record<string, unknown> = {},
): Promise<{ record: RunRecord; events: AgentEvent[]; cancelled: boolean }> {
  const execution = await runtime.startLocal({ type: "task", params: {}, prompt, ...extra });
  let cancelled = false;
  let finished = false;
  void execution.done.finally(() => {
    finished = true;
  });
  const deadline = Date.now() + 60_000;
  while (!finished && Date.now() < deadline) {
    if (await cancelWhen(await runtime.eventsOf(execution.runId))) {
      cancelled = runtime.runs.cancel(execution.runId, "operator cancelled", "tester");
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const record = await execution.done;
  return { record, events: await runtime.eventsOf(record.run_id), cancelled };
}

/** The paths of the issues a factory reports for a bad declaration (fails if it is accepted). */
export function declarationIssues(
  factory: AdapterFactory,
  declaration: unknown,
  env: NodeJS.ProcessEnv = {},
): string[] {
  try {
    factory(declaration, { file: "adapter.json", env });
  } catch (error) {
    expect(error).toBeInstanceOf(ContractValidationError);
    return (error as ContractValidationError).issues.map((i) => i.path);
  }
  throw new Error("the declaration was accepted");
}

/** Polls until `condition` holds (for effects seen by a server a little after the call). */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Builds adapters straight from declarations (no run) and closes them after each test. */
export function adapterHarness(factory: AdapterFactory, env: NodeJS.ProcessEnv = {}) {
  const opened: ExecutionAdapter[] = [];
  return {
    /** The adapter's tools by name. */
    tools(declaration: unknown): Record<string, AdapterTool> {
      const adapter = factory(declaration, { file: "adapter.json", env });
      opened.push(adapter);
      return Object.fromEntries(adapter.tools.map((t) => [t.name, t]));
    },
    async closeAll(): Promise<void> {
      for (const adapter of opened.splice(0)) await adapter.close?.();
    },
  };
}
