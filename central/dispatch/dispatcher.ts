import type { z } from "zod";
import {
  type AgentEvent,
  addUsage,
  type CentralMessage,
  emptyUsage,
  type Intent,
  type IntentEvent,
  type IntentStatus,
  intentMachine,
  isTerminal,
  mustTransition,
  type RefuseMessage,
  type RunError,
  type RunEvent,
  type RunStatus,
  retryDelayMs,
  runMachine,
  shouldRetry,
  type Usage,
} from "../../contract";
import type { CentralEvents } from "../events/central-events";
import type { AgentRow, AgentStore } from "../fleet/agent-store";
import { ApiFailure } from "../http/errors";
import type { RunRow, RunStore } from "../runs/run-store";
import { iso, type TenantContext } from "../tenant/context";
import { selectAgent } from "./select";

type Refusal = z.infer<typeof RefuseMessage>;
type Held = { run_id: string; attempt: number };

/**
 * Intents to runs to agents: the queue, dispatch with an ack timeout, claims under a lease that
 * events and heartbeats renew, re-dispatch under the retry policy when a lease or an ack times
 * out, deadlines, cancellation, and the run lifecycle the edge reports. Every status change goes
 * through the contract's run and intent machines.
 */
export class Dispatcher {
  constructor(
    private readonly ctx: TenantContext,
    private readonly runs: RunStore,
    private readonly agents: AgentStore,
    private readonly central: CentralEvents,
  ) {}

  private get settings() {
    return this.ctx.settings();
  }

  /** Dispatches queued runs to eligible agents, oldest first. */
  drainQueue(): void {
    this.ctx.rearm();
    const now = this.ctx.now();
    const queue = this.runs.queue(now);
    if (queue.length === 0) return;
    const agents = this.agents.live();
    const loads = this.runs.loads();
    for (const run of queue) {
      const intent = this.runs.intent(run.intentId)?.intent;
      if (!intent) continue;
      this.dispatch(run, intent, agents, loads);
    }
  }

  /** Tries one run now; returns whether it went out. */
  tryDispatch(run: RunRow, intent: Intent): boolean {
    const sent = this.dispatch(run, intent, this.agents.live(), this.runs.loads());
    this.ctx.rearm();
    return sent;
  }

  private dispatch(
    run: RunRow,
    intent: Intent,
    agents: AgentRow[],
    loads: Map<string, number>,
  ): boolean {
    for (;;) {
      const agent = selectAgent(intent, agents, loads, run.triedAgents);
      if (!agent) return false;
      const now = this.ctx.now();
      const attempt = run.attempt + 1;
      const sent = this.ctx.send(agent.connectionId!, {
        type: "dispatch",
        run_id: run.runId,
        attempt,
        intent,
        ack_timeout_ms: this.settings.dispatch.ack_timeout_ms,
      });
      if (!sent) {
        // The socket is gone without a close event reaching us yet: treat it as closed.
        this.agentGone(agent, now);
        continue;
      }
      this.move(run, "dispatch");
      this.moveIntent(run.intentId, "dispatch");
      run.attempt = attempt;
      run.agentId = agent.agentId;
      run.app = agent.app;
      run.leaseAgent = agent.agentId;
      run.leaseAttempt = attempt;
      run.leaseExpiresAt = null;
      run.acked = false;
      run.ackDeadline = now + this.settings.dispatch.ack_timeout_ms;
      run.retryAt = null;
      run.dispatchedAt = now;
      if (!run.triedAgents.includes(agent.agentId))
        run.triedAgents = [...run.triedAgents, agent.agentId];
      this.central.emit(run, "run_dispatched", {
        intent_id: run.intentId,
        agent_id: agent.agentId,
        attempt,
        ack_deadline: iso(run.ackDeadline),
      });
      this.runs.save(run);
      agent.lastDispatchedAt = now;
      this.agents.save(agent);
      loads.set(agent.agentId, (loads.get(agent.agentId) ?? 0) + 1);
      this.ctx.log.info("run dispatched", {
        run_id: run.runId,
        agent_id: agent.agentId,
        attempt,
      });
      return true;
    }
  }

