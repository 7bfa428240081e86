import type { RunLife } from "./life";

/**
 * Whether a run hears from an edge agent at all, by what its log says: a run central owns, only
 * from the agents central dispatched an attempt to; a run an edge agent started, only from that
 * agent (before its first event, from whoever sends it). Central refuses another agent's events
 * of a run it knows at ingest (central/events/ingest.ts), so no agent of the tenant can end,
 * cancel or bill a run it was never given. Within the run, the fold takes a report on an attempt
 * only from the agent holding it (FactFold.fromStranger).
 */
export function hearsFrom(life: RunLife, agentId: string): boolean {
  if (life.owner === "central") return life.tried_agents.includes(agentId);
  return life.agent_id === null || life.agent_id === agentId;
}
