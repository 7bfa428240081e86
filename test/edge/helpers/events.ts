import { type AgentEvent, AgentEvent as AgentEventSchema, nowTs, uuidv7 } from "../../../contract";

/** A valid AgentEvent for outbox tests; `seq` and `run_id` vary per call site. */
export function messageEvent(runId: string, seq: number, text = `line ${seq}`): AgentEvent {
  return AgentEventSchema.parse({
    event_id: uuidv7(),
    tenant: "lab",
    run_id: runId,
    agent_id: "host-1.lab-notes",
    source: "edge",
    seq,
    attempt: 1,
    ts: nowTs(),
    kind: "message",
    payload: { role: "assistant", text, entry_id: null, turn: 0 },
  });
}
