import type { AgentEvent } from "../../../contract";
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
