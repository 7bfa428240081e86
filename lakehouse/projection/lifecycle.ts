import {
  type IntentEvent,
  type IntentStatus,
  intentMachine,
  isTerminal,
  mustTransition,
  type RunErrorCategory,
  type RunEvent,
  type RunStatus,
  runMachine,
  transition,
} from "../../contract";

/** The AgentEvent kinds that move a run through its state machine. */
export const LIFECYCLE_KINDS = [
  "run_dispatched",
  "run_started",
  "run_completed",
  "run_failed",
  "run_cancelled",
  "lease_expired",
] as const;
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];

/** What the fold needs of a lifecycle event (the projector reads these columns from the log). */
export interface LifecycleEvent {
  event_id: string;
  kind: LifecycleKind;
  /** Epoch milliseconds. */
  ts: number;
  attempt: number | null;
  /** lease_expired: whether central retried the run or gave up. */
  next: "retry" | "fail" | null;
  error_category: string | null;
  error_reason: string | null;
  error_message: string | null;
  cancel_reason: string | null;
}

export interface RunLifecycle {
  status: RunStatus;
  intent_status: IntentStatus;
  attempts: number;
  /** The event that settled the run (moved it into a terminal status). */
  settled_event_id: string | null;
  error: { category: RunErrorCategory | string; reason: string; message: string } | null;
  /** Lifecycle events the run machine refused, which the projection ignored. */
  anomalies: string[];
}

const PHASE: Record<LifecycleKind, number> = {
  run_dispatched: 0,
  run_started: 1,
  run_completed: 2,
  run_failed: 2,
  run_cancelled: 2,
  lease_expired: 2,
};

/** What each run transition means for the run's intent (one intent, one run). */
const INTENT_EVENT: Record<RunEvent, IntentEvent | null> = {
  dispatch: "dispatch",
  claim: null,
  ack_timeout: "requeue",
  lease_expired: "requeue",
  retry: "requeue",
  complete: "complete",
  fail: "fail",
  cancel: "cancel",
};

/**
 * Replays a run's lifecycle events through the run machine (and its intent through the intent
 * machine), in log order: by attempt, then dispatch < start < end within an attempt (robust to
 * clock skew between central and the edge), then time.
 *
 * A log may be partial: an edge outbox has no `run_dispatched` or `lease_expired`, which only
 * central emits. An event the machine does not allow from the current status is reached along
 * the shortest path of transitions the log lacks (a `run_started` while pending implies the
 * dispatch). A failure followed by a later attempt was retried. What no path reaches (anything
 * after the run settled, other than a repeat of how it settled), and the end a superseded
 * attempt reports, is kept as an anomaly.
 */
export function foldRun(input: readonly LifecycleEvent[]): RunLifecycle {
  const maxAttempt = input.reduce((m, e) => Math.max(m, e.attempt ?? 0), 0);
  const events = [...input].sort(
    (a, b) =>
      (a.attempt ?? maxAttempt) - (b.attempt ?? maxAttempt) ||
      PHASE[a.kind] - PHASE[b.kind] ||
      a.ts - b.ts ||
      (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0),
  );
  let status: RunStatus = runMachine.initial;
  let intent: IntentStatus = intentMachine.initial;
  let attempt = 0;
  const result: RunLifecycle = {
    status,
    intent_status: intent,
    attempts: maxAttempt,
    settled_event_id: null,
    error: null,
    anomalies: [],
  };
  const apply = (on: RunEvent) => {
    status = mustTransition(runMachine, status, on);
    const intentEvent = INTENT_EVENT[on];
    if (intentEvent) intent = mustTransition(intentMachine, intent, intentEvent);
  };

  for (const e of events) {
    const eventAttempt = e.attempt ?? attempt;
    const retried = eventAttempt < maxAttempt;
    if (e.kind === "run_started" && status === "running" && eventAttempt === attempt) continue;
    // An attempt whose lease expired and whose run went on elsewhere may still report how it
    // ended (its agent came back, or central stopped it): that does not end the run.
    if (retried && (e.kind === "run_completed" || e.kind === "run_cancelled")) {
      result.anomalies.push(
        `${e.kind} ${e.event_id} (attempt ${eventAttempt}) of an attempt superseded by attempt ${maxAttempt}: ignored`,
      );
      continue;
    }
    const steps = runEventsOf(e, retried);
    if (isTerminal(runMachine, status)) {
      const last = steps[steps.length - 1]!;
      const settlesSame = runMachine.edges.some((edge) => edge.on === last && edge.to === status);
      if (!settlesSame)
        result.anomalies.push(
          `${e.kind} ${e.event_id} (attempt ${e.attempt ?? "-"}) after the run was ${status}: ignored`,
        );
      continue;
    }
    for (const on of steps) {
      const path = pathTo(status, on);
      if (!path) {
        result.anomalies.push(
          `${e.kind} ${e.event_id} (attempt ${e.attempt ?? "-"}): '${on}' is not possible from '${status}': ignored`,
        );
        break;
      }
      for (const step of path) apply(step);
      apply(on);
    }
    attempt = Math.max(attempt, eventAttempt);
    if (isTerminal(runMachine, status) && result.settled_event_id === null) {
      result.settled_event_id = e.event_id;
      result.error = errorOf(e, status, eventAttempt);
    }
  }
  result.status = status;
  result.intent_status = intent;
  return result;
}

function runEventsOf(e: LifecycleEvent, retried: boolean): RunEvent[] {
  switch (e.kind) {
    case "run_dispatched":
      return ["dispatch"];
    case "run_started":
      return ["claim"];
    case "run_completed":
      return ["complete"];
    case "run_failed":
      return [retried ? "retry" : "fail"];
    case "run_cancelled":
      return ["cancel"];
    case "lease_expired":
      return e.next === "fail" && !retried ? ["lease_expired", "fail"] : ["lease_expired"];
  }
}

/**
 * The shortest sequence of transitions from `from` to a status where `on` is allowed, through
 * non-terminal statuses only; [] when `on` is allowed already, null when no path exists.
 */
function pathTo(from: RunStatus, on: RunEvent): RunEvent[] | null {
  const queue: { status: RunStatus; path: RunEvent[] }[] = [{ status: from, path: [] }];
  const seen = new Set<RunStatus>([from]);
  while (queue.length) {
    const { status, path } = queue.shift()!;
    if (transition(runMachine, status, on).ok) return path;
    for (const edge of runMachine.edges) {
      if (edge.from !== status || seen.has(edge.to) || isTerminal(runMachine, edge.to)) continue;
      seen.add(edge.to);
      queue.push({ status: edge.to, path: [...path, edge.on] });
    }
  }
  return null;
}

function errorOf(e: LifecycleEvent, status: RunStatus, attempt: number): RunLifecycle["error"] {
  if (status === "cancelled")
    return { category: "cancelled", reason: "cancelled", message: e.cancel_reason ?? "cancelled" };
  if (status !== "failed") return null;
  if (e.kind === "lease_expired")
    return {
      category: "infrastructure",
      reason: "lease_expired",
      message: `the lease of attempt ${attempt} expired and no attempts were left`,
    };
  return {
    category: e.error_category ?? "internal",
    reason: e.error_reason ?? "unknown",
    message: e.error_message ?? "the run failed",
  };
}