  /** The agent has the dispatch; it now has a lease's time to claim it. */
  ack(agentId: string, runId: string, attempt: number): void {
    const run = this.held(agentId, runId, attempt);
    if (run?.status !== "dispatched" || run.acked) return;
    run.acked = true;
    run.ackDeadline = null;
    run.leaseExpiresAt = this.ctx.now() + this.settings.dispatch.lease_ms;
    this.runs.save(run);
    this.ctx.rearm();
  }

  /** Answer to a claim: the lease, or why not. */
  claim(agentId: string, runId: string, attempt: number): CentralMessage {
    const run = this.held(agentId, runId, attempt);
    if (!run)
      return {
        type: "claim_rejected",
        run_id: runId,
        attempt,
        reason: this.whyNotHeld(agentId, runId, attempt),
      };
    const now = this.ctx.now();
    if (run.status === "dispatched") this.start(run, now);
    run.leaseExpiresAt = now + this.settings.dispatch.lease_ms;
    this.runs.save(run);
    this.ctx.rearm();
    return {
      type: "claimed",
      run_id: runId,
      attempt,
      lease_expires_at: iso(run.leaseExpiresAt),
    };
  }

  refuse(agentId: string, refusal: Refusal): void {
    const run = this.held(agentId, refusal.run_id, refusal.attempt);
    if (run?.status !== "dispatched") return;
    if (refusal.reason === "invalid_intent") {
      this.fail(run, {
        category: "invalid_intent",
        reason: "invalid_intent",
        message: refusal.message,
      });
    } else {
      this.central.emit(run, "error", {
        category: "infrastructure",
        code: "dispatch_refused",
        message: `${agentId} refused attempt ${refusal.attempt} (${refusal.reason}): ${refusal.message}`,
        fatal: false,
        detail: { agent_id: agentId, reason: refusal.reason },
      });
      this.retryOrFail(run, "retry", {
        category: "infrastructure",
        reason: "dispatch_refused",
        message: `refused by ${agentId}: ${refusal.message}`,
      });
    }
    this.runs.save(run);
    this.releaseIfIdle(agentId);
    this.drainQueue();
  }

  /**
   * After a (re)connect: runs the agent still holds keep going (their leases renewed); runs it
   * names but lost are cancelled on its side.
   */
  resume(agentId: string, holding: readonly Held[]): CentralMessage[] {
    const replies: CentralMessage[] = [];
    const now = this.ctx.now();
    for (const h of holding) {
      const run = this.held(agentId, h.run_id, h.attempt);
      if (!run) {
        replies.push({
          type: "cancel",
          run_id: h.run_id,
          reason: this.whyNotHeld(agentId, h.run_id, h.attempt),
        });
        continue;
      }
      if (run.status === "dispatched") this.start(run, now);
      run.leaseExpiresAt = now + this.settings.dispatch.lease_ms;
      this.runs.save(run);
      replies.push({
        type: "lease",
        run_id: run.runId,
        attempt: run.attempt,
        lease_expires_at: iso(run.leaseExpiresAt),
      });
    }
    this.ctx.rearm();
    return replies;
  }

  /** Heartbeats renew the leases of the runs they name. */
  renew(agentId: string, held: readonly Held[]): CentralMessage[] {
    const replies: CentralMessage[] = [];
    const expires = this.ctx.now() + this.settings.dispatch.lease_ms;
    for (const h of held) {
      const run = this.held(agentId, h.run_id, h.attempt);
      if (run?.status !== "running") continue;
      run.leaseExpiresAt = expires;
      this.runs.save(run);
      replies.push({
        type: "lease",
        run_id: run.runId,
        attempt: run.attempt,
        lease_expires_at: iso(expires),
      });
    }
    return replies;
  }

