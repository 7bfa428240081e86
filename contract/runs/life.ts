import type { Target } from "../intent";
import type { IntentStatus } from "../machines/intent";
import type { RunStatus } from "../machines/run";
import type { RunError, RunState, RunWaiting, TreeRef } from "../run-state";
import { type Consumption, type CountedCall, noConsumption, usageOf } from "./usage";

/**
 * Who decides a run's retries and its end. Central owns the runs it queued and dispatched; an
 * edge agent owns the runs it started itself (`edge run`, or while central was away), and central
 * only follows those from their events.
 */
export type RunOwner = "central" | "edge";

/** The agent that holds a run's current attempt, and the clocks on that hold (epoch ms). */
export interface Hold {
  agent_id: string;
  attempt: number;
  /** The agent acknowledged the dispatch; until then `ack_deadline` runs. */
  acked: boolean;
  ack_deadline: number | null;
  /** Renewed by the agent's claim, events and heartbeats; null until acknowledged. */
  lease_expires_at: number | null;
  /** The dispatch was sent again to an agent that reconnected without it (at most once). */
  resent?: boolean;
}

/** Lost claims a run is forgiven (its agent restarted without it); later ones count as failures. */
export const FORGIVEN_DROPS = 2;

/**
 * Everything the platform knows about one run: what `stepRun` folds inputs into. Central keeps it
 * per run in SQLite, the edge per run on disk, memory rebuilds it from the log. Times are epoch
 * milliseconds; `runStateOf` turns it into the contract's RunState.
 */
export interface RunLife {
  run_id: string;
  intent_id: string | null;
  tenant: string;
  owner: RunOwner;
  intent_type: string | null;
  /** What the run waits for while it is pending (the intent's targets). */
  targets: Target[];
  status: RunStatus;
  /** The run's intent, moved along the intent machine with the run (one intent, one run). */
  intent_status: IntentStatus;
  /** 0 before the first dispatch. */
  attempt: number;
  /** The last attempt central sent back to the queue: its late reports settle nothing. */
  closed_attempt: number;
  app: string | null;
  agent_id: string | null;
  tree_ref: TreeRef | null;
  forked_from: { run_id: string; entry_id: string | null } | null;
  hold: Hold | null;
  /** The intent's deadline. */
  deadline: number | null;
  /** Since when no online agent serves the queued run; the queue timeout counts from here. */
  unserved_since: number | null;
  /** A retry's backoff: not dispatched before this. */
  retry_at: number | null;
  tried_agents: string[];
  /**
   * Attempts that went back to the queue through no fault of the run (its agent restarted without
   * it): the retry policy does not count them, up to FORGIVEN_DROPS.
   */
  uncounted_attempts: number;
  created_at: number;
  dispatched_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  /** What the run consumed, each model call counted once (see usage.ts). */
  consumption: Consumption;
  /** Calls seen by one observer whose other observation may still come (see usage.ts). */
  open_calls: Record<string, CountedCall>;
  /**
   * The attempt the holder reported failed, waiting for the owner's decision (retry or fail).
   * Central decides at once; a log that stops here (an outbox without central's log) shows the
   * run failed with this error.
   */
  reported_failure: { attempt: number; error: RunError } | null;
  error: RunError | null;
  result: string | null;
  /** The event that moved the run into its terminal status. */
  settled_by: string | null;
  /** How many events central emitted for this run: the `seq` of its next one. */
  central_seq: number;
  /** Inputs the fold refused or ignored, and why (late reports of superseded attempts, ...). */
  anomalies: string[];
}

/** Anomalies kept per run; older ones are dropped first. */
export const MAX_ANOMALIES = 50;

/** A run central has just queued for an intent. */
export function queuedRun(input: {
  run_id: string;
  tenant: string;
  intent: {
    intent_id: string;
    type: string;
    targets: Target[];
    deadline?: string | undefined;
    fork_of?: { run_id: string; entry_id?: string | undefined } | undefined;
  };
  now: number;
}): RunLife {
  const { intent } = input;
  return {
    ...blankRun(input.run_id, input.tenant, input.now),
    owner: "central",
    intent_id: intent.intent_id,
    intent_type: intent.type,
    targets: intent.targets,
    deadline: intent.deadline ? Date.parse(intent.deadline) : null,
  };
}

/**
 * A run known only by its id, before any event of it was read: what replaying a log starts from.
 * Its owner is the edge until an event says central queued it.
 */
export function blankRun(run_id: string, tenant: string, at: number): RunLife {
  return {
    run_id,
    intent_id: null,
    tenant,
    owner: "edge",
    intent_type: null,
    targets: [],
    status: "pending",
    intent_status: "queued",
    attempt: 0,
    closed_attempt: 0,
    app: null,
    agent_id: null,
    tree_ref: null,
    forked_from: null,
    hold: null,
    deadline: null,
    unserved_since: null,
    retry_at: null,
    tried_agents: [],
    uncounted_attempts: 0,
    created_at: at,
    dispatched_at: null,
    started_at: null,
    finished_at: null,
    consumption: noConsumption(),
    open_calls: {},
    reported_failure: null,
    error: null,
    result: null,
    settled_by: null,
    central_seq: 0,
    anomalies: [],
  };
}

/**
 * The run as readers see it; with a view, a queued run says what it waits for. A failure the holder reported and no owner has ruled on yet (a log
 * that ends there) shows as failed with that error.
 */
export function runStateOf(life: RunLife, view: WaitingView | null = null): RunState {
  const pendingRuling = life.reported_failure;
  const status: RunStatus = pendingRuling && !isSettled(life) ? "failed" : life.status;
  const hold = life.hold;
  return {
    run_id: life.run_id,
    intent_id: life.intent_id ?? life.run_id,
    tenant: life.tenant,
    app: life.app,
    agent_id: life.agent_id,
    targets: life.targets,
    tree_ref: life.tree_ref,
    status,
    attempt: life.attempt,
    lease:
      hold && hold.lease_expires_at !== null && !isSettled(life)
        ? {
            agent_id: hold.agent_id,
            attempt: hold.attempt,
            expires_at: new Date(hold.lease_expires_at).toISOString(),
          }
        : null,
    timings: {
      created_at: new Date(life.created_at).toISOString(),
      dispatched_at: isoOrNull(life.dispatched_at),
      started_at: isoOrNull(life.started_at),
      finished_at: isoOrNull(life.finished_at),
    },
    usage: usageOf(life.consumption),
    error: pendingRuling && !isSettled(life) ? pendingRuling.error : life.error,
    result: life.result,
    waiting: view ? waitingOf(life, view) : null,
  };
}

/** What describing a queued run's wait needs: the time, and the tenant's queue timeout. */
export interface WaitingView {
  now: number;
  queue_timeout_ms: number | null;
}

function waitingOf(life: RunLife, view: WaitingView): RunWaiting | null {
  if (life.status !== "pending" || life.owner !== "central") return null;
  if (life.unserved_since !== null)
    return {
      reason: "no_agent",
      since: isoOrNull(life.unserved_since),
      until:
        view.queue_timeout_ms === null
          ? null
          : isoOrNull(life.unserved_since + view.queue_timeout_ms),
    };
  if (life.retry_at !== null && life.retry_at > view.now)
    return { reason: "backoff", since: null, until: isoOrNull(life.retry_at) };
  return { reason: "at_capacity", since: null, until: null };
}

export function isSettled(life: Pick<RunLife, "status">): boolean {
  return life.status === "completed" || life.status === "failed" || life.status === "cancelled";
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
