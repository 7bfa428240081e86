import type { AgentStatus, HeartbeatSettings } from "../../contract";
import type { TenantContext } from "../tenant/context";
import type { AgentRow, AgentStore } from "./agent-store";

/** WebSocket close code for an agent that stopped heartbeating. */
export const CLOSE_HEARTBEAT_TIMEOUT = 4008;

const ATTENDED: ReadonlySet<AgentStatus> = new Set(["online", "busy", "draining"]);

/**
 * Heartbeat bookkeeping driven by the tenant timer: one missed interval makes an agent
 * degraded, `disconnected_after` intervals disconnected (its socket is closed), and after the
 * grace period in disconnected it is offline; offline past `forget_after_ms` and holding no run,
 * it is forgotten.
 */
export class Liveness {
  constructor(
    private readonly ctx: TenantContext,
    private readonly agents: AgentStore,
  ) {}

  check(): void {
    const now = this.ctx.now();
    const hb = this.ctx.settings().heartbeat;
    for (const agent of this.agents.live()) {
      const silent = now - lastSign(agent);
      const status = agent.status as AgentStatus;
      if (ATTENDED.has(status) && silent >= hb.interval_ms * hb.degraded_after) {
        this.agents.apply(agent, "heartbeat_missed", now);
        this.ctx.log.warn("agent degraded", { agent_id: agent.agentId, silent_ms: silent });
      }
      if (agent.status === "degraded" && silent >= hb.interval_ms * hb.disconnected_after) {
        const connection = agent.connectionId;
        agent.connectionId = null;
        agent.disconnectedAt = now;
        this.agents.apply(agent, "heartbeat_missed", now);
        if (connection) this.ctx.close(connection, CLOSE_HEARTBEAT_TIMEOUT, "heartbeat timeout");
        this.ctx.log.warn("agent disconnected", { agent_id: agent.agentId, silent_ms: silent });
      }
      if (
        agent.status === "disconnected" &&
        now - (agent.disconnectedAt ?? now) >= hb.offline_grace_ms
      ) {
        this.agents.apply(agent, "grace_expired", now);
        this.ctx.log.info("agent offline", { agent_id: agent.agentId });
      }
    }
    for (const agentId of this.agents.forget(now - hb.forget_after_ms))
      this.ctx.log.info("agent forgotten", { agent_id: agentId });
  }

  /** When the next agent status change (or an offline agent's forgetting) is due if nothing is heard. */
  nextDue(): number | null {
    const hb = this.ctx.settings().heartbeat;
    const offline = this.agents.oldestForgettable();
    let due: number | null = offline === null ? null : offline + hb.forget_after_ms;
    for (const agent of this.agents.live()) {
      const at = dueAt(agent, hb);
      if (at !== null) due = due === null ? at : Math.min(due, at);
    }
    return due;
  }
}

function lastSign(agent: AgentRow): number {
  return agent.lastSeenAt ?? agent.connectedAt ?? agent.statusSince;
}

function dueAt(agent: AgentRow, hb: HeartbeatSettings): number | null {
  const status = agent.status as AgentStatus;
  if (ATTENDED.has(status)) return lastSign(agent) + hb.interval_ms * hb.degraded_after;
  if (status === "degraded") return lastSign(agent) + hb.interval_ms * hb.disconnected_after;
  if (status === "disconnected")
    return (agent.disconnectedAt ?? agent.statusSince) + hb.offline_grace_ms;
  return null;
}
