import { join } from "node:path";
import type { z } from "zod";
import { type AgentRegistration, CONTRACT_VERSION, type HeartbeatMessage } from "../contract";
import { EventDelivery } from "./fleet/delivery";
import { DispatchHandler } from "./fleet/dispatch-handler";
import { CentralLink, type FromCentral, type Welcome } from "./fleet/link";
import { formatModelRef } from "./models/model-settings";
import { RejectedEvents } from "./outbox/rejected";
import { rpcApp } from "./rpc/app";
import type { AgentHealth } from "./rpc/schemas";
import { SOCKET_NAME, serveRpc } from "./rpc/server";
import { EdgeRuntime, type EdgeRuntimeOptions } from "./runtime";
import { AGENT_VERSION, HARNESS } from "./version";

export interface EdgeAgentOptions extends EdgeRuntimeOptions {
  /** Central and this agent's key; null runs the agent on its own (degraded from the start). */
  central: { url: string; key: string } | null;
  /** How long a shutdown waits for running runs before checkpointing them. */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
}

type Status = z.output<typeof HeartbeatMessage>["status"];

/**
 * Events central refused for good, in the state directory (edge/outbox/rejected.ts); `.jsonl`,
 * so `memory sync --from-dir`, which reads `*.ndjson`, never takes its lines for events.
 */
export const REJECTED_FILE = "outbox.rejected.jsonl";

/**
 * `auraison edge start`: an EdgeRuntime plus the WebSocket to central (registration,
 * heartbeats, dispatch, event delivery) and the local RPC socket. Central being away changes
 * nothing about running work: runs continue, events queue in the outbox, local runs start.
 */