  /**
   * Applies one agent's events for one run attempt, in order, with one read and one write of
   * the run. Only the agent holding the run's current attempt moves it; a late event from one
   * that lost its lease is in the log but changes nothing. Returns the renewed lease, if the
   * run is still running.
   */
  onEdgeEvents(
    agentId: string,
    runId: string,
    attempt: number,
    events: readonly AgentEvent[],
  ): CentralMessage | null {
    const run = this.held(agentId, runId, attempt);
    if (!run) return null;
    const now = this.ctx.now();
    if (run.status === "dispatched") this.start(run, now);
    for (const event of events) {
      if (run.status !== "running") break;
      this.apply(run, event, now);
    }
    if (run.status === "running") run.leaseExpiresAt = now + this.settings.dispatch.lease_ms;
    this.runs.save(run);
    if (run.status === "running")
      return { type: "lease", run_id: runId, attempt, lease_expires_at: iso(run.leaseExpiresAt!) };
    this.releaseIfIdle(agentId);
    this.drainQueue();
    return null;
  }

  private apply(run: RunRow, event: AgentEvent, now: number): void {
    switch (event.kind) {
      case "run_started":
        run.treeRef = event.payload.tree_ref;
        break;
      case "model_call":
        if (event.payload.observer === "edge")
          run.usageAttempt = addUsage(run.usageAttempt, modelUsage(event.payload));
        break;
      case "tool_call_finished":
        run.usageAttempt = { ...run.usageAttempt, tool_calls: run.usageAttempt.tool_calls + 1 };
        break;
      case "run_completed":
        run.usageAttempt = event.payload.usage;
        run.treeRef = event.payload.tree_ref ?? run.treeRef;
        run.result = event.payload.result;
        this.finish(run, "complete", "complete", now);
        this.ctx.log.info("run completed", { run_id: run.runId, agent_id: event.agent_id });
        break;
      case "run_failed":
        run.usageAttempt = event.payload.usage;
        run.treeRef = event.payload.tree_ref ?? run.treeRef;
        this.retryOrFail(run, "retry", event.payload.error, false);
        break;
      case "run_cancelled":
        run.usageAttempt = event.payload.usage;
        run.treeRef = event.payload.tree_ref ?? run.treeRef;
        run.error = {
          category: "cancelled",
          reason: "cancelled_on_edge",
          message: event.payload.reason,
        };
        this.finish(run, "cancel", "cancel", now, undefined, false);
        break;
      default:
        break;
    }
  }

  /** Cancels a run now; a dispatched or running one is told to stop on its edge agent. */
  cancel(run: RunRow, reason: string, by: string | null): RunRow {
    if (isTerminal(runMachine, run.status as RunStatus))
      throw new ApiFailure(409, "conflict", `run ${run.runId} is already ${run.status}`);
    const holder = run.status === "pending" ? null : run.leaseAgent;
    run.error = { category: "cancelled", reason: "cancelled", message: reason };
    this.finish(run, "cancel", "cancel", this.ctx.now(), { reason, by });
    this.runs.save(run);
    if (holder) {
      const agent = this.agents.get(holder);
      if (agent?.connectionId)
        this.ctx.send(agent.connectionId, { type: "cancel", run_id: run.runId, reason });
      this.releaseIfIdle(holder);
    }
    this.ctx.log.info("run cancelled", { run_id: run.runId, by });
    this.drainQueue();
    return run;
  }

  /** Timer work: ack timeouts, expired leases and passed deadlines, then the queue. */
  processDue(): void {
    const now = this.ctx.now();
    for (const run of this.runs.expired(now)) {
      const holder = run.leaseAgent;
      if (run.deadline !== null && run.deadline <= now) this.deadlinePassed(run);
      else if (run.status === "dispatched" && !run.acked && (run.ackDeadline ?? Infinity) <= now)
        this.ackTimedOut(run);
      else if ((run.leaseExpiresAt ?? Infinity) <= now) this.leaseExpired(run);
      else continue;
      if (holder) this.releaseIfIdle(holder);
    }
    this.drainQueue();
  }

  /** An agent took on a run: busy, if it was only online. */
  private start(run: RunRow, now: number): void {
    this.move(run, "claim");
    run.acked = true;
    run.ackDeadline = null;
    run.startedAt ??= now;
    const agent = run.leaseAgent ? this.agents.get(run.leaseAgent) : undefined;
    if (agent?.status === "online") this.agents.apply(agent, "assign", now);
  }

