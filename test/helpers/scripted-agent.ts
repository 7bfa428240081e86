import WebSocket from "ws";
import {
  type AgentEventInput,
  type AgentRegistration,
  type CentralMessage,
  CONTRACT_VERSION,
  type EdgeMessage,
  uuidv7,
} from "../../contract";
import { agentEvent } from "./agent-event";

/**
 * A scripted edge agent over a real WebSocket (the `ws` package), speaking contract/wire.ts:
 * for central's tests, where the real pi edge agent would be more than the test needs.
 */
export class ScriptedAgent {
  readonly received: CentralMessage[] = [];
  private waiters: {
    match: (m: CentralMessage) => boolean;
    resolve: (m: CentralMessage) => void;
  }[] = [];
  private seq = 0;
  closed: { code: number; reason: string } | null = null;

  private constructor(
    readonly ws: WebSocket,
    readonly tenant: string,
    readonly agentId: string,
    readonly app: string,
  ) {
    ws.on("message", (data) => {
      const message = JSON.parse(String(data)) as CentralMessage;
      const waiter = this.waiters.find((w) => w.match(message));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      } else this.received.push(message);
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: String(reason) };
    });
  }

  /** Connects to `<url>/v1/agents/connect` with an agent key and registers (hello → welcome). */
  static async connect(
    url: string,
    key: string,
    tenant: string,
    agentId: string,
    options: {
      app?: string;
      holding?: { run_id: string; attempt: number }[];
      registration?: Partial<AgentRegistration>;
    } = {},
  ): Promise<ScriptedAgent> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/agents/connect`, {
      headers: { authorization: `Bearer ${key}` },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`upgrade answered ${res.statusCode}`)),
      );
      ws.once("error", reject);
    });
    const app = options.app ?? "lab-notes";
    const agent = new ScriptedAgent(ws, tenant, agentId, app);
    agent.send({
      type: "hello",
      registration: {
        agent_id: agentId,
        app,
        skills: [
          { name: "summarize", description: "Summarise notes", app, tools: [], version: "1.0.0" },
        ],
        capabilities: [],
        harness: { name: "scripted", version: "1.0.0" },
        agent_version: "0.0.1",
        contract_version: CONTRACT_VERSION,
        max_concurrency: 1,
        ...options.registration,
      },
      holding: options.holding ?? [],
    });
    await agent.next("welcome");
    return agent;
  }

  send(message: EdgeMessage): void {
    this.ws.send(JSON.stringify(message));
  }

  next<T extends CentralMessage["type"]>(
    type: T,
    where: (m: Extract<CentralMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<CentralMessage, { type: T }>> {
    type M = Extract<CentralMessage, { type: T }>;
    const match = (m: CentralMessage) => m.type === type && where(m as M);
    const index = this.received.findIndex(match);
    if (index >= 0) return Promise.resolve(this.received.splice(index, 1)[0] as M);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.agentId}: no ${type} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as M);
        },
      });
    });
  }

  /** Acks and claims a dispatch. */
  async take(dispatch: {
    run_id: string;
    attempt: number;
  }): Promise<{ run_id: string; attempt: number }> {
    this.send({ type: "ack", run_id: dispatch.run_id, attempt: dispatch.attempt });
    this.send({ type: "claim", run_id: dispatch.run_id, attempt: dispatch.attempt });
    await this.next("claimed", (m) => m.run_id === dispatch.run_id);
    return { run_id: dispatch.run_id, attempt: dispatch.attempt };
  }

  event(
    kind: AgentEventInput["kind"],
    payload: unknown,
    run: { run_id: string; attempt: number } | null = null,
  ): AgentEventInput {
    return agentEvent(
      { tenant: this.tenant, agentId: this.agentId, seq: this.seq++ },
      kind,
      payload,
      run,
    );
  }

  async emit(events: AgentEventInput[]) {
    const batch = uuidv7();
    this.send({ type: "events", batch_id: batch, events });
    return this.next("events_ack", (m) => m.batch_id === batch);
  }

  /** Runs a dispatched task start to finish: started, a message, completed with `result`. */
  async complete(
    dispatch: { run_id: string; attempt: number; intent: unknown },
    result: string,
  ): Promise<void> {
    const run = await this.take(dispatch);
    const intent = dispatch.intent as { intent_id: string; type: string };
    const usage = {
      tokens_in: 12,
      tokens_out: 7,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0.0001,
      model_calls: 1,
      tool_calls: 0,
    };
    await this.emit([
      this.event(
        "run_started",
        {
          intent_id: intent.intent_id,
          intent_type: intent.type,
          app: this.app,
          attempt: run.attempt,
          model: "scripted/echo",
          tree_ref: { session_file: `sessions/${run.run_id}.jsonl`, entry_id: null },
        },
        run,
      ),
      this.event("message", { role: "assistant", text: result, entry_id: "e1", turn: 1 }, run),
      this.event(
        "run_completed",
        {
          result,
          usage,
          duration_ms: 5,
          tree_ref: { session_file: `sessions/${run.run_id}.jsonl`, entry_id: "e1" },
        },
        run,
      ),
    ]);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close(1000, "done");
    });
  }
}
