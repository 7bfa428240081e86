import type { z } from "zod";
import type { AgentEvent, RefuseMessage, RunLife, StepResult } from "../../contract";
import { Failure } from "../../contract";
import type { AgentRow, AgentStore } from "../fleet/agent-store";
import type { RunOwner } from "../runs/run-owner";
import type { RunTable } from "../runs/run-table";
import type { TenantContext } from "../tenant/context";
import { hasRoom, selectAgent, servedBy } from "./select";

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

  /**
   * Dispatches queued runs to eligible agents, oldest first. Each run is read as it is when its
   * turn comes: dispatching or failing one can cancel another (its plan's), which then stays
   * cancelled. While no agent can take work, runs only learn whether anyone serves them (their
   * queue timeout); no intent is read but the one of the run being dispatched.
   */
  drainQueue(): void {
    this.ctx.rearm();
    const queue = this.table.queueIds(this.ctx.now());
    if (queue.length === 0) return;
    const agents = this.agents.live();
    const loads = this.table.loads();
    const open = agents.some((a) => hasRoom(a, loads));
    for (const runId of queue) {
      const life = this.table.get(runId);
      if (life?.status === "pending") this.offer(life, agents, loads, open);
    }
  }

  /** Tries one newly queued run now. */
  tryDispatch(life: RunLife): void {
    this.offer(life, this.agents.live(), this.table.loads(), true);
    this.ctx.rearm();
  }

  private offer(
    life: RunLife,
    agents: AgentRow[],
    loads: Map<string, number>,
    open: boolean,
  ): void {
    for (;;) {
      const agent = open ? selectAgent(life, agents, loads, life.tried_agents) : null;
      if (!agent) {
        // Waiting: for capacity, or for an agent that serves it at all (the queue timeout runs).
        const served = servedBy(life, agents);
        if (served !== (life.unserved_since === null))
          this.owner.apply(life.run_id, { type: "queue", served });
        return;
      }
      const outcome = this.owner.dispatch(life, agent);
      if (outcome === "sent") loads.set(agent.agentId, (loads.get(agent.agentId) ?? 0) + 1);
      if (outcome !== "unsent") return;
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

  /** Timer work: every run whose timer is due, each as it is when its turn comes, then the queue. */
  processDue(): void {
    for (const runId of this.table.dueIds(this.ctx.now()))
      this.owner.apply(runId, { type: "tick" });
    this.drainQueue();
  }

  ack(agentId: string, runId: string, attempt: number): void {
    this.owner.apply(runId, { type: "ack", agent_id: agentId, attempt });
  }

  claim(agentId: string, runId: string, attempt: number): void {
    if (!this.owner.apply(runId, { type: "claim", agent_id: agentId, attempt }))
      this.tell(agentId, { type: "claim_rejected", run_id: runId, attempt, reason: "unknown run" });
  }

  refuse(agentId: string, refusal: Refusal): void {
    this.moveOn(
      this.owner.apply(refusal.run_id, {
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
   * names but lost are cancelled on its side; runs central has it holding that it does not name
   * are sent again (not yet claimed) or go back to the queue (it lost them).
   */
  resume(agentId: string, holding: readonly Held[]): void {
    for (const h of holding) this.renewOne(agentId, h, true);
    const named = new Set(holding.map((h) => h.run_id));
    for (const life of this.table.heldBy(agentId))
      if (!named.has(life.run_id))
        this.owner.apply(life.run_id, {
          type: "forgotten",
          agent_id: agentId,
          attempt: life.attempt,
        });
  }

  /** Heartbeats renew the leases of the runs they name. */
  renew(agentId: string, held: readonly Held[]): void {
    for (const h of held) this.renewOne(agentId, h, false);
  }

  private renewOne(agentId: string, h: Held, reconnect: boolean): void {
    const input = { type: "renew", agent_id: agentId, attempt: h.attempt, reconnect } as const;
    if (!this.owner.apply(h.run_id, input) && reconnect)
      this.tell(agentId, { type: "cancel", run_id: h.run_id, reason: "unknown run" });
  }

  /** Cancels a run now; its holder is told to stop. 409 when it has already ended. */
  cancel(runId: string, reason: string, by: string | null): void {
    const result = this.owner.apply(runId, { type: "cancel", reason, by });
    if (!result) return;
    if (result.refusal) throw new Failure(409, "conflict", result.refusal.message);
    this.ctx.log.info("run cancel requested", { run_id: runId, by });
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