  private ackTimedOut(run: RunRow): void {
    const agentId = run.leaseAgent;
    this.ctx.log.warn("dispatch not acknowledged", {
      run_id: run.runId,
      agent_id: agentId,
      attempt: run.attempt,
    });
    const next = this.retryOrFail(
      run,
      "ack_timeout",
      {
        category: "timeout",
        reason: "ack_timeout",
        message: `${agentId} did not acknowledge attempt ${run.attempt} within ${this.settings.dispatch.ack_timeout_ms} ms`,
      },
      true,
      (outcome) =>
        this.central.emit(run, "error", {
          category: "timeout",
          code: "ack_timeout",
          message: `${agentId} did not acknowledge the dispatch in time`,
          fatal: outcome === "fail",
          detail: { agent_id: agentId, attempt: run.attempt, next: outcome },
        }),
    );
    this.runs.save(run);
    this.notifyLost(agentId, run, next);
  }

  private leaseExpired(run: RunRow): void {
    const agentId = run.leaseAgent!;
    const attempt = run.attempt;
    this.ctx.log.warn("lease expired", { run_id: run.runId, agent_id: agentId, attempt });
    const next = this.retryOrFail(
      run,
      "lease_expired",
      {
        category: "infrastructure",
        reason: "lease_expired",
        message: `${agentId} stopped renewing the lease of attempt ${attempt}`,
      },
      true,
      (outcome, retryAt) =>
        this.central.emit(run, "lease_expired", {
          agent_id: agentId,
          attempt,
          next: outcome,
          retry_at: retryAt === null ? null : iso(retryAt),
        }),
    );
    this.runs.save(run);
    this.notifyLost(agentId, run, next);
  }

  private deadlinePassed(run: RunRow): void {
    const holder = run.status === "pending" ? null : run.leaseAgent;
    const neverTaken = run.status === "pending" && run.attempt === 0;
    run.error = {
      category: "timeout",
      reason: "deadline_exceeded",
      message: `the intent's deadline ${iso(run.deadline!)} passed`,
    };
    this.finish(run, "fail", neverTaken ? "expire" : "fail", this.ctx.now());
    this.runs.save(run);
    if (holder) {
      const agent = this.agents.get(holder);
      if (agent?.connectionId)
        this.ctx.send(agent.connectionId, {
          type: "cancel",
          run_id: run.runId,
          reason: "deadline exceeded",
        });
    }
  }

  /** A run that went back to the queue or failed is cancelled on the agent that lost it. */
  private notifyLost(agentId: string | null, run: RunRow, outcome: "retry" | "fail"): void {
    if (!agentId) return;
    const agent = this.agents.get(agentId);
    if (agent?.connectionId)
      this.ctx.send(agent.connectionId, {
        type: "cancel",
        run_id: run.runId,
        reason:
          outcome === "retry" ? "lease lost: the run was re-queued" : "lease lost: the run failed",
      });
  }

  /**
   * Sends a run back to the queue with backoff when the policy allows another attempt (and the
   * deadline leaves room), else fails it with `error`.
   */
  private retryOrFail(
    run: RunRow,
    event: Extract<RunEvent, "ack_timeout" | "lease_expired" | "retry">,
    error: RunError,
    centralDecided = true,
    announce?: (outcome: "retry" | "fail", retryAt: number | null) => void,
  ): "retry" | "fail" {
    const policy = this.settings.retry;
    const now = this.ctx.now();
    const retryAt = now + retryDelayMs(policy, run.attempt + 1);
    const retry =
      shouldRetry(policy, error.category, run.attempt) &&
      (run.deadline === null || retryAt < run.deadline);
    announce?.(retry ? "retry" : "fail", retry ? retryAt : null);
    if (retry) {
      this.move(run, event);
      this.moveIntent(run.intentId, "requeue");
      run.usagePrior = addUsage(run.usagePrior, run.usageAttempt);
      run.usageAttempt = emptyUsage();
      run.retryAt = retryAt;
      run.error = error;
      clearLease(run);
      this.ctx.log.info("run re-queued", {
        run_id: run.runId,
        reason: error.reason,
        retry_at: iso(retryAt),
      });
      return "retry";
    }
    this.fail(run, error, centralDecided);
    return "fail";
  }

