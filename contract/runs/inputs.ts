import type { AgentEvent } from "../events/agent-event";

/** Why an agent turned a dispatch down (the wire's `refuse`). */
export type RefuseReason = "invalid_intent" | "no_capacity" | "unsupported" | "draining";

/**
 * What moves a run. Events are facts from the log, which every runtime folds the same way; the
 * rest are central's inputs as the run's owner: its scheduler's choices, the holder's frames and
 * its timer.
 */
export type RunInput =
  /** Events of this run from the log, in log order (an agent's batch, or a replay). */
  | { type: "events"; events: readonly AgentEvent[] }
  /** The scheduler picked this agent for the queued run. */
  | { type: "dispatch"; agent_id: string; app: string | null }
  /** Whether any online agent serves the queued run now (the queue timeout counts while none does). */
  | { type: "queue"; served: boolean }
  | { type: "ack"; agent_id: string; attempt: number }
  | { type: "claim"; agent_id: string; attempt: number }
  /** A heartbeat names the run (renews the lease), or a reconnecting agent says it holds it. */
  | { type: "renew"; agent_id: string; attempt: number; reconnect: boolean }
  | {
      type: "refuse";
      agent_id: string;
      attempt: number;
      reason: RefuseReason;
      message: string;
    }
  /** Its holder reconnected without naming it in `holding` (see Fold.forgotten). */
  | { type: "forgotten"; agent_id: string; attempt: number }
  | { type: "cancel"; reason: string; by: string | null }
  /** Time passed: deadlines, acknowledgement and lease expiry, the queue timeout. */
  | { type: "tick" };
