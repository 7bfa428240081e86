import { z } from "zod";
import { AgentStatus } from "../machines/agent";
import { AgentId, AppName, RunId, Timestamp } from "../primitives";
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

export const AgentList = z.object({ agents: z.array(AgentInfo) }).meta({ id: "AgentList" });
