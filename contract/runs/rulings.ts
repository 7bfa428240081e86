import type { AgentEvent, EventKind, EventPayload } from "../events/agent-event";
import { describeTarget } from "../intent";
import { CENTRAL_AGENT_ID } from "../primitives";
import { type RunError, retryDelayMs, shouldRetry } from "../run-state";
import type { Owner, StepContext } from "./context";
import { FactFold } from "./facts";
import type { RefuseReason, RunInput } from "./inputs";
import { FORGIVEN_DROPS, isSettled, type RunLife } from "./life";
import { HELD, iso } from "./moves";
import { usageOf } from "./usage";

/**
 * A step as a whole: the facts of the log for everyone, and, where central owns the run, its
 * rulings on them (dispatch, claims and leases, retries, deadlines, cancellation), each emitted
 * as an event and folded in as every follower will fold it.
 */
export class Fold extends FactFold {
  constructor(
    life: RunLife,
    private readonly context: StepContext,
  ) {
    super(life);
  }

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
      case "forgotten":
        return this.forgotten(owner, input.agent_id, input.attempt);
      case "refuse":
        return this.refuse(owner, input.agent_id, input.attempt, input.reason, input.message);
      case "tick":
        return this.tick(owner);
    }
  }

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

  /**
   * The holder reconnected without naming the run. A dispatch it has not claimed may have gone out
   * on the socket that died: it is sent again once (the same attempt, a new ack deadline). A run
   * it had claimed it lost (it restarted): back to the queue at once, the attempt not counted
   * against the retry policy, as the run did not fail. Both only so often: an agent that loses
   * the same run again and again (one the run makes crash, a host that keeps no state) would
   * otherwise be sent it for ever, so past that its deadlines run out and a lost claim counts as
   * a failed attempt, with the policy's backoff.
   * Test: test/central/dispatch/scheduler.test.ts "an agent that reconnects without naming".
   */
  private forgotten(owner: Owner, agentId: string, attempt: number) {
    const hold = this.held(agentId, attempt);
    if (!hold) return;
    const error: RunError = {
      category: "infrastructure",
      reason: "agent_restarted",
      message: `${agentId} reconnected without attempt ${attempt}`,
    };
    if (this.life.status === "dispatched") {
      if (hold.resent) return;
      const ackTimeout = owner.settings.dispatch.ack_timeout_ms;
      hold.acked = false;
      hold.ack_deadline = owner.now + ackTimeout;
      hold.lease_expires_at = null;
      hold.resent = true;
      this.effects.push({
        type: "dispatch",
        agent_id: agentId,
        attempt,
        ack_timeout_ms: ackTimeout,
      });
      return;
    }
    if (this.life.uncounted_attempts >= FORGIVEN_DROPS) {
      this.retryOrFail(owner, "failed", error);
      return;
    }
    this.emit(owner, "run_retrying", {
      attempt,
      cause: "dropped",
      error,
      retry_at: iso(owner.now),
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
    const counted = life.attempt - life.uncounted_attempts;
    const at = owner.now + retryDelayMs(policy, counted + 1);
    const retry =
      shouldRetry(policy, error.category, counted) &&
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
}

function describeTargets(life: RunLife): string {
  if (life.targets.length === 0) return "the run";
  return life.targets.map(describeTarget).join(" or ");
}
