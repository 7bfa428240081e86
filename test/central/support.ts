import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../../central/app";
import {
  type AgentEventInput,
  type AgentRegistration,
  type CentralMessage,
  CONTRACT_VERSION,
  type EdgeMessage,
  type KeyCreated,
  type Role,
  type TenantCreated,
} from "../../contract";
import { agentEvent } from "../helpers/agent-event";
import type { TenantAgent } from "./test-worker";

/** The Worker's secret, as `wrangler secret put` would provide it. */
export const BOOTSTRAP_KEY = `aur_boot_${"B".repeat(43)}`;

/** The real Worker (central/app.ts) with the real bindings, plus the bootstrap secret. */
export function central(input: string | Request, init?: RequestInit): Promise<Response> {
  const request = typeof input === "string" ? new Request(`http://central${input}`, init) : input;
  // As Workers does, every request has an execution context (its waitUntil).
  return Promise.resolve(
    app.fetch(request, { ...env, AURAISON_BOOTSTRAP_KEY: BOOTSTRAP_KEY }, createExecutionContext()),
  );
}

export interface CallOptions {
  key?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export async function call(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  return central(path, { method, headers, body });
}

export async function json<T = unknown>(response: Response, status?: number): Promise<T> {
  const text = await response.text();
  if (status !== undefined) expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** The 43-character secret at the end of an API key. */
export const secretOf = (key: string) => key.slice(-43);

let tenants = 0;

/** A fresh tenant with its admin key. */
export async function newTenant(prefix = "t"): Promise<{ tenant: string; admin: string }> {
  tenants += 1;
  const tenant = `${prefix}-${tenants}-${crypto.randomUUID().slice(0, 8)}`;
  const created = await json<TenantCreated>(
    await call("POST", "/v1/tenants", { key: BOOTSTRAP_KEY, body: { tenant } }),
    201,
  );
  return { tenant, admin: created.admin_key.key };
}

export async function newKey(admin: string, role: Role, app?: string): Promise<KeyCreated> {
  return json<KeyCreated>(
    await call("POST", "/v1/keys", {
      key: admin,
      body: { role, name: `${role} key`, ...(app ? { app } : {}) },
    }),
    201,
  );
}

/**
 * The local workerd runs without AURAISON_GATEWAY_KEK; this gives one tenant's object a KEK (as
 * `wrangler secret put` gives a deployed Worker), or takes it away with `undefined`.
 */
export async function giveKek(tenant: string, kek: string | undefined): Promise<void> {
  await runInDurableObject(env.TENANT.getByName(tenant), (agent) => {
    (agent as unknown as { env: { AURAISON_GATEWAY_KEK?: string } }).env.AURAISON_GATEWAY_KEK = kek;
  });
}

export async function putSettings(admin: string, settings: unknown): Promise<void> {
  await json(await call("PUT", "/v1/settings", { key: admin, body: settings }), 200);
}

export function registration(
  agentId: string,
  app = "lab-notes",
  extra: Partial<AgentRegistration> = {},
): AgentRegistration {
  return {
    agent_id: agentId,
    app,
    skills: [
      { name: "summarize", description: "Summarise notes", app, tools: [], version: "1.0.0" },
    ],
    capabilities: ["fs"],
    harness: { name: "pi", version: "0.73.1" },
    agent_version: "0.1.0",
    contract_version: CONTRACT_VERSION,
    max_concurrency: 1,
    ...extra,
  };
}

/** A scripted edge agent on a real WebSocket to the tenant's Durable Object. */
export class TestAgent {
  readonly received: CentralMessage[] = [];
  private waiters: {
    match: (m: CentralMessage) => boolean;
    resolve: (m: CentralMessage) => void;
  }[] = [];
  closed: { code: number; reason: string } | null = null;
  private seq = 0;

  constructor(
    readonly ws: WebSocket,
    readonly agentId: string,
    readonly tenant: string,
  ) {
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data as string) as CentralMessage;
      const waiter = this.waiters.find((w) => w.match(message));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      } else this.received.push(message);
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  send(message: EdgeMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next central message of this type (already received or arriving within the timeout). */
  next<T extends CentralMessage["type"]>(
    type: T,
    where: (m: Extract<CentralMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Extract<CentralMessage, { type: T }>> {
    const match = (m: CentralMessage) =>
      m.type === type && where(m as Extract<CentralMessage, { type: T }>);
    const index = this.received.findIndex(match);
    if (index >= 0)
      return Promise.resolve(
        this.received.splice(index, 1)[0] as Extract<CentralMessage, { type: T }>,
      );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.agentId}: no ${type} within ${timeoutMs} ms (got ${JSON.stringify(this.received)})`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<CentralMessage, { type: T }>);
        },
      });
    });
  }

  async waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    const until = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < until) await sleep(20);
    if (!this.closed) throw new Error(`${this.agentId}: socket still open`);
    return this.closed;
  }

  /** An AgentEvent from this agent, with a fresh id and the next seq. */
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

  /** Sends heartbeats every `everyMs` (renewing the leases of `running`) until closed. */
  keepAlive(
    everyMs = 200,
    running: () => { run_id: string; attempt: number }[] = () => [],
  ): () => void {
    const timer = setInterval(() => {
      if (this.closed) return clearInterval(timer);
      const held = running();
      this.send({
        type: "heartbeat",
        status: held.length ? "busy" : "online",
        running: held,
        outbox_pending: 0,
      });
    }, everyMs);
    return () => clearInterval(timer);
  }

  /** Acks and claims a dispatch; resolves with the lease. */
  async take(dispatch: {
    run_id: string;
    attempt: number;
  }): Promise<{ run_id: string; attempt: number }> {
    this.send({ type: "ack", run_id: dispatch.run_id, attempt: dispatch.attempt });
    this.send({ type: "claim", run_id: dispatch.run_id, attempt: dispatch.attempt });
    await this.next("claimed", (m) => m.run_id === dispatch.run_id);
    return { run_id: dispatch.run_id, attempt: dispatch.attempt };
  }

  /** Sends events in one batch and waits for their ack. */
  async emit(events: AgentEventInput[], batch = crypto.randomUUID()) {
    this.send({ type: "events", batch_id: batch, events });
    return this.next("events_ack", (m) => m.batch_id === batch);
  }

  close(): void {
    try {
      this.ws.close(1000, "test done");
    } catch {}
  }
}

/** Opens an agent WebSocket; with `register`, says hello and waits for welcome. */
export async function connectAgent(
  key: string,
  tenant: string,
  agentId: string,
  options: { app?: string; register?: boolean; registration?: Partial<AgentRegistration> } = {},
): Promise<TestAgent> {
  const response = await central(
    new Request("http://central/v1/agents/connect", {
      headers: { upgrade: "websocket", authorization: `Bearer ${key}` },
    }),
  );
  if (response.status !== 101)
    throw new Error(`upgrade answered ${response.status}: ${await response.text()}`);
  const ws = response.webSocket!;
  ws.accept();
  const agent = new TestAgent(ws, agentId, tenant);
  if (options.register !== false) {
    agent.send({
      type: "hello",
      registration: registration(agentId, options.app, options.registration),
      holding: [],
    });
    await agent.next("welcome");
  }
  return agent;
}

/** Usage with every field, as a run_completed payload carries it. */
export function usage(tokensIn = 0, tokensOut = 0, cost: number | null = 0) {
  return {
    tokens_in: tokensIn,
    tokens_out: tokensOut,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: cost,
    model_calls: 0,
    tool_calls: 0,
  };
}

/** Short timings so timers fire within a test (the tenant timer has one-second precision). */
export const FAST = {
  heartbeat: {
    interval_ms: 700,
    degraded_after: 1,
    disconnected_after: 2,
    offline_grace_ms: 60_000,
  },
  dispatch: { ack_timeout_ms: 500, lease_ms: 1_000 },
  retry: { max_attempts: 3, backoff: "fixed", base_delay_ms: 0, max_delay_ms: 0 },
};

/**
 * Timings these tests cross with `advanceClock` rather than by waiting: long enough that the real
 * time a loaded machine spends between two steps never crosses them on its own, and agents that
 * stay online however far the clock turns (heartbeats are not what these tests test).
 */
export const STEADY = {
  ...FAST,
  heartbeat: {
    ...FAST.heartbeat,
    interval_ms: 10_000,
    degraded_after: 99,
    disconnected_after: 100,
  },
  dispatch: { ack_timeout_ms: 30_000, lease_ms: 60_000 },
};

/** The status of each agent, in the list's order. */
export async function agentStatuses(admin: string): Promise<string[]> {
  const list = await json<{ agents: { status: string }[] }>(
    await call("GET", "/v1/agents", { key: admin }),
    200,
  );
  return list.agents.map((a) => a.status);
}

export async function runState(admin: string, runId: string) {
  return json<import("../../contract").RunState>(
    await call("GET", `/v1/runs/${runId}`, { key: admin }),
    200,
  );
}

export async function submit(admin: string, body: Record<string, unknown>) {
  return json<import("../../contract").IntentAccepted>(
    await call("POST", "/v1/intents", {
      key: admin,
      body: { params: { prompt: "do it" }, ...body },
    }),
    201,
  );
}

/** One page of the log (`query` like `&run=…`; the limit defaults to 1000). */
export async function events(admin: string, query = "", limit = 1000) {
  return json<{
    events: import("../../contract").StoredEvent[];
    next_cursor: number;
    has_more: boolean;
  }>(await call("GET", `/v1/events?limit=${limit}${query}`, { key: admin }), 200);
}

/**
 * Turns the tenant's clock forward by `ms` and runs its timer, as its schedule would have fired
 * then: a test crosses an ack deadline, a lease, a deadline or a heartbeat without waiting.
 */
export async function advanceClock(
  tenant: string,
  ms: number,
  options: { timer?: boolean } = {},
): Promise<void> {
  await runInDurableObject(env.TENANT.getByName(tenant), (agent: TenantAgent) =>
    agent.advanceClock(ms, options),
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined/false) or fails after the timeout. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 8_000,
  what = "condition",
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(50);
  }
}
