import {
  type AgentEvent,
  blankRun,
  type CentralMessage,
  type Intent,
  isSettled,
  type RunEffect,
  type RunInput,
  type RunLife,
  redactString,
  type StepContext,
  type StepResult,
  stepRun,
  uuidv7,
} from "../../contract";
import type { EventLog } from "../events/event-log";
import type { AgentRow, AgentStore } from "../fleet/agent-store";
import type { SecretStore } from "../governance/secret-store";
import { DISPATCH_LATENCY } from "../metrics/instruments";
import type { MetricRecorder } from "../metrics/recorder";
import type { TenantContext } from "../tenant/context";
import { dispatchSpans, queueLeft } from "../tracing/intent-spans";
import type { RunTable } from "./run-table";

/**
 * Central as the owner of its runs. Whatever reaches a run — the scheduler's choice, a frame from
 * its holder, events, the timer, a cancel — goes through the fold (contract/runs), and this does
 * what the fold asks, in one synchronous step the Durable Object commits atomically: the run's
 * row saved, the events central decided appended to the log, frames sent, agents marked busy or
 * idle. Nothing here decides anything about a run.
 */
export class RunOwner {
  private readonly listeners: ((life: RunLife) => void)[] = [];

  constructor(
    private readonly ctx: TenantContext,
    private readonly table: RunTable,
    private readonly agents: AgentStore,
    private readonly log: EventLog,
    private readonly metrics: MetricRecorder,
    private readonly secrets: SecretStore,
  ) {}

  /** Called after every saved change of a run (plans follow their steps' runs this way). */
  onChange(listener: (life: RunLife) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Applies one input to the run as it is saved now and carries out the result (unless the fold
   * refused it); null for a run central does not know. Never a copy read earlier: carrying out
   * one run's step can move another (a plan that failed cancels its other steps' runs), and a
   * step folded over a stale copy would write that run back to where it was.
   */
  apply(runId: string, input: RunInput): StepResult | null {
    const life = this.table.get(runId);
    return life ? this.step(life, input) : null;
  }

  private step(life: RunLife, input: RunInput): StepResult {
    const result = stepRun(life, withoutSecrets(input), this.context());
    if (result.refusal) return result;
    this.carryOut(result.life, result.effects);
    if (life.status === "pending" && isSettled(result.life)) this.leftQueue(life, result.life);
    return result;
  }

  /** A queued run ended without going out (cancelled, timed out): its wait is a span too. */
  private leftQueue(queued: RunLife, ended: RunLife): void {
    if (!this.ctx.traces || !queued.intent_id) return;
    const intent = this.table.intent(queued.intent_id)?.intent;
    if (!intent) return;
    queueLeft(
      this.ctx.traces,
      this.ctx.tenant,
      {
        life: queued,
        intent,
        attempt: queued.attempt + 1,
        eligibleAt: queued.attempt === 0 ? queued.created_at : queued.retry_at,
      },
      ended.error?.reason ?? ended.status,
    );
  }

  /**
   * Sends a queued run's intent to `agent`; `life` is the run as just read. The step is kept only
   * if the frame went out: when the agent's socket is already gone ("unsent"), nothing changed and
   * the caller tries another agent.
   */
  dispatch(life: RunLife, agent: AgentRow): "sent" | "refused" | "unsent" {
    const intent = life.intent_id ? this.table.intent(life.intent_id)?.intent : undefined;
    const result = stepRun(
      life,
      { type: "dispatch", agent_id: agent.agentId, app: agent.app },
      this.context(),
    );
    const out = result.effects.find((e) => e.type === "dispatch");
    if (result.refusal || !out || !intent) return "refused";
    if (agent.connectionId === null) return "unsent";
    // A first attempt waited from its creation, a retry from the end of its backoff (a lease
    // that ran out with no retry_at sent it back at a moment no field keeps: not measured).
    const first = out.attempt === 1;
    const eligibleAt = first ? life.created_at : life.retry_at;
    if (!this.sendDispatch(life, intent, agent, out, eligibleAt, false)) return "unsent";
    this.carryOut(
      result.life,
      result.effects.filter((e) => e !== out),
    );
    const now = this.ctx.now();
    if (eligibleAt !== null)
      this.metrics.observe(
        DISPATCH_LATENCY,
        { app: agent.app, dispatch: first ? "first" : "retry" },
        Math.max(0, now - eligibleAt) / 1000,
      );
    // The scheduler's snapshot orders its next picks; the row is re-read so no other field of a
    // stale snapshot is written back.
    agent.lastDispatchedAt = now;
    const row = this.agents.get(agent.agentId);
    if (row) this.agents.save({ ...row, lastDispatchedAt: agent.lastDispatchedAt });
    return "sent";
  }

