import { z } from "zod";
import { AgentStatus } from "../machines/agent";
import { AgentId, AppName, queryInt, RunId, Timestamp } from "../primitives";
import { Skill } from "../skill";
import { Harness } from "../wire";

export const AgentInfo = z
  .object({
    agent_id: AgentId,
    app: AppName,
    status: AgentStatus,
    skills: z.array(Skill),
    capabilities: z.array(z.string()),
    harness: Harness,
    agent_version: z.string(),
    max_concurrency: z.number().int(),
    running: z.array(RunId),
    connected_at: Timestamp.nullable(),
    last_heartbeat_at: Timestamp.nullable(),
    status_since: Timestamp,
  })
  .meta({ id: "AgentInfo" });
export type AgentInfo = z.infer<typeof AgentInfo>;

/** `GET /v1/agents`, by agent id; pass `next` as `after` for the next page. */
export const AgentList = z
  .object({ agents: z.array(AgentInfo), next: AgentId.nullable() })
  .meta({ id: "AgentList" });
export type AgentList = z.infer<typeof AgentList>;

/** Query of `GET /v1/agents`. */
export const AgentsQuery = z.strictObject({
  limit: queryInt(1, 500).default(100),
  /** The `next` of the previous page. */
  after: AgentId.optional(),
});
export type AgentsQuery = z.output<typeof AgentsQuery>;
