import {
  type AgentEvent,
  type AgentEventOf,
  type EventKind,
  type EventPayload,
  isCentralKind,
} from "../events/agent-event";
import { transition } from "../machines/machine";
import { type RunEvent, runMachine } from "../machines/run";
import type { RunError } from "../run-state";
import { isSettled } from "./life";
import { HELD, RunMoves } from "./moves";
import { hearsFrom } from "./reporters";
import { countModelCall, countToolCall } from "./usage";

/**
 * The kinds a run's fold reads (`FactFold.fact` below); an event of any other kind leaves the run as it
 * was. A follower that reads a large log (memory) replays a run from these alone: the order
 * among them is the same, as long as they carry central's cursor exactly when the whole run does.
 */
export const FOLDED_KINDS = [
  "run_dispatched",
  "run_started",
  "run_completed",
  "run_failed",
  "run_cancelled",
  "run_retrying",
  "lease_expired",
  "model_call",
  "tool_call_finished",
] as const satisfies readonly EventKind[];

/** The run machine's move for each cause of a retry. */
const RETRY_CAUSE = {
  ack_timeout: "ack_timeout",
  refused: "retry",
  failed: "retry",
  dropped: "drop",
} as const satisfies Record<EventPayload<"run_retrying">["cause"], RunEvent>;

function isFoldedKind(kind: EventKind): boolean {
  return (FOLDED_KINDS as readonly string[]).includes(kind);
}

/**
 * The facts of the log folded into a run: the same for every runtime, owner or follower, so a
 * replay of the log reaches the run its owner reached.
 */
export abstract class FactFold extends RunMoves {
  /** Folds one event of the log into the run. */
  protected fact(e: AgentEvent) {
    const life = this.life;
    if (!isFoldedKind(e.kind)) return;
    const stranger = e.source === "edge" ? this.fromStranger(e) : null;
    if (stranger) return this.anomaly(e, stranger);
    if (life.intent_id === null && "intent_id" in e.payload)
      life.intent_id = (e.payload as { intent_id: string }).intent_id;
    switch (e.kind) {
      case "model_call": {
        const counted = countModelCall(life.consumption, life.open_calls, e.payload);
        life.consumption = counted.consumption;
        life.open_calls = counted.open;
        return;
      }
      case "tool_call_finished":
        life.consumption = countToolCall(life.consumption, e.payload.status);
        return;
      case "run_dispatched":
        return this.dispatched(e);
      case "run_started":
        return this.started(e);
      case "run_completed":
        return this.completed(e);
      case "run_failed":
        return e.source === "central" ? this.ruledFailed(e) : this.reportedFailed(e);
      case "run_cancelled":
        return this.cancelled(e);
      case "run_retrying":
        return this.requeued(
          e,
          e.payload.attempt,
          RETRY_CAUSE[e.payload.cause],
          e.payload.error,
          Date.parse(e.payload.retry_at),
        );
      case "lease_expired":
        return this.requeued(
          e,
          e.payload.attempt,
          "lease_expired",
          {
            category: "infrastructure",
            reason: "lease_expired",
            message: `${e.payload.agent_id} stopped renewing the lease of attempt ${e.payload.attempt}`,
          },
          e.payload.retry_at === null ? null : Date.parse(e.payload.retry_at),
        );
      default:
        return;
    }
  }

  /**
   * Why an edge event is no report on the run, or null when it is one. Only central rules on a
   * run; a run hears only from its agents (hearsFrom); and where central's log shows the run's
   * dispatches, an attempt is reported on only by the agent it was dispatched to, and only once
   * dispatched (an outbox, which shows none, is one agent's own).
   * Tests: test/contract/runs/step.test.ts "hears only from".
   */
  private fromStranger(e: AgentEvent): string | null {
    if (isCentralKind(e.kind)) return "only central emits it";
    const life = this.life;
    if (life.owner === "edge")
      return hearsFrom(life, e.agent_id) ? null : `the run is ${life.agent_id}'s`;
    if (life.tried_agents.length === 0) return null;
    if (!hearsFrom(life, e.agent_id)) return `the run was never dispatched to ${e.agent_id}`;
    const attempt = e.attempt ?? life.attempt;
    if (attempt > life.attempt) return `attempt ${attempt} was never dispatched`;
    if (attempt === life.attempt && e.agent_id !== life.agent_id)
      return `attempt ${attempt} was dispatched to ${life.agent_id}, not ${e.agent_id}`;
    return null;
  }

