import type { Connection } from "agents";
import type { z } from "zod";
import {
  CENTRAL_AGENT_ID,
  type CentralMessage,
  CONTRACT_VERSION,
  check,
  EdgeMessage,
  isCompatibleContract,
} from "../../contract";
import type { Scheduler } from "../dispatch/scheduler";
import type { Ingest } from "../events/ingest";
import type { AuditLog } from "../governance/audit-log";
import type { SecretStore } from "../governance/secret-store";
import { iso, type TenantContext } from "../tenant/context";
import type { AgentRow, AgentStore } from "./agent-store";

/** What a hibernatable agent connection remembers about itself. */
export interface SocketState {
  keyId: string;
  keyApp: string | null;
  agentId: string | null;
}

export const CLOSE = {
  goodbye: 1000,
  protocol: 4000,
  revoked: 4001,
  forbidden: 4003,
  replaced: 4009,
  incompatible: 4010,
} as const;

type Msg<T extends EdgeMessage["type"]> = Extract<z.output<typeof EdgeMessage>, { type: T }>;

/**
 * One edge agent's WebSocket: every frame is a contract/wire.ts message, validated; the first
 * must be `hello`. Registration, heartbeats, event batches, and the dispatch handshake
 * (ack, claim, refuse) are handled here and handed to the fleet, ingest and the scheduler.
 */
export class AgentSocket {
  constructor(
    private readonly ctx: TenantContext,
    private readonly agents: AgentStore,
    private readonly scheduler: Scheduler,
    private readonly ingest: Ingest,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
  ) {}

  message(connection: Connection<SocketState>, raw: string | ArrayBuffer): void {
    const state = connection.state;
    if (!state) {
      connection.close(CLOSE.protocol, "unauthenticated connection");
      return;
    }
    if (typeof raw !== "string") {
      this.error(
        connection,
        "invalid_message",
        "frames are JSON text; binary frames are not accepted",
        false,
      );
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.error(connection, "malformed_json", "the frame is not valid JSON", false);
      return;
    }
    const parsed = check(EdgeMessage, json);
    if (!parsed.ok) {
      const detail = parsed.issues
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join("; ");
      this.error(
        connection,
        "invalid_message",
        `not a contract message: ${detail}`,
        state.agentId === null,
      );
      if (state.agentId === null) connection.close(CLOSE.protocol, "invalid hello");
      return;
    }
    const message = parsed.value;
    if (state.agentId === null) {
      if (message.type !== "hello") {
        this.error(connection, "hello_required", "the first message must be hello", true);
        connection.close(CLOSE.protocol, "hello required");
        return;
      }
      this.hello(connection, state, message);
      return;
    }
    const agent = this.agents.get(state.agentId);
    if (!agent || agent.connectionId !== connection.id) {
      connection.close(CLOSE.replaced, "replaced by a newer connection");
      return;
    }
    // Before anything else can dispatch to it (a recovery from degraded drains the queue).
    if (message.type === "drain" || (message.type === "heartbeat" && message.status === "draining"))
      this.drain(agent);
    this.heard(agent);
    switch (message.type) {
      case "hello":
        this.error(
          connection,
          "already_registered",
          `already registered as ${state.agentId}`,
          false,
        );
        break;
      case "heartbeat":
        this.heartbeat(agent, message);
        break;
      case "events":
        this.events(connection, agent, message);
        break;
      case "ack":
        this.scheduler.ack(agent.agentId, message.run_id, message.attempt);
        break;
      case "claim":
        this.scheduler.claim(agent.agentId, message.run_id, message.attempt);
        break;
      case "refuse":
        this.scheduler.refuse(agent.agentId, message);
        break;
      case "redeem_secrets":
        this.redeem(connection, agent, message).catch((error: unknown) => {
          this.ctx.log.error("secrets redemption failed", { run_id: message.run_id, error });
          this.reply(connection, [
            { ...secretsAnswer(message), refused: "central could not redeem the handle" },
          ]);
        });
        break;
      case "drain":
        this.ctx.rearm();
        break;
      case "goodbye":
        this.goodbye(connection, agent, message.reason);
        break;
    }
  }

