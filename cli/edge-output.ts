import type { AgentEvent } from "../contract";
import type { RunRecord } from "../edge/index";
import { formatEvent } from "./format-event";

/** One event as a line for people, or as JSON. */
export function printEdgeEvent(event: AgentEvent, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`);
}

/** How a run ended; with --json the events already said it, so nothing more is printed. */
export function printRunOutcome(record: RunRecord, json: boolean): void {
  if (json) return;
  if (record.status === "completed") {
    process.stdout.write(`\n${record.result ?? ""}\n`);
    return;
  }
  const why = record.error ? `${record.error.reason}: ${record.error.message}` : record.status;
  process.stderr.write(`run ${record.run_id} ${record.status}: ${why}\n`);
}