  private fail(run: RunRow, error: RunError, centralDecided = true): void {
    run.error = error;
    this.finish(run, "fail", "fail", this.ctx.now(), undefined, centralDecided);
    this.ctx.log.info("run failed", { run_id: run.runId, reason: error.reason });
  }

  /** Ends a run: machine transitions for run and intent, usage folded, lease cleared, event. */
  private finish(
    run: RunRow,
    runEvent: Extract<RunEvent, "complete" | "fail" | "cancel">,
    intentEvent: Extract<IntentEvent, "complete" | "fail" | "cancel" | "expire">,
    now: number,
    cancel?: { reason: string; by: string | null },
    emit = runEvent !== "complete",
  ): void {
    this.move(run, runEvent);
    this.moveIntent(run.intentId, intentEvent);
    run.finishedAt = now;
    run.retryAt = null;
    clearLease(run);
    if (!emit) return;
    const usage = addUsage(run.usagePrior, run.usageAttempt);
    const duration = now - (run.startedAt ?? run.dispatchedAt ?? run.createdAt);
    if (runEvent === "cancel")
      this.central.emit(run, "run_cancelled", {
        reason: cancel?.reason ?? run.error?.message ?? "cancelled",
        by: cancel?.by ?? null,
        usage,
        tree_ref: run.treeRef,
      });
    else if (runEvent === "fail" && run.error)
      this.central.emit(run, "run_failed", {
        error: run.error,
        usage,
        duration_ms: Math.max(0, duration),
        tree_ref: run.treeRef,
      });
  }

  /** Whether the agent holds any run (dispatched to it or claimed). */
  holds(agentId: string): boolean {
    return this.runs.heldBy(agentId).length > 0;
  }

  /** An agent with no runs left goes back from busy to online. */
  releaseIfIdle(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (agent?.status === "busy" && this.runs.heldBy(agentId).length === 0)
      this.agents.apply(agent, "idle", this.ctx.now());
  }

  private agentGone(agent: AgentRow, now: number): void {
    agent.connectionId = null;
    agent.disconnectedAt = now;
    if (!this.agents.apply(agent, "disconnect", now)) this.agents.save(agent);
  }

  /** The run if `agentId` holds its current attempt, else undefined. */
  private held(agentId: string, runId: string, attempt: number): RunRow | undefined {
    const run = this.runs.run(runId);
    if (!run || run.leaseAgent !== agentId || run.leaseAttempt !== attempt) return undefined;
    if (run.status !== "dispatched" && run.status !== "running") return undefined;
    return run;
  }

  private whyNotHeld(agentId: string, runId: string, attempt: number): string {
    const run = this.runs.run(runId);
    if (!run) return "unknown run";
    if (isTerminal(runMachine, run.status as RunStatus)) return `the run is ${run.status}`;
    if (run.leaseAgent !== agentId) return "the run is not dispatched to this agent";
    if (run.leaseAttempt !== attempt)
      return `attempt ${attempt} is stale (current: ${run.attempt})`;
    return `the run is ${run.status}`;
  }

  private move(run: RunRow, event: RunEvent): void {
    run.status = mustTransition(runMachine, run.status as RunStatus, event);
  }

  private moveIntent(intentId: string, event: IntentEvent): void {
    const row = this.runs.intent(intentId);
    if (!row) return;
    this.runs.setIntentStatus(
      intentId,
      mustTransition(intentMachine, row.status as IntentStatus, event),
    );
  }
}

function clearLease(run: RunRow): void {
  run.leaseAgent = null;
  run.leaseAttempt = null;
  run.leaseExpiresAt = null;
  run.ackDeadline = null;
  run.acked = false;
}

function modelUsage(call: Extract<AgentEvent, { kind: "model_call" }>["payload"]): Usage {
  return {
    tokens_in: call.input_tokens,
    tokens_out: call.output_tokens,
    cache_read_tokens: call.cache_read_tokens,
    cache_write_tokens: call.cache_write_tokens,
    cost_usd: call.cost_usd,
    model_calls: 1,
    tool_calls: 0,
  };
}
