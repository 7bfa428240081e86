import type { AgentEvent, AgentEventOf, EventKind, EventPayload } from "../events/agent-event";
import { describeTarget } from "../intent";
import { type IntentEvent, intentMachine } from "../machines/intent";
import { isTerminal, mustTransition, pathTo, transition } from "../machines/machine";
import { type RunEvent, type RunStatus, runMachine } from "../machines/run";
import { CENTRAL_AGENT_ID } from "../primitives";
import { type RunError, retryDelayMs, shouldRetry } from "../run-state";
import type { Refusal, RunEffect, RunSettings } from "./effects";
import type { RefuseReason, RunInput } from "./inputs";
import { isSettled, MAX_ANOMALIES, type RunLife } from "./life";
import { countModelCall, countToolCall, usageOf } from "./usage";

/**
 * How a step is taken. The owner of a run (central, for the runs it queued) rules on it: it
 * dispatches, renews leases, retries and fails by the tenant's settings and emits what it decided
 * as events. A follower (memory replaying the log, the edge keeping its view, central watching a
 * run an edge owns) only folds the facts the log holds, so it reaches the same run the owner did.
 */
export type StepContext =
  | { role: "owner"; now: number; settings: RunSettings; newEventId: () => string }
  | { role: "follower" };

export interface StepResult {
  life: RunLife;
  effects: RunEffect[];
  /** Set when the input was refused as a whole; `life` is then the input unchanged. */
  refusal: Refusal | null;
}

/**
 * A run's life, as one pure function: `(RunLife, input, context) -> (RunLife', effects)`. It is
 * the only place a run's status, attempts, hold and lease, retries, deadlines, cancellation,
 * usage and cost change: central carries out its effects, the edge and memory replay the log
 * through it (replay.ts). The machines in contract/machines/ say which moves are legal, each with
 * its reason; this says when each is made.
 */
export function stepRun(life: RunLife, input: RunInput, context: StepContext): StepResult {
  const fold = new Fold(structuredClone(life), context);
  fold.apply(input);
  if (fold.refusal) return { life, effects: [], refusal: fold.refusal };
  return { life: fold.life, effects: [...fold.effects, ...fold.holdChanges(life)], refusal: null };
}

/**
 * The kinds a run's fold reads (`Fold.fact`); an event of any other kind leaves the run as it
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

/** What each run transition means for its intent (one intent, one run). */
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

const HELD: readonly RunStatus[] = ["dispatched", "running"];

type Owner = Extract<StepContext, { role: "owner" }>;

/** One step's working state: a private copy of the life, changed in place, and the effects. */
class Fold {
  readonly effects: RunEffect[] = [];
  refusal: Refusal | null = null;

  constructor(
    readonly life: RunLife,
    private readonly context: StepContext,
  ) {}

  private get owner(): Owner | null {
    return this.context.role === "owner" && this.life.owner === "central" ? this.context : null;
  }

  apply(input: RunInput) {
    if (input.type === "events") {
      this.events(input.events);
      return;
    }
    const owner = this.context.role === "owner" ? this.context : null;
    if (!owner) throw new Error(`a follower cannot apply '${input.type}': only events`);
    if (input.type === "cancel") return this.cancel(owner, input.reason, input.by);
    if (this.life.owner !== "central") {
      this.refusal = {
        code: "not_owner",
        message: `run ${this.life.run_id} was started on the edge; central follows it but does not schedule it`,
      };
      return;
    }
    switch (input.type) {
      case "dispatch":
        return this.dispatch(owner, input.agent_id, input.app);
      case "queue":
        return this.queue(owner, input.served);
      case "ack":
        return this.ack(owner, input.agent_id, input.attempt);
      case "claim":
        return this.claim(owner, input.agent_id, input.attempt);
      case "renew":
        return this.renew(owner, input.agent_id, input.attempt, input.reconnect);
      case "refuse":
        return this.refuse(owner, input.agent_id, input.attempt, input.reason, input.message);
      case "tick":
        return this.tick(owner);
    }
  }

  // --- facts: the same for every runtime ---------------------------------------------------

  private events(events: readonly AgentEvent[]) {
    let renewed = false;
    for (const event of events) {
      const owner = this.owner;
      const hold = this.life.hold;
      const fromHolder =
        owner !== null &&
        event.source === "edge" &&
        hold !== null &&
        event.agent_id === hold.agent_id &&
        event.attempt === hold.attempt &&
        HELD.includes(this.life.status);
      // The holder is working on it, whether or not its claim reached us.
      if (fromHolder && this.life.status === "dispatched") this.claimed(owner);
      this.fact(event);
      if (!fromHolder) continue;
      if (this.life.reported_failure) this.ruleOnFailure(owner);
      if (this.life.status === "running") {
        this.life.hold!.lease_expires_at = owner.now + owner.settings.dispatch.lease_ms;
        renewed = true;
      }
    }
    const hold = this.life.hold;
    if (renewed && hold && this.life.status === "running")
      this.send(hold.agent_id, {
        type: "lease",
        run_id: this.life.run_id,
        attempt: hold.attempt,
        lease_expires_at: iso(hold.lease_expires_at!),
      });
  }

