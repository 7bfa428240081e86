import {
  type AgentInfo,
  type CentralClient,
  DISPATCHABLE_AGENT_STATUSES,
  describeTarget,
  type RunState,
  type Target,
  targetMatches,
} from "../contract";
import { allAgents } from "./fleet-agents";

/** The targets of a run in words, for tables: `app lab-notes`, `agent lab-1 | app x`. */
export function describeTargets(targets: readonly Target[]): string {
  return targets.map(describeTarget).join(" | ");
}

/**
 * Why a pending run is not running, in a sentence, from the agents central knows: nothing
 * serves its targets (and what does), the agents that do are away, or they are full. Null
 * when an agent could take it now (it is about to be dispatched, or waits out a retry backoff).
 */
export async function whyPending(client: CentralClient, run: RunState): Promise<string | null> {
  // A hint, never a failure: the intent is accepted whatever this finds out.
  const agents = await allAgents(client).catch(() => null);
  if (!agents) return null;
  const wanted = describeTargets(run.targets);
  const matching = agents.filter((a) => run.targets.some((t) => targetMatches(t, a)));
  if (matching.length === 0) {
    const online = agents.filter((a) => DISPATCHABLE_AGENT_STATUSES.has(a.status));
    if (online.length)
      return `nothing online serves ${wanted} (online: ${online.map(describeAgent).join(", ")})`;
    return agents.length
      ? `nothing online serves ${wanted} (no agent is online)`
      : `nothing serves ${wanted}: no edge agent has registered with this tenant yet (auraison edge start)`;
  }
  const ready = matching.filter((a) => DISPATCHABLE_AGENT_STATUSES.has(a.status));
  if (ready.length === 0)
    return `the agents for ${wanted} are away: ${matching.map((a) => `${a.agent_id} ${a.status}`).join(", ")}`;
  if (ready.every((a) => a.running.length >= a.max_concurrency))
    return `the agents for ${wanted} are full: ${ready.map((a) => `${a.agent_id} ${a.running.length}/${a.max_concurrency} runs`).join(", ")}`;
  return null;
}

function describeAgent(agent: AgentInfo): string {
  return `app ${agent.app} on ${agent.agent_id}`;
}
