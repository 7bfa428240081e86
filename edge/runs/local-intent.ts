import { userInfo } from "node:os";
import { z } from "zod";
import {
  ContractValidationError,
  Intent,
  IntentRequest,
  nowTs,
  parse,
  uuidv7,
} from "../../contract";

/**
 * A run started on the agent itself (local RPC, `auraison edge run`): an IntentRequest without
 * targets (it is for this agent) plus a `prompt` shorthand for `params.prompt`.
 */
export const LocalRunRequest = IntentRequest.omit({ targets: true, idempotency_key: true }).extend({
  prompt: z.string().min(1).max(200_000).optional(),
});
export type LocalRunRequest = z.infer<typeof LocalRunRequest>;

/** The full Intent of a local run, minted here because there is no central to do it. */
export function localIntent(
  request: LocalRunRequest,
  who: { tenant: string; agentId: string },
): Intent {
  const params = { ...request.params, ...(request.prompt ? { prompt: request.prompt } : {}) };
  if (request.type === "task" && typeof params.prompt !== "string")
    throw new ContractValidationError("local run", [
      {
        path: "prompt",
        expected: "string",
        message: "a task needs a prompt",
        code: "invalid_type",
      },
    ]);
  return parse(
    Intent,
    {
      intent_id: uuidv7(),
      type: request.type,
      params,
      policy_ctx: {
        tenant: who.tenant,
        principal: `local:${safeUser()}`,
        budget: request.budget ?? {},
        ...(request.allowed_tools ? { allowed_tools: request.allowed_tools } : {}),
      },
      targets: [{ agent_id: who.agentId }],
      ...(request.deadline ? { deadline: request.deadline } : {}),
      ...(request.fork_of ? { fork_of: request.fork_of } : {}),
      created_at: nowTs(),
    },
    "local run",
  );
}

function safeUser(): string {
  try {
    return userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}