  protected dispatched(e: AgentEventOf<"run_dispatched">) {
    const life = this.life;
    const p = e.payload;
    life.owner = "central";
    if (p.attempt <= life.attempt && life.status !== "pending")
      return this.anomaly(e, `attempt ${p.attempt} was already dispatched`);
    if (!this.reach(e, "dispatch")) return;
    life.attempt = p.attempt;
    life.agent_id = p.agent_id;
    life.app = p.app ?? life.app;
    life.hold = {
      agent_id: p.agent_id,
      attempt: p.attempt,
      acked: false,
      ack_deadline: Date.parse(p.ack_deadline),
      lease_expires_at: null,
    };
    if (!life.tried_agents.includes(p.agent_id)) life.tried_agents.push(p.agent_id);
    life.dispatched_at ??= Date.parse(e.ts);
    life.retry_at = null;
    life.unserved_since = null;
    life.reported_failure = null;
  }

  protected started(e: AgentEventOf<"run_started">) {
    const life = this.life;
    const p = e.payload;
    if (p.origin === "central") life.owner = "central";
    life.intent_type ??= p.intent_type;
    if (this.superseded(e, p.attempt)) return;
    if (isSettled(life)) return this.anomaly(e, `the run was already ${life.status}`);
    if (!(life.status === "running" && life.attempt === p.attempt)) {
      if (p.attempt > life.attempt && HELD.includes(life.status) && !this.reach(e, "retry")) return;
      const wasPending = life.status === "pending";
      if (!this.reach(e, "claim")) return;
      if (wasPending) {
        // The log lacks the dispatch (an outbox, or a run the edge started itself).
        life.dispatched_at ??= Date.parse(e.ts);
        life.hold = null;
      }
    }
    life.attempt = p.attempt;
    // The app the dispatch named (central's registry of the agent) stands; a run the log shows no
    // dispatch of takes the app the edge reports.
    life.app ??= p.app;
    life.agent_id = e.agent_id;
    life.tree_ref = p.tree_ref;
    life.forked_from = p.forked_from ?? life.forked_from;
    life.started_at ??= Date.parse(e.ts);
    life.unserved_since = null;
    life.retry_at = null;
  }

  protected completed(e: AgentEventOf<"run_completed">) {
    const attempt = e.attempt ?? this.life.attempt;
    if (this.superseded(e, attempt) || this.alreadySettled(e, "completed")) return;
    if (!this.reachAttempt(e, attempt) || !this.reach(e, "complete")) return;
    this.settle(e, null);
    this.life.result = e.payload.result;
    this.life.tree_ref = e.payload.tree_ref ?? this.life.tree_ref;
  }

  /** The holder says its attempt failed: the run's owner rules on what happens next. */
  protected reportedFailed(e: AgentEventOf<"run_failed">) {
    const life = this.life;
    const attempt = e.attempt ?? life.attempt;
    if (this.superseded(e, attempt) || this.alreadySettled(e, "failed")) return;
    if (!this.reachAttempt(e, attempt)) return;
    life.tree_ref = e.payload.tree_ref ?? life.tree_ref;
    if (life.owner === "edge") {
      if (this.reach(e, "fail")) this.settle(e, e.payload.error);
      return;
    }
    life.reported_failure = { attempt, error: e.payload.error };
  }

  /** Central failed the run for good (deadline, attempts exhausted, invalid intent, ...). */
  protected ruledFailed(e: AgentEventOf<"run_failed">) {
    if (this.alreadySettled(e, "failed")) return;
    if (!this.reach(e, "fail")) return;
    this.settle(e, e.payload.error);
    this.life.tree_ref = e.payload.tree_ref ?? this.life.tree_ref;
  }

  protected cancelled(e: AgentEventOf<"run_cancelled">) {
    const life = this.life;
    const attempt = e.attempt ?? life.attempt;
    if (e.source === "edge" && this.superseded(e, attempt)) return;
    if (this.alreadySettled(e, "cancelled")) return;
    if (e.source === "edge" && !this.reachAttempt(e, attempt)) return;
    if (!this.reach(e, "cancel")) return;
    this.settle(e, {
      category: "cancelled",
      reason: e.source === "edge" ? "cancelled_on_edge" : "cancelled",
      message: e.payload.reason,
    });
    life.tree_ref = e.payload.tree_ref ?? life.tree_ref;
  }

  /** Central sent the run back to the queue; the next attempt waits for `retryAt`. */
  protected requeued(
    e: AgentEvent,
    attempt: number,
    on: "ack_timeout" | "lease_expired" | "retry" | "drop",
    error: RunError,
    retryAt: number | null,
  ) {
    const life = this.life;
    if (isSettled(life)) return this.anomaly(e, `the run was already ${life.status}`);
    if (attempt !== life.attempt || !HELD.includes(life.status))
      return this.anomaly(
        e,
        `attempt ${attempt} is not the one held (attempt ${life.attempt}, ${life.status})`,
      );
    const step = transition(runMachine, life.status, on).ok ? on : "retry";
    if (!this.reach(e, step)) return;
    life.hold = null;
    life.error = error;
    life.retry_at = retryAt;
    life.reported_failure = null;
    life.closed_attempt = attempt;
    if (on === "drop") life.uncounted_attempts += 1;
  }
}
