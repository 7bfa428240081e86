import type { AgentEvent } from "../events/agent-event";
import { blankRun, type RunLife } from "./life";
import { stepRun } from "./step";

/**
 * A run as its log tells it: what memory derives its `runs` rows from, what the edge keeps as
 * its view, and how central follows a run an edge started. The same fold the owner used, so a
 * complete log replays to the run the owner had.
 */
export function replayRun(events: readonly AgentEvent[], from: RunLife = blankOf(events)): RunLife {
  return stepRun(from, { type: "events", events: inLogOrder(events) }, { role: "follower" }).life;
}

function blankOf(events: readonly AgentEvent[]): RunLife {
  const first = events[0];
  if (!first?.run_id) throw new Error("replayRun needs at least one event of a run");
  const at = Math.min(...events.map((e) => Date.parse(e.ts)));
  return blankRun(first.run_id, first.tenant, at);
}

/**
 * The order to replay a run's events in. Central's cursor is the order it applied them in; a log
 * without cursors (an outbox, or one mixing sources) is ordered by attempt, then a dispatch before
 * its start before the rest, then time — robust to clock skew between central and the edge.
 */
export function inLogOrder<E extends AgentEvent & { cursor?: number | null }>(
  events: readonly E[],
): E[] {
  if (events.every((e) => typeof e.cursor === "number"))
    return [...events].sort((a, b) => a.cursor! - b.cursor!);
  const last = events.reduce((m, e) => Math.max(m, e.attempt ?? 0), 0);
  const keyed = events.map((e) => ({ e, ts: Date.parse(e.ts) }));
  keyed.sort(
    (a, b) =>
      (a.e.attempt ?? last) - (b.e.attempt ?? last) ||
      phase(a.e) - phase(b.e) ||
      a.ts - b.ts ||
      (a.e.source === b.e.source ? 0 : a.e.source === "edge" ? -1 : 1) ||
      a.e.seq - b.e.seq ||
      (a.e.event_id < b.e.event_id ? -1 : a.e.event_id > b.e.event_id ? 1 : 0),
  );
  return keyed.map((k) => k.e);
}

function phase(e: AgentEvent): number {
  return e.kind === "run_dispatched" ? 0 : e.kind === "run_started" ? 1 : 2;
}
