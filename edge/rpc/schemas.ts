import { z } from "zod";
import { AgentId, AppName, ForkRequest, RunId, TenantId } from "../../contract";
import { RunRecord } from "../runs/run-record";

export { LocalRunRequest } from "../runs/local-intent";

/** `POST /runs/{id}/fork`: where to branch off, and optionally the fork's instruction. */
export const LocalForkRequest = ForkRequest.extend({
  prompt: z.string().min(1).max(200_000).optional(),
});

export const LocalCancelRequest = z.strictObject({
  reason: z.string().min(1).max(1024).optional(),
});

export const AgentHealth = z.object({
  agent_id: AgentId,
  app: AppName,
  tenant: TenantId,
  status: z
    .enum(["online", "busy", "draining", "degraded"])
    .describe("degraded: working without central (unreachable, or none configured)"),
  pid: z.number().int(),
  central: z.object({
    url: z.string().nullable(),
    connected: z.boolean(),
    last_error: z.string().nullable(),
  }),
  running: z.array(RunId),
  outbox: z.object({
    size: z.number().int(),
    pending: z.number().int(),
    rejected: z.number().int().describe("events central refused for good, kept beside the outbox"),
  }),
  model: z.string(),
});
export type AgentHealth = z.infer<typeof AgentHealth>;

export const RunRecordList = z.object({ runs: z.array(RunRecord) });
