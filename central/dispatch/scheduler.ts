import type { z } from "zod";
import type { AgentEvent, Intent, RefuseMessage, RunLife, StepResult } from "../../contract";
import { Failure } from "../../contract";
import type { AgentRow, AgentStore } from "../fleet/agent-store";
import type { RunOwner } from "../runs/run-owner";
import type { RunTable } from "../runs/run-table";
import type { TenantContext } from "../tenant/context";
import { selectAgent, servedBy } from "./select";

type Refusal = z.infer<typeof RefuseMessage>;
type Held = { run_id: string; attempt: number };

/**
 * The tenant's queue: which queued run goes to which agent, and when the timer looks at runs
 * again. What a dispatch, an acknowledgement, a claim, a lost lease or a cancel does to a run is
 * the fold's (contract/runs); this picks agents, feeds the fold and hands frames over.
 */
export class Scheduler {
  constructor(
    private readonly ctx: TenantContext,
    private readonly table: RunTable,
    private readonly agents: AgentStore,
    private readonly owner: RunOwner,
  ) {}

  /** Dispatches queued runs to eligible agents, oldest first. */
  drainQueue(): void {
    this.ctx.rearm();
    const queue = this.table.queue(this.ctx.now());
    if (queue.length === 0) return;
    const agents = this.agents.live();
    const loads = this.table.loads();
    for (const life of queue) {
      const intent = life.intent_id ? this.table.intent(life.intent_id)?.intent : undefined;
      if (intent) this.offer(life, intent, agents, loads);
    }
  }

  /** Tries one newly queued run now. */
  tryDispatch(life: RunLife, intent: Intent): void {
    this.offer(life, intent, this.agents.live(), this.table.loads());
    this.ctx.rearm();
  }

  private offer(
    life: RunLife,
    intent: Intent,
    agents: AgentRow[],
    loads: Map<string, number>,
  ): void {
    for (;;) {
      const agent = selectAgent(intent, agents, loads, life.tried_agents);
      if (!agent) {
        // Waiting: for capacity, or for an agent that serves it at all (the queue timeout runs).
        const served = servedBy(intent, agents);
        if (served !== (life.unserved_since === null))
          this.owner.apply(life, { type: "queue", served });
        return;
      }
      if (this.owner.dispatch(life, intent, agent)) {
        loads.set(agent.agentId, (loads.get(agent.agentId) ?? 0) + 1);
        return;
      }
      // The socket is gone without a close event reaching us yet: treat it as closed.
      this.agentGone(agent);
      agents.splice(agents.indexOf(agent), 1);
    }
  }

  /** The run as central knows it, if it does. */
  life(runId: string): RunLife | undefined {
    return this.table.get(runId);
  }

  /** New events of one run from the log; a run that let its agent go lets the queue move. */
  observe(runId: string, events: readonly AgentEvent[]): void {
    this.moveOn(this.owner.observe(runId, events));
  }

  /** A slot came free: queued runs may go out. */
  private moveOn(result: StepResult | null): void {
    if (result?.effects.some((e) => e.type === "released")) this.drainQueue();
  }

  /** Timer work: every run whose timer is due, then the queue. */
  processDue(): void {
    for (const life of this.table.due(this.ctx.now())) this.owner.apply(life, { type: "tick" });
    this.drainQueue();
  }

  ack(agentId: string, runId: string, attempt: number): void {
    const life = this.table.get(runId);
    if (life) this.owner.apply(life, { type: "ack", agent_id: agentId, attempt });
  }

  claim(agentId: string, runId: string, attempt: number): void {
    const life = this.table.get(runId);
    if (life) this.owner.apply(life, { type: "claim", agent_id: agentId, attempt });
    else
      this.tell(agentId, { type: "claim_rejected", run_id: runId, attempt, reason: "unknown run" });
  }

  refuse(agentId: string, refusal: Refusal): void {
    const life = this.table.get(refusal.run_id);
    if (!life) return;
    this.moveOn(
      this.owner.apply(life, {
        type: "refuse",
        agent_id: agentId,
        attempt: refusal.attempt,
        reason: refusal.reason,
        message: refusal.message,
      }),
    );
  }

  /**
   * After a (re)connect: runs the agent still holds keep going (their leases renewed); runs it
   * names but lost are cancelled on its side.
   */
  resume(agentId: string, holding: readonly Held[]): void {
    for (const h of holding) this.renewOne(agentId, h, true);
  }

  /** Heartbeats renew the leases of the runs they name. */
  renew(agentId: string, held: readonly Held[]): void {
    for (const h of held) this.renewOne(agentId, h, false);
  }

  private renewOne(agentId: string, h: Held, reconnect: boolean): void {
    const life = this.table.get(h.run_id);
    if (life)
      this.owner.apply(life, { type: "renew", agent_id: agentId, attempt: h.attempt, reconnect });
    else if (reconnect)
      this.tell(agentId, { type: "cancel", run_id: h.run_id, reason: "unknown run" });
  }

  /** Cancels a run now; its holder is told to stop. 409 when it has already ended. */
  cancel(life: RunLife, reason: string, by: string | null): void {
    const result = this.owner.apply(life, { type: "cancel", reason, by });
    if (result.refusal) throw new Failure(409, "conflict", result.refusal.message);
    this.ctx.log.info("run cancel requested", { run_id: life.run_id, by });
    this.drainQueue();
  }

  /** Whether the agent holds any run (dispatched to it or claimed), or this run attempt, claimed. */
  holds(agentId: string, runId?: string, attempt?: number): boolean {
    if (runId === undefined) return this.table.heldBy(agentId).length > 0;
    const life = this.table.get(runId);
    return (
      life?.status === "running" && life.hold?.agent_id === agentId && life.hold.attempt === attempt
    );
  }

  releaseIfIdle(agentId: string): void {
    this.owner.releaseIfIdle(agentId);
  }

  private tell(agentId: string, message: Parameters<TenantContext["send"]>[1]): void {
    const connection = this.agents.get(agentId)?.connectionId;
    if (connection) this.ctx.send(connection, message);
  }

  private agentGone(agent: AgentRow): void {
    const now = this.ctx.now();
    agent.connectionId = null;
    agent.disconnectedAt = now;
    if (!this.agents.apply(agent, "disconnect", now)) this.agents.save(agent);
  }
}
