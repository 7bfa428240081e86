import type { DispatchSettings } from "../api/settings";
import type { AgentEvent } from "../events/agent-event";
import type { RetryPolicy } from "../run-state";
import type { CentralMessage } from "../wire";

/** What the owner of a run needs of the tenant's settings to rule on it. */
export interface RunSettings {
  dispatch: DispatchSettings;
  retry: RetryPolicy;
}

/**
 * What a step asks its caller to do; the fold itself does nothing. Central carries these out
 * (log appends, WebSocket frames, the agent registry); followers have none.
 */
export type RunEffect =
  /** Append this event, which central decided, to the tenant's log (already folded in). */
  | { type: "emit"; event: AgentEvent }
  /**
   * Send the run's intent to this agent. A first send that cannot go out discards the step; a
   * send again to the holder keeps it (its ack deadline runs out as any other).
   */
  | { type: "dispatch"; agent_id: string; attempt: number; ack_timeout_ms: number }
  /** Send this frame to the agent. */
  | { type: "send"; agent_id: string; message: CentralMessage }
  /** The agent took the run on (it is busy). */
  | { type: "holding"; agent_id: string }
  /** The agent no longer holds the run (it may be idle again, and the queue may move). */
  | { type: "released"; agent_id: string };

/** An input refused as a whole (the life is unchanged), and why, for the caller to report. */
export interface Refusal {
  code: "conflict" | "not_owner";
  message: string;
}