  /** The socket closed: the agent is disconnected unless a newer connection replaced it. */
  closed(connection: Connection<SocketState>): void {
    const agentId = connection.state?.agentId;
    if (!agentId) return;
    const agent = this.agents.get(agentId);
    if (!agent || agent.connectionId !== connection.id) return;
    const now = this.ctx.now();
    agent.connectionId = null;
    agent.disconnectedAt = now;
    if (!this.agents.apply(agent, "disconnect", now)) this.agents.save(agent);
    this.ctx.log.info("agent connection closed", { agent_id: agentId, status: agent.status });
    this.ctx.rearm();
  }

  private hello(
    connection: Connection<SocketState>,
    state: SocketState,
    message: Msg<"hello">,
  ): void {
    const reg = message.registration;
    if (!isCompatibleContract(reg.contract_version)) {
      this.error(
        connection,
        "incompatible_contract",
        `contract ${reg.contract_version} is not compatible with central's ${CONTRACT_VERSION}`,
        true,
      );
      connection.close(CLOSE.incompatible, "incompatible contract version");
      return;
    }
    // An agent id stays with the app it was registered for: taken over by an agent of another
    // app, it would take the runs it holds and the dispatches that name it.
    const registered = this.agents.get(reg.agent_id);
    const forbidden =
      reg.agent_id === CENTRAL_AGENT_ID
        ? `agent id '${CENTRAL_AGENT_ID}' is reserved`
        : state.keyApp !== null && reg.app !== state.keyApp
          ? `this agent key may only register agents of app ${state.keyApp}`
          : registered && registered.app !== reg.app
            ? `agent ${reg.agent_id} is an agent of app ${registered.app}; an agent of app ${reg.app} needs an id of its own`
            : null;
    if (forbidden) {
      this.audit.record({
        principal: state.keyId,
        role: "agent",
        action: "agents.register",
        target: reg.agent_id,
        outcome: "denied",
        status: 403,
        requestId: null,
        detail: { app: reg.app, reason: forbidden },
      });
      this.error(connection, "forbidden", forbidden, true);
      connection.close(CLOSE.forbidden, "forbidden");
      return;
    }
    const now = this.ctx.now();
    const previous = registered?.connectionId;
    const agent = this.agents.register(reg, state.keyId, connection.id, now);
    this.agents.apply(agent, "connect", now);
    connection.setState({ ...state, agentId: reg.agent_id });
    if (previous && previous !== connection.id)
      this.ctx.close(previous, CLOSE.replaced, "replaced by a newer connection");
    const settings = this.ctx.settings();
    this.reply(connection, [
      {
        type: "welcome",
        tenant: this.ctx.tenant,
        agent_id: reg.agent_id,
        contract_version: CONTRACT_VERSION,
        heartbeat_interval_ms: settings.heartbeat.interval_ms,
        lease_ms: settings.dispatch.lease_ms,
        server_time: iso(now),
      },
    ]);
    this.scheduler.resume(reg.agent_id, message.holding);
    this.busyIfHolding(agent);
    this.scheduler.releaseIfIdle(reg.agent_id);
    this.audit.record({
      principal: state.keyId,
      role: "agent",
      action: "agents.register",
      target: reg.agent_id,
      outcome: "ok",
      status: 101,
      requestId: null,
      detail: {
        app: reg.app,
        agent_version: reg.agent_version,
        harness: `${reg.harness.name} ${reg.harness.version}`,
      },
    });
    this.ctx.log.info("agent registered", { agent_id: reg.agent_id, app: reg.app });
    this.scheduler.drainQueue();
    this.ctx.rearm();
  }

  private heartbeat(agent: AgentRow, message: Msg<"heartbeat">): void {
    agent.lastHeartbeatAt = this.ctx.now();
    agent.outboxPending = message.outbox_pending;
    this.agents.save(agent);
    this.scheduler.renew(agent.agentId, message.running);
  }

