import type { AgentEvent } from "../events/agent-event";
import { type IntentEvent, intentMachine } from "../machines/intent";
import { isTerminal, mustTransition, pathTo, transition } from "../machines/machine";
import { type RunEvent, type RunStatus, runMachine } from "../machines/run";
import type { RunError } from "../run-state";
import type { Refusal, RunEffect } from "./effects";
import { isSettled, MAX_ANOMALIES, type RunLife } from "./life";

/** What each run transition means for its intent (one intent, one run). */
const INTENT_EVENT: Record<RunEvent, IntentEvent | null> = {
  dispatch: "dispatch",
  claim: null,
  ack_timeout: "requeue",
  lease_expired: "requeue",
  retry: "requeue",
  drop: "requeue",
  complete: "complete",
  fail: "fail",
  cancel: "cancel",
};

export const HELD: readonly RunStatus[] = ["dispatched", "running"];

/**
 * One step's working state, a private copy of the run's life changed in place, and the moves
 * every step makes: along the run and intent machines (implying what a partial log lacks),
 * settling, and telling duplicates and stale attempts from anomalies. The facts of the log
 * (facts.ts) and central's rulings (rulings.ts) are built on these.
 */
export abstract class RunMoves {
  readonly effects: RunEffect[] = [];
  refusal: Refusal | null = null;

  constructor(readonly life: RunLife) {}

  /** Moves the run, and its intent, along their machines. */
  protected move(on: RunEvent) {
    const life = this.life;
    const before = life.status;
    life.status = mustTransition(runMachine, life.status, on);
    const intentOn = INTENT_EVENT[on];
    if (!intentOn) return;
    // A run that failed before any agent took it leaves its intent expired, not failed.
    const expire =
      on === "fail" &&
      before === "pending" &&
      life.attempt === 0 &&
      life.intent_status === "queued";
    const next = expire ? "expire" : intentOn;
    const moved = transition(intentMachine, life.intent_status, next);
    if (moved.ok) life.intent_status = moved.to;
  }

  /**
   * Takes the run to where `on` is allowed, implying the transitions a partial log lacks (an
   * outbox has no dispatch), then makes it. False, with an anomaly, when the machine allows no
   * such path.
   */
  protected reach(e: AgentEvent, on: RunEvent): boolean {
    const path = pathTo(runMachine, this.life.status, on);
    if (!path) {
      this.anomaly(e, `'${on}' is not possible from '${this.life.status}'`);
      return false;
    }
    for (const step of path) this.move(step);
    this.move(on);
    return true;
  }

  /**
   * An attempt-scoped event of a later attempt than the log showed: the earlier attempt was
   * retried without the log saying so (an outbox, or a log from before run_retrying existed).
   */
  protected reachAttempt(e: AgentEvent, attempt: number): boolean {
    const life = this.life;
    if (attempt <= life.attempt) return true;
    if (HELD.includes(life.status) && !this.reach(e, "retry")) return false;
    life.attempt = attempt;
    life.agent_id = e.agent_id;
    return true;
  }

  /** The run reached a terminal status through `e`. */
  protected settle(e: AgentEvent, error: RunError | null) {
    const life = this.life;
    life.error = error;
    life.finished_at = Date.parse(e.ts);
    life.settled_by = e.event_id;
    life.hold = null;
    life.retry_at = null;
    life.unserved_since = null;
    life.reported_failure = null;
  }

  /** A report of an attempt a later one replaced: in the log, but it settles nothing. */
  protected superseded(e: AgentEvent, attempt: number): boolean {
    const life = this.life;
    if (attempt <= life.closed_attempt) {
      this.anomaly(e, `attempt ${attempt} had already been sent back to the queue`);
      return true;
    }
    if (attempt >= life.attempt) return false;
    this.anomaly(e, `attempt ${attempt} was superseded by attempt ${life.attempt}`);
    return true;
  }

  /** A run ends once: the same ending again is a duplicate; another one is an anomaly. */
  protected alreadySettled(e: AgentEvent, as: RunStatus): boolean {
    const life = this.life;
    if (!isTerminal(runMachine, life.status)) return false;
    if (life.status !== as) this.anomaly(e, `the run was already ${life.status}`);
    return true;
  }

  protected anomaly(e: AgentEvent, why: string) {
    const list = this.life.anomalies;
    list.push(`${e.kind} ${e.event_id} (attempt ${e.attempt ?? "-"}): ${why}: ignored`);
    if (list.length > MAX_ANOMALIES) list.splice(0, list.length - MAX_ANOMALIES);
  }

  protected refuse409(message: string): void {
    this.refusal = { code: "conflict", message };
  }

  protected send(agentId: string, message: Extract<RunEffect, { type: "send" }>["message"]) {
    this.effects.push({ type: "send", agent_id: agentId, message });
  }

  protected held(agentId: string, attempt: number) {
    const hold = this.life.hold;
    if (!hold || hold.agent_id !== agentId || hold.attempt !== attempt) return null;
    return HELD.includes(this.life.status) ? hold : null;
  }

  protected whyNotHeld(agentId: string, attempt: number): string {
    const life = this.life;
    if (isSettled(life)) return `the run is ${life.status}`;
    if (life.hold?.agent_id !== agentId) return "the run is not dispatched to this agent";
    if (life.hold.attempt !== attempt)
      return `attempt ${attempt} is stale (current: ${life.attempt})`;
    return `the run is ${life.status}`;
  }

  /** Who started or stopped holding the run in this step, for the agent registry. */
  holdChanges(before: RunLife): RunEffect[] {
    const was = holder(before);
    const is = holder(this.life);
    const out: RunEffect[] = [];
    if (was && was !== is) out.push({ type: "released", agent_id: was });
    const claimedNow =
      this.life.status === "running" && is && (before.status !== "running" || was !== is);
    if (claimedNow) out.push({ type: "holding", agent_id: is });
    return out;
  }
}

function holder(life: RunLife): string | null {
  return HELD.includes(life.status) ? (life.hold?.agent_id ?? null) : null;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