  /**
   * New events of one run from the log. A run central has never seen was started on an edge
   * (`edge run`, or while central was away): central follows it from its events from now on.
   */
  observe(runId: string, events: readonly AgentEvent[]): StepResult | null {
    let life = this.table.get(runId);
    if (!life) {
      const first = events.find((e) => e.source === "edge");
      if (!first) return null;
      life = blankRun(runId, this.ctx.tenant, Date.parse(first.ts));
    }
    return this.step(life, { type: "events", events });
  }

  private context(): StepContext {
    const now = this.ctx.now();
    return {
      role: "owner",
      now,
      settings: this.ctx.settings(),
      newEventId: () => uuidv7(now),
    };
  }

  private carryOut(life: RunLife, effects: readonly RunEffect[]): void {
    this.table.save(life, this.ctx.settings(), this.ctx.now());
    const emitted = effects.flatMap((e) => (e.type === "emit" ? [e.event] : []));
    if (emitted.length > 0) {
      this.log.append(emitted);
      for (const e of emitted)
        this.ctx.log.info(e.kind.replace("_", " "), {
          run_id: e.run_id,
          attempt: e.attempt,
          ...("agent_id" in e.payload ? { agent_id: e.payload.agent_id } : {}),
          ...("error" in e.payload && e.payload.error ? { reason: e.payload.error.reason } : {}),
        });
    }
    for (const effect of effects) {
      if (effect.type === "send") this.send(effect.agent_id, effect.message);
      else if (effect.type === "dispatch") this.sendAgain(life, effect);
      else if (effect.type === "holding") this.holding(effect.agent_id);
      else if (effect.type === "released") this.releaseIfIdle(effect.agent_id);
    }
    this.ctx.rearm();
    for (const listener of this.listeners) listener(life);
  }

  /** An agent that holds no run any more goes back from busy to online. */
  releaseIfIdle(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (agent?.status === "busy" && this.table.heldBy(agentId).length === 0)
      this.agents.apply(agent, "idle", this.ctx.now());
  }

  private holding(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (agent?.status === "online") this.agents.apply(agent, "assign", this.ctx.now());
  }

  /**
   * A dispatch its holder may not have received, sent again as it was (see Fold.forgotten), with
   * a dispatch span of its own when central records spans, so the attempt's spans on the edge
   * stay in the run's trace.
   */
  private sendAgain(life: RunLife, effect: Extract<RunEffect, { type: "dispatch" }>): void {
    const intent = life.intent_id ? this.table.intent(life.intent_id)?.intent : undefined;
    const agent = this.agents.get(effect.agent_id);
    if (intent && agent) this.sendDispatch(life, intent, agent, effect, null, true);
  }

  /** Sends a dispatch frame, under a dispatch span when central records spans; whether it went. */
  private sendDispatch(
    life: RunLife,
    intent: Intent,
    agent: AgentRow,
    effect: Extract<RunEffect, { type: "dispatch" }>,
    eligibleAt: number | null,
    again: boolean,
  ): boolean {
    const spans = this.ctx.traces
      ? dispatchSpans(
          this.ctx.traces,
          this.ctx.tenant,
          { life, intent, attempt: effect.attempt, eligibleAt },
          agent,
          again,
        )
      : null;
    const sent =
      agent.connectionId !== null &&
      this.ctx.send(agent.connectionId, {
        type: "dispatch",
        run_id: life.run_id,
        attempt: effect.attempt,
        intent: spans ? { ...intent, trace: spans.trace } : intent,
        ack_timeout_ms: effect.ack_timeout_ms,
      });
    spans?.sent(sent);
    return sent;
  }

  private send(agentId: string, message: CentralMessage): void {
    const connection = this.agents.get(agentId)?.connectionId;
    if (!connection) return;
    // A granted claim carries the run's one-time secrets handle, for this agent and attempt.
    if (message.type === "claimed")
      message = {
        ...message,
        secrets_handle: this.secrets.mint(message.run_id, message.attempt, agentId),
      };
    this.ctx.send(connection, message);
  }
}

/**
 * Text from outside central that a run keeps (an agent's refusal, a canceller's reason) becomes
 * its error and the events central appends to its log, which skip ingest: it is redacted here, as
 * an agent's own events are at ingest (they arrive as `events`, already redacted).
 */
function withoutSecrets(input: RunInput): RunInput {
  if (input.type === "refuse") return { ...input, message: redactString(input.message) };
  if (input.type === "cancel") return { ...input, reason: redactString(input.reason) };
  return input;
}