  private events(
    connection: Connection<SocketState>,
    agent: AgentRow,
    message: Msg<"events">,
  ): void {
    const outcome = this.ingest.ingest(message.events, { kind: "socket", agentId: agent.agentId });
    this.reply(connection, [
      {
        type: "events_ack",
        batch_id: message.batch_id,
        stored: outcome.durable,
        duplicates: outcome.duplicates,
        rejected: outcome.rejected,
      },
    ]);
  }

  /**
   * Hands the holder of a run attempt the secrets its claim's handle covers, once. The values go
   * into this one frame and nowhere else: the audit entry names the secrets, not their values.
   */
  private async redeem(
    connection: Connection<SocketState>,
    agent: AgentRow,
    message: Msg<"redeem_secrets">,
  ): Promise<void> {
    const { run_id, attempt } = message;
    const outcome = this.scheduler.holds(agent.agentId, run_id, attempt)
      ? await this.secrets.redeem({ ...message, agent_id: agent.agentId, app: agent.app })
      : { ok: false as const, reason: "this agent does not hold this run attempt" };
    this.audit.record({
      principal: connection.state?.keyId ?? agent.agentId,
      role: "agent",
      action: "secrets.redeem",
      target: run_id,
      outcome: outcome.ok ? "ok" : "denied",
      status: outcome.ok ? 200 : 403,
      requestId: null,
      detail: outcome.ok
        ? {
            agent_id: agent.agentId,
            attempt,
            names: Object.keys(outcome.values),
            missing: outcome.missing,
          }
        : { agent_id: agent.agentId, attempt, reason: outcome.reason },
    });
    this.reply(connection, [
      outcome.ok
        ? {
            ...secretsAnswer(message),
            values: outcome.values,
            missing: outcome.missing,
            refused: null,
          }
        : { ...secretsAnswer(message), refused: outcome.reason },
    ]);
  }

  private goodbye(connection: Connection<SocketState>, agent: AgentRow, reason: string): void {
    const now = this.ctx.now();
    agent.connectionId = null;
    agent.disconnectedAt = now;
    if (!this.agents.apply(agent, "shutdown", now) && !this.agents.apply(agent, "disconnect", now))
      this.agents.save(agent);
    this.ctx.log.info("agent said goodbye", {
      agent_id: agent.agentId,
      reason,
      status: agent.status,
    });
    connection.close(CLOSE.goodbye, "goodbye");
    this.ctx.rearm();
  }

  /** The agent takes no new work until it restarts (its next hello), whatever its status does. */
  private drain(agent: AgentRow): void {
    if (agent.draining && agent.status === "draining") return;
    agent.draining = true;
    if (!this.agents.apply(agent, "drain", this.ctx.now())) this.agents.save(agent);
  }

  /**
   * Any frame is a sign of life: a degraded agent recovers, draining again if it was, else busy
   * again if it holds runs.
   */
  private heard(agent: AgentRow): void {
    const now = this.ctx.now();
    if (agent.status === "degraded") {
      agent.lastSeenAt = now;
      if (this.agents.apply(agent, "heartbeat", now)) {
        if (agent.draining) this.agents.apply(agent, "drain", now);
        else this.busyIfHolding(agent);
        this.scheduler.drainQueue();
      }
    } else this.agents.touch(agent, now);
  }

  private busyIfHolding(agent: AgentRow): void {
    if (agent.status === "online" && this.scheduler.holds(agent.agentId))
      this.agents.apply(agent, "assign", this.ctx.now());
  }

  private reply(connection: Connection<SocketState>, messages: CentralMessage[]): void {
    for (const message of messages) connection.send(JSON.stringify(message));
  }

  private error(
    connection: Connection<SocketState>,
    code: string,
    message: string,
    fatal: boolean,
  ): void {
    this.reply(connection, [{ type: "error", code, message: message.slice(0, 4096), fatal }]);
  }
}

/** A `secrets` answer to `message` that hands over nothing yet. */
function secretsAnswer(
  message: Msg<"redeem_secrets">,
): Extract<CentralMessage, { type: "secrets" }> {
  const { run_id, attempt, names } = message;
  return { type: "secrets", run_id, attempt, values: {}, missing: [...names], refused: null };
}
