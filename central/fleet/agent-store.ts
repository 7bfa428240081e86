import { and, eq, gt, lte, min, ne, notExists, sql } from "drizzle-orm";
import {
  type AgentInfo,
  type AgentLifecycleEvent,
  type AgentRegistration,
  type AgentStatus,
  type AgentsQuery,
  agentMachine,
  transition,
} from "../../contract";
import type { Database } from "../db/database";
import { page } from "../db/page";
import { agents, runs } from "../db/schema";
import { iso, isoOrNull } from "../tenant/context";

export type AgentRow = typeof agents.$inferSelect;

/** Edge agents as registered, and their status, moved only through the contract's agent machine. */
export class AgentStore {
  constructor(private readonly db: Database) {}

  get(agentId: string): AgentRow | undefined {
    return this.db.select().from(agents).where(eq(agents.agentId, agentId)).get();
  }

  /** One page of agents by id, after `after`. */
  list(query: AgentsQuery): { rows: AgentRow[]; next: string | null } {
    const rows = this.db
      .select()
      .from(agents)
      .where(query.after ? gt(agents.agentId, query.after) : undefined)
      .orderBy(agents.agentId)
      .limit(query.limit + 1)
      .all();
    return page(rows, query.limit, (a) => a.agentId);
  }

  /** How many agents of each app are in each status. */
  statusCounts(): { app: string; status: AgentStatus; agents: number }[] {
    return this.db
      .select({ app: agents.app, status: agents.status, agents: sql<number>`count(*)` })
      .from(agents)
      .groupBy(agents.app, agents.status)
      .all();
  }

  /**
   * Deletes agents offline since `before` or earlier that hold no run (a run's holder must stay
   * known until its lease or ack deadline lets it go); returns their ids.
   */
  forget(before: number): string[] {
    return this.db
      .delete(agents)
      .where(and(this.forgettable(), lte(agents.statusSince, before)))
      .returning({ agentId: agents.agentId })
      .all()
      .map((a) => a.agentId);
  }

  /** Since when the longest-offline agent that holds no run has been offline, if any is. */
  oldestForgettable(): number | null {
    return (
      this.db
        .select({ since: min(agents.statusSince) })
        .from(agents)
        .where(this.forgettable())
        .get()?.since ?? null
    );
  }

  private forgettable() {
    const holding = this.db
      .select({ one: sql`1` })
      .from(runs)
      .where(eq(runs.holder, agents.agentId));
    return and(eq(agents.status, "offline"), notExists(holding));
  }

  /** Agents that may still change status on their own (everything but offline). */
  live(): AgentRow[] {
    return this.db.select().from(agents).where(ne(agents.status, "offline")).all();
  }

  /** Records a (re-)registration on a new connection; the status is moved by `apply` after. */
  register(
    registration: AgentRegistration,
    keyId: string,
    connectionId: string,
    now: number,
  ): AgentRow {
    const existing = this.get(registration.agent_id);
    const row: AgentRow = {
      agentId: registration.agent_id,
      app: registration.app,
      status: existing?.status ?? agentMachine.initial,
      statusSince: existing?.statusSince ?? now,
      skills: registration.skills,
      capabilities: registration.capabilities,
      harness: registration.harness,
      agentVersion: registration.agent_version,
      contractVersion: registration.contract_version,
      maxConcurrency: registration.max_concurrency,
      keyId,
      connectionId,
      connectedAt: now,
      disconnectedAt: null,
      lastHeartbeatAt: existing?.lastHeartbeatAt ?? null,
      lastSeenAt: now,
      outboxPending: existing?.outboxPending ?? 0,
      // A hello is an agent (re)started: a drain asked of the process before it is over.
      draining: false,
      lastDispatchedAt: existing?.lastDispatchedAt ?? null,
      registeredAt: existing?.registeredAt ?? now,
    };
    this.db
      .insert(agents)
      .values(row)
      .onConflictDoUpdate({ target: agents.agentId, set: { ...row, agentId: undefined } })
      .run();
    return row;
  }

  /**
   * Moves an agent's status by a lifecycle event; returns false (and changes nothing) when the
   * machine has no such edge from its current status.
   */
  apply(row: AgentRow, event: AgentLifecycleEvent, now: number): boolean {
    const result = transition(agentMachine, row.status as AgentStatus, event);
    if (!result.ok) return false;
    if (result.to !== row.status) {
      row.status = result.to;
      row.statusSince = now;
    }
    this.save(row);
    return true;
  }

  /** Records a sign of life; at most one write a second, which is finer than any timer. */
  touch(row: AgentRow, now: number): void {
    if (row.lastSeenAt !== null && now - row.lastSeenAt < 1_000) return;
    row.lastSeenAt = now;
    this.db.update(agents).set({ lastSeenAt: now }).where(eq(agents.agentId, row.agentId)).run();
  }

  save(row: AgentRow): void {
    const { agentId, ...rest } = row;
    this.db.update(agents).set(rest).where(eq(agents.agentId, agentId)).run();
  }

  info(row: AgentRow, running: string[]): AgentInfo {
    return {
      agent_id: row.agentId,
      app: row.app,
      status: row.status as AgentStatus,
      skills: row.skills,
      capabilities: row.capabilities,
      harness: row.harness,
      agent_version: row.agentVersion,
      max_concurrency: row.maxConcurrency,
      running,
      connected_at: isoOrNull(row.connectedAt),
      last_heartbeat_at: isoOrNull(row.lastHeartbeatAt),
      status_since: iso(row.statusSince),
    };
  }
}