export class EdgeAgent {
  private heartbeat: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly runtime: EdgeRuntime,
    readonly link: CentralLink | null,
    private readonly delivery: EventDelivery | null,
    private readonly dispatcher: DispatchHandler | null,
    private readonly rejected: RejectedEvents,
    private readonly rpc: { close(): Promise<void> },
    readonly socketPath: string,
    private readonly options: EdgeAgentOptions,
  ) {}

  static async start(options: EdgeAgentOptions): Promise<EdgeAgent> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const runtime = await EdgeRuntime.open(options);
    const socketPath = join(runtime.stateDir, SOCKET_NAME);
    let agent: EdgeAgent | undefined;
    const link = options.central
      ? new CentralLink({
          url: options.central.url,
          key: options.central.key,
          registration: () => agent!.registration(),
          holding: () => runtime.runs.heldForCentral(),
          onWelcome: (welcome) => agent?.welcomed(welcome),
          onMessage: (message) => agent?.received(message),
          onDisconnect: (reason) => agent?.lost(reason),
          log,
        })
      : null;
    let rejected: RejectedEvents;
    try {
      rejected = await RejectedEvents.open(join(runtime.stateDir, REJECTED_FILE));
    } catch (error) {
      await runtime.close();
      throw error;
    }
    const delivery = link ? new EventDelivery(runtime.outbox, link, { log, rejected }) : null;
    const dispatcher = link ? new DispatchHandler(runtime, link, log) : null;
    let rpc: { close(): Promise<void> };
    try {
      rpc = await serveRpc(
        rpcApp(runtime, () => agent!.health()),
        socketPath,
      );
    } catch (error) {
      await runtime.close();
      throw error;
    }
    runtime.centralReachable = () => link?.connected ?? false;
    agent = new EdgeAgent(runtime, link, delivery, dispatcher, rejected, rpc, socketPath, {
      ...options,
      log,
    });
    runtime.runs.onFinished(() => agent?.beat());
    // A central run resumes only under a lease still good; one whose lease ran out while the
    // agent was down (or that was never claimed) waits for central, which renews the lease (the
    // run goes on) or dispatches the run again.
    const resumed = await runtime.runs.resumeInterrupted(
      (r) =>
        r.origin !== "central" ||
        (r.lease_expires_at !== null && Date.parse(r.lease_expires_at) > Date.now()),
    );
    dispatcher?.resumed(resumed);
    link?.start();
    return agent;
  }

  registration(): AgentRegistration {
    const app = this.runtime.app;
    return {
      agent_id: this.runtime.options.agentId,
      app: app.app,
      skills: this.runtime.skills,
      capabilities: app.config.capabilities,
      harness: { ...HARNESS },
      agent_version: AGENT_VERSION,
      contract_version: CONTRACT_VERSION,
      max_concurrency: app.config.max_concurrency,
    };
  }

  health(): AgentHealth {
    return {
      agent_id: this.runtime.options.agentId,
      app: this.runtime.app.app,
      tenant: this.link?.session?.tenant ?? this.runtime.options.tenant,
      // What central hears is the agent's own state; a person asking also needs to know the
      // agent is on its own (the runs go on, their events wait in the outbox).
      status: this.link?.connected || this.runtime.runs.isDraining ? this.status() : "degraded",
      pid: process.pid,
      central: {
        url: this.options.central?.url ?? null,
        connected: this.link?.connected ?? false,
        last_error: this.link?.lastError ?? null,
      },
      running: this.runtime.runs.running.map((r) => r.run_id),
      outbox: {
        size: this.runtime.outbox.size,
        pending: this.runtime.outbox.pending,
        rejected: this.rejected.count,
      },
      model: formatModelRef(this.runtime.options.models.primary),
    };
  }

  /**
   * Shuts down cleanly: takes no new work, lets running runs finish for up to `drainTimeoutMs`,
   * checkpoints the rest (they resume on the next start), flushes and delivers events, says
   * goodbye. Calling it again while it runs returns the same shutdown.
   */
  stop(drainTimeoutMs = this.options.drainTimeoutMs ?? 30_000): Promise<void> {
    this.stopping ??= this.shutdown(drainTimeoutMs);
    return this.stopping;
  }

  /** A second signal: checkpoint whatever still runs, right away. */
  async forceStop(): Promise<void> {
    await this.runtime.runs.checkpointAll("agent stopped");
    await this.stop(0);
  }

  private async shutdown(drainTimeoutMs: number): Promise<void> {
    const log = this.options.log!;
    const runs = this.runtime.runs;
    runs.drain();
    this.link?.send({ type: "drain" });
    this.beat();
    if (runs.running.length > 0) {
      log(`waiting up to ${drainTimeoutMs} ms for ${runs.running.length} run(s) to finish`);
      if (!(await runs.settle(drainTimeoutMs))) {
        log("checkpointing the runs still going; they resume on the next start");
        await runs.checkpointAll("agent shutting down");
      }
    }
    await this.runtime.outbox.flush();
    if (this.link?.connected && this.delivery && !(await this.delivery.drained(5_000)))
      log(`${this.runtime.outbox.pending} event(s) stay in the outbox for the next start`);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.dispatcher?.close();
    await this.link?.stop("shutdown");
    await this.rpc.close();
    await this.runtime.close();
  }

  private status(): Status {
    if (this.runtime.runs.isDraining) return "draining";
    return this.runtime.runs.running.length > 0 ? "busy" : "online";
  }

  private beat(): void {
    this.link?.send({
      type: "heartbeat",
      status: this.status(),
      running: this.runtime.runs.running.map((r) => ({ run_id: r.run_id, attempt: r.attempt })),
      outbox_pending: this.runtime.outbox.pending,
    });
  }

  private welcomed(welcome: Welcome): void {
    this.options.log!(
      `connected to central as ${welcome.agent_id} (tenant ${welcome.tenant}); ${this.runtime.outbox.pending} event(s) to deliver`,
    );
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(), welcome.heartbeat_interval_ms);
    this.heartbeat.unref();
    this.beat();
    this.delivery?.connected();
  }

  private lost(reason: string): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.delivery?.disconnected();
    this.dispatcher?.disconnected();
    this.options.log!(
      this.stopping
        ? `left central (${reason})`
        : `lost central (${reason}); working on, events queue in the outbox`,
    );
  }

  private received(message: FromCentral): void {
    const dispatcher = this.dispatcher!;
    const log = this.options.log!;
    switch (message.type) {
      case "dispatch":
        dispatcher
          .dispatch(message)
          .catch((error: unknown) =>
            log(
              `dispatch of run ${message.run_id} failed: ${error instanceof Error ? error.message : String(error)}`,
            ),
          );
        break;
      case "claimed":
        dispatcher.claimed(message);
        break;
      case "claim_rejected":
        dispatcher.claimRejected(message);
        break;
      case "secrets":
        dispatcher.secrets(message);
        break;
      case "lease":
        dispatcher
          .lease(message)
          .catch((error: unknown) =>
            log(
              `lease of run ${message.run_id} not kept: ${error instanceof Error ? error.message : String(error)}`,
            ),
          );
        break;
      case "events_ack":
        this.delivery?.acknowledged(message);
        break;
      case "cancel":
        void dispatcher.cancel(message);
        break;
      case "error":
        log(
          `central reported ${message.fatal ? "a fatal" : "an"} error: ${message.code}: ${message.message}`,
        );
        break;
      case "welcome":
        break;
    }
  }
}
