import { type AgentInfo, AgentList, type CentralClient, PATHS } from "../contract";

/** Every agent of the tenant, page after page (central pages its agent list). */
export async function allAgents(client: CentralClient): Promise<AgentInfo[]> {
  const agents: AgentInfo[] = [];
  let after: string | null = null;
  do {
    const query: string =
      after === null ? "?limit=500" : `?limit=500&after=${encodeURIComponent(after)}`;
    const page: AgentList = await client.request("GET", `${PATHS.agents}${query}`, AgentList);
    agents.push(...page.agents);
    after = page.next;
  } while (after !== null);
  return agents;
}
