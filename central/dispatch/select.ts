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
    const eligible = agents.filter(
      (a) =>
        DISPATCHABLE_AGENT_STATUSES.has(a.status as AgentStatus) &&
        a.connectionId !== null &&
        load(a) < a.maxConcurrency &&
        matchesTarget(a, target),
    );
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
  return agents.some(
    (a) =>
      DISPATCHABLE_AGENT_STATUSES.has(a.status as AgentStatus) &&
      a.connectionId !== null &&
      intent.targets.some((t) => matchesTarget(a, t)),
  );
}
