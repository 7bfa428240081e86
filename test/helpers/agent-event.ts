import { type AgentEventInput, uuidv7 } from "../../contract";

/** An edge agent's AgentEvent with a fresh id, as the scripted agents of the tests send them. */
export function agentEvent(
  from: { tenant: string; agentId: string; seq: number },
  kind: AgentEventInput["kind"],
  payload: unknown,
  run: { run_id: string; attempt: number } | null,
): AgentEventInput {
  return {
    event_id: uuidv7(),
    tenant: from.tenant,
    run_id: run?.run_id ?? null,
    agent_id: from.agentId,
    source: "edge",
    seq: from.seq,
    attempt: run?.attempt ?? null,
    kind,
    payload,
    ts: new Date().toISOString(),
  } as AgentEventInput;
}