  /** Folds one event of the log into the run. */
  private fact(e: AgentEvent) {
    const life = this.life;
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
          e.payload.cause === "ack_timeout" ? "ack_timeout" : "retry",
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

  private dispatched(e: AgentEventOf<"run_dispatched">) {
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

  private started(e: AgentEventOf<"run_started">) {
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

  private completed(e: AgentEventOf<"run_completed">) {
    const attempt = e.attempt ?? this.life.attempt;
    if (this.superseded(e, attempt) || this.alreadySettled(e, "completed")) return;
    if (!this.reachAttempt(e, attempt) || !this.reach(e, "complete")) return;
    this.settle(e, null);
    this.life.result = e.payload.result;
    this.life.tree_ref = e.payload.tree_ref ?? this.life.tree_ref;
  }

  /** The holder says its attempt failed: the run's owner rules on what happens next. */
  private reportedFailed(e: AgentEventOf<"run_failed">) {
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
  private ruledFailed(e: AgentEventOf<"run_failed">) {
    if (this.alreadySettled(e, "failed")) return;
    if (!this.reach(e, "fail")) return;
    this.settle(e, e.payload.error);
    this.life.tree_ref = e.payload.tree_ref ?? this.life.tree_ref;
  }

  private cancelled(e: AgentEventOf<"run_cancelled">) {
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
  private requeued(
    e: AgentEvent,
    attempt: number,
    on: "ack_timeout" | "lease_expired" | "retry",
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
  }

  // --- central's rulings -------------------------------------------------------------------

  private dispatch(owner: Owner, agentId: string, app: string | null) {
    const life = this.life;
    if (life.status !== "pending") return this.refuse409(`run ${life.run_id} is ${life.status}`);
    if (life.retry_at !== null && life.retry_at > owner.now)
      return this.refuse409(`run ${life.run_id} waits for its retry until ${iso(life.retry_at)}`);
    const attempt = life.attempt + 1;
    const ackTimeout = owner.settings.dispatch.ack_timeout_ms;
    this.emit(
      owner,
      "run_dispatched",
      {
        intent_id: life.intent_id ?? life.run_id,
        agent_id: agentId,
        app,
        attempt,
        ack_deadline: iso(owner.now + ackTimeout),
      },
      attempt,
    );
    this.effects.push({ type: "dispatch", agent_id: agentId, attempt, ack_timeout_ms: ackTimeout });
  }

  private queue(owner: Owner, served: boolean) {
    if (this.life.status !== "pending") return;
    if (served) this.life.unserved_since = null;
    else this.life.unserved_since ??= owner.now;
  }

  private ack(owner: Owner, agentId: string, attempt: number) {
    const hold = this.held(agentId, attempt);
    if (!hold || this.life.status !== "dispatched" || hold.acked) return;
    hold.acked = true;
    hold.ack_deadline = null;
    hold.lease_expires_at = owner.now + owner.settings.dispatch.lease_ms;
  }

  private claim(owner: Owner, agentId: string, attempt: number) {
    const hold = this.held(agentId, attempt);
    if (!hold) {
      this.send(agentId, {
        type: "claim_rejected",
        run_id: this.life.run_id,
        attempt,
        reason: this.whyNotHeld(agentId, attempt),
      });
      return;
    }
    if (this.life.status === "dispatched") this.claimed(owner);
    hold.lease_expires_at = owner.now + owner.settings.dispatch.lease_ms;
    this.send(agentId, {
      type: "claimed",
      run_id: this.life.run_id,
      attempt,
      lease_expires_at: iso(hold.lease_expires_at),
    });
  }

  private renew(owner: Owner, agentId: string, attempt: number, reconnect: boolean) {
    const hold = this.held(agentId, attempt);
    if (!hold) {
      if (reconnect)
        this.send(agentId, {
          type: "cancel",
          run_id: this.life.run_id,
          reason: this.whyNotHeld(agentId, attempt),
        });
      return;
    }
    if (this.life.status === "dispatched") {
      if (!reconnect) return;
      this.claimed(owner);
    }
    hold.lease_expires_at = owner.now + owner.settings.dispatch.lease_ms;
    this.send(agentId, {
      type: "lease",
      run_id: this.life.run_id,
      attempt,
      lease_expires_at: iso(hold.lease_expires_at),
    });
  }

  private refuse(
    owner: Owner,
    agentId: string,
    attempt: number,
    reason: RefuseReason,
    message: string,
  ) {
    if (!this.held(agentId, attempt) || this.life.status !== "dispatched") return;
    if (reason === "invalid_intent")
      return this.failRun(owner, {
        category: "invalid_intent",
        reason: "invalid_intent",
        message,
      });
    this.retryOrFail(owner, "refused", {
      category: "infrastructure",
      reason: "dispatch_refused",
      message: `refused by ${agentId} (${reason}): ${message}`,
    });
  }

  private cancel(
    owner: Extract<StepContext, { role: "owner" }>,
    reason: string,
    by: string | null,
  ) {
    const life = this.life;
    if (isSettled(life)) return this.refuse409(`run ${life.run_id} is already ${life.status}`);
    if (life.owner === "edge") {
      // The edge that started it rules on it: ask it to stop; its run_cancelled settles the run.
      if (life.agent_id) this.send(life.agent_id, { type: "cancel", run_id: life.run_id, reason });
      return;
    }
    const holder = life.status === "pending" ? null : (life.hold?.agent_id ?? null);
    this.emit(owner, "run_cancelled", {
      reason,
      by,
      usage: usageOf(life.consumption),
      tree_ref: life.tree_ref,
    });
    if (holder) this.send(holder, { type: "cancel", run_id: life.run_id, reason });
  }

  private tick(owner: Owner) {
    const life = this.life;
    if (isSettled(life)) return;
    const now = owner.now;
    const hold = life.hold;
    if (life.deadline !== null && life.deadline <= now) {
      const holder = life.status === "pending" ? null : (hold?.agent_id ?? null);
      this.failRun(owner, {
        category: "timeout",
        reason: "deadline_exceeded",
        message: `the intent's deadline ${iso(life.deadline)} passed`,
      });
      if (holder)
        this.send(holder, { type: "cancel", run_id: life.run_id, reason: "deadline exceeded" });
      return;
    }
    if (
      life.status === "dispatched" &&
      hold &&
      !hold.acked &&
      (hold.ack_deadline ?? Infinity) <= now
    ) {
      const outcome = this.retryOrFail(owner, "ack_timeout", {
        category: "timeout",
        reason: "ack_timeout",
        message: `${hold.agent_id} did not acknowledge attempt ${hold.attempt} within ${owner.settings.dispatch.ack_timeout_ms} ms`,
      });
      this.lost(hold.agent_id, outcome);
      return;
    }
    if (hold && HELD.includes(life.status) && (hold.lease_expires_at ?? Infinity) <= now) {
      const error: RunError = {
        category: "infrastructure",
        reason: "lease_expired",
        message: `${hold.agent_id} stopped renewing the lease of attempt ${hold.attempt}`,
      };
      const retryAt = this.retryAt(owner, error);
      this.emit(owner, "lease_expired", {
        agent_id: hold.agent_id,
        attempt: hold.attempt,
        next: retryAt === null ? "fail" : "retry",
        retry_at: retryAt === null ? null : iso(retryAt),
      });
      if (retryAt === null) this.failRun(owner, error);
      this.lost(hold.agent_id, retryAt === null ? "fail" : "retry");
      return;
    }
    const timeout = owner.settings.dispatch.queue_timeout_ms;
    if (
      life.status === "pending" &&
      timeout !== null &&
      life.unserved_since !== null &&
      life.unserved_since + timeout <= now
    )
      this.failRun(owner, {
        category: "timeout",
        reason: "queue_timeout",
        message: `no online agent served ${describeTargets(life)} for ${Math.round(timeout / 1000)} s`,
      });
  }

  /** The holder said its attempt failed: another attempt if the policy gives one, else failed. */
  private ruleOnFailure(owner: Owner) {
    const reported = this.life.reported_failure!;
    this.retryOrFail(owner, "failed", reported.error);
  }

  private retryAt(owner: Owner, error: RunError): number | null {
    const life = this.life;
    const policy = owner.settings.retry;
    const at = owner.now + retryDelayMs(policy, life.attempt + 1);
    const retry =
      shouldRetry(policy, error.category, life.attempt) &&
      (life.deadline === null || at < life.deadline);
    return retry ? at : null;
  }

  private retryOrFail(
    owner: Owner,
    cause: "ack_timeout" | "refused" | "failed",
    error: RunError,
  ): "retry" | "fail" {
    const retryAt = this.retryAt(owner, error);
    if (retryAt === null) {
      this.failRun(owner, error);
      return "fail";
    }
    this.emit(owner, "run_retrying", {
      attempt: this.life.attempt,
      cause,
      error,
      retry_at: iso(retryAt),
    });
    return "retry";
  }

  private failRun(owner: Owner, error: RunError) {
    const life = this.life;
    const began = life.started_at ?? life.dispatched_at ?? life.created_at;
    this.emit(owner, "run_failed", {
      error,
      usage: usageOf(life.consumption),
      duration_ms: Math.max(0, owner.now - began),
      tree_ref: life.tree_ref,
    });
  }

  /** The agent that lost a run is told to stop working on it. */
  private lost(agentId: string, outcome: "retry" | "fail") {
    this.send(agentId, {
      type: "cancel",
      run_id: this.life.run_id,
      reason:
        outcome === "retry" ? "lease lost: the run was re-queued" : "lease lost: the run failed",
    });
  }

  private claimed(owner: Owner) {
    this.move("claim");
    const hold = this.life.hold!;
    hold.acked = true;
    hold.ack_deadline = null;
    hold.lease_expires_at ??= owner.now + owner.settings.dispatch.lease_ms;
  }

  /** Emits an event central decided and folds it in, as every follower will. */
  private emit<K extends EventKind>(
    owner: Owner,
    kind: K,
    payload: EventPayload<K>,
    attempt = this.life.attempt,
  ) {
    const life = this.life;
    const event = {
      event_id: owner.newEventId(),
      tenant: life.tenant,
      run_id: life.run_id,
      agent_id: CENTRAL_AGENT_ID,
      source: "central",
      seq: life.central_seq,
      attempt: attempt > 0 ? attempt : null,
      kind,
      payload,
      ts: iso(owner.now),
    } as AgentEvent;
    life.central_seq += 1;
    this.fact(event);
    this.effects.push({ type: "emit", event });
  }

  // --- shared moves ------------------------------------------------------------------------

  /** Moves the run, and its intent, along their machines. */
  private move(on: RunEvent) {
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
  private reach(e: AgentEvent, on: RunEvent): boolean {
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
  private reachAttempt(e: AgentEvent, attempt: number): boolean {
    const life = this.life;
    if (attempt <= life.attempt) return true;
    if (HELD.includes(life.status) && !this.reach(e, "retry")) return false;
    life.attempt = attempt;
    life.agent_id = e.agent_id;
    return true;
  }

  /** The run reached a terminal status through `e`. */
  private settle(e: AgentEvent, error: RunError | null) {
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
  private superseded(e: AgentEvent, attempt: number): boolean {
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
  private alreadySettled(e: AgentEvent, as: RunStatus): boolean {
    const life = this.life;
    if (!isTerminal(runMachine, life.status)) return false;
    if (life.status !== as) this.anomaly(e, `the run was already ${life.status}`);
    return true;
  }

  private anomaly(e: AgentEvent, why: string) {
    const list = this.life.anomalies;
    list.push(`${e.kind} ${e.event_id} (attempt ${e.attempt ?? "-"}): ${why}: ignored`);
    if (list.length > MAX_ANOMALIES) list.splice(0, list.length - MAX_ANOMALIES);
  }

  private refuse409(message: string): void {
    this.refusal = { code: "conflict", message };
  }

  private send(agentId: string, message: Extract<RunEffect, { type: "send" }>["message"]) {
    this.effects.push({ type: "send", agent_id: agentId, message });
  }

  private held(agentId: string, attempt: number) {
    const hold = this.life.hold;
    if (!hold || hold.agent_id !== agentId || hold.attempt !== attempt) return null;
    return HELD.includes(this.life.status) ? hold : null;
  }

  private whyNotHeld(agentId: string, attempt: number): string {
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

function describeTargets(life: RunLife): string {
  if (life.targets.length === 0) return "the run";
  return life.targets.map(describeTarget).join(" or ");
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The earliest time the owner must look at the run again (its timer), or null. A backoff that
 * has already ended is not a timer: the run waits in the queue for an agent.
 */
export function nextDue(life: RunLife, settings: RunSettings, now: number): number | null {
  if (isSettled(life)) return null;
  const due: number[] = [];
  if (life.deadline !== null) due.push(life.deadline);
  const hold = life.hold;
  if (hold && HELD.includes(life.status)) {
    if (life.status === "dispatched" && !hold.acked && hold.ack_deadline !== null)
      due.push(hold.ack_deadline);
    if (hold.lease_expires_at !== null) due.push(hold.lease_expires_at);
  }
  if (life.status === "pending") {
    if (life.retry_at !== null && life.retry_at > now) due.push(life.retry_at);
    const timeout = settings.dispatch.queue_timeout_ms;
    if (timeout !== null && life.unserved_since !== null) due.push(life.unserved_since + timeout);
  }
  return due.length ? Math.min(...due) : null;
}
