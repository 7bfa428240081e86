import {
  type AgentStatus,
  DISPATCHABLE_AGENT_STATUSES,
  type Intent,
  type Target,
  targetMatches,
} from "../../contract";
import type { AgentRow } from "../fleet/agent-store";

export function matchesTarget(agent: AgentRow, target: Target): boolean {
  return targetMatches(target, {
    agent_id: agent.agentId,
    app: agent.app,
    skills: agent.skills,
    capabilities: agent.capabilities,
  });
}

/**
 * Whether an agent takes new work at all: connected, in a status that takes work, and not
 * draining (which only a restart ends, whatever its status does meanwhile).
 */
function takesWork(agent: AgentRow): boolean {
  return (
    DISPATCHABLE_AGENT_STATUSES.has(agent.status as AgentStatus) &&
    agent.connectionId !== null &&
    !agent.draining
  );
}

/** Whether an agent takes work and has a free slot. */
export function hasRoom(agent: AgentRow, loads: ReadonlyMap<string, number>): boolean {
  return takesWork(agent) && (loads.get(agent.agentId) ?? 0) < agent.maxConcurrency;
}

/**
 * Picks the agent for an intent: targets are tried in order; within one, the eligible agents
 * (connected, taking work, with a free slot) are ranked least busy first, then longest since
 * their last dispatch. A retry prefers an agent that has not had an attempt yet.
 */
export function selectAgent(
  intent: Pick<Intent, "targets">,
  agents: readonly AgentRow[],
  loads: ReadonlyMap<string, number>,
  tried: readonly string[] = [],
): AgentRow | null {
  const load = (a: AgentRow) => loads.get(a.agentId) ?? 0;
  for (const target of intent.targets) {
    const eligible = agents.filter((a) => hasRoom(a, loads) && matchesTarget(a, target));
    if (eligible.length === 0) continue;
    const fresh = eligible.filter((a) => !tried.includes(a.agentId));
    const pool = fresh.length > 0 ? fresh : eligible;
    pool.sort(
      (a, b) =>
        load(a) / a.maxConcurrency - load(b) / b.maxConcurrency ||
        (a.lastDispatchedAt ?? 0) - (b.lastDispatchedAt ?? 0) ||
        a.agentId.localeCompare(b.agentId),
    );
    return pool[0]!;
  }
  return null;
}

/**
 * Whether any connected agent that takes work serves one of the intent's targets, busy or not:
 * while none does, the run waits for an agent that may never come (the queue timeout runs).
 */
export function servedBy(intent: Pick<Intent, "targets">, agents: readonly AgentRow[]): boolean {
  return agents.some((a) => takesWork(a) && intent.targets.some((t) => matchesTarget(a, t)));
}
