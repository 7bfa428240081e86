import {
  AgentEvent,
  type AgentEventInput,
  CENTRAL_AGENT_ID,
  DEFAULT_RETRY_POLICY,
  type EventKind,
  emptyUsage,
  queuedRun,
  type RunEffect,
  type RunInput,
  type RunLife,
  type RunSettings,
  stepRun,
  uuidv7,
} from "../../../contract";

export const T0 = Date.parse("2026-12-01T10:00:00.000Z");
export const TENANT = "lab";

export function settings(overrides: Partial<RunSettings["dispatch"]> = {}): RunSettings {
  return {
    dispatch: {
      ack_timeout_ms: 10_000,
      lease_ms: 90_000,
      queue_timeout_ms: 3_600_000,
      ...overrides,
    },
    retry: DEFAULT_RETRY_POLICY,
  };
}

let ids = 0;
/** Deterministic, sortable event ids for the tests. */
export function nextId(): string {
  ids += 1;
  return `00000000-0000-7000-8000-${ids.toString(16).padStart(12, "0")}`;
}

/**
 * Central as a run's owner, with an injected clock: every input goes through `stepRun`, every
 * event it decided and every edge event it was given is appended to `log`, in the order central
 * applied them (the cursor order memory replays).
 */
export class OwnerHarness {
  now = T0;
  life: RunLife;
  readonly log: AgentEvent[] = [];
  effects: RunEffect[] = [];
  refusal: string | null = null;

  constructor(
    readonly config: RunSettings = settings(),
    intent: { targets?: RunLife["targets"]; deadline?: string } = {},
  ) {
    this.life = queuedRun({
      run_id: uuidv7(T0),
      tenant: TENANT,
      intent: {
        intent_id: uuidv7(T0),
        type: "task",
        targets: intent.targets ?? [{ app: "lab-notes" }],
        deadline: intent.deadline,
      },
      now: T0,
    });
  }

  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  step(input: RunInput): RunEffect[] {
    if (input.type === "events") this.log.push(...input.events);
    const result = stepRun(this.life, input, {
      role: "owner",
      now: this.now,
      settings: this.config,
      newEventId: nextId,
    });
    this.life = result.life;
    this.effects = result.effects;
    this.refusal = result.refusal?.message ?? null;
    for (const e of result.effects) if (e.type === "emit") this.log.push(e.event);
    return result.effects;
  }

  /** An edge event of this run, stamped with the harness clock. */
  edge<K extends EventKind>(
    kind: K,
    payload: unknown,
    from: { agent: string; attempt: number | null; seq?: number },
  ): AgentEvent {
    return edgeEvent(this.life.run_id, kind, payload, { ...from, at: this.now });
  }

  /** The kinds of the events central emitted in the last step. */
  emitted(): string[] {
    return this.effects.flatMap((e) => (e.type === "emit" ? [e.event.kind] : []));
  }

  sent(): { agent: string; type: string }[] {
    return this.effects.flatMap((e) =>
      e.type === "send" ? [{ agent: e.agent_id, type: e.message.type }] : [],
    );
  }
}

export function edgeEvent(
  runId: string,
  kind: EventKind,
  payload: unknown,
  from: { agent: string; attempt: number | null; seq?: number; at: number },
): AgentEvent {
  const input = {
    event_id: nextId(),
    tenant: TENANT,
    run_id: runId,
    agent_id: from.agent,
    // The gateway's observations of model calls are central's own events.
    source: from.agent === CENTRAL_AGENT_ID ? "central" : "edge",
    seq: from.seq ?? 0,
    attempt: from.attempt,
    kind,
    payload,
    ts: new Date(from.at).toISOString(),
  } as AgentEventInput;
  return AgentEvent.parse(input);
}

export const TREE = { session_file: "sessions/run.jsonl", entry_id: "e1" };

export function started(intentId: string, attempt: number, origin?: "central" | "local") {
  return {
    intent_id: intentId,
    intent_type: "task",
    app: "lab-notes",
    attempt,
    model: "auraison/auto",
    tree_ref: TREE,
    ...(origin ? { origin } : {}),
  };
}

export function ended(extra: Record<string, unknown> = {}) {
  return { usage: emptyUsage(), duration_ms: 10, tree_ref: TREE, ...extra };
}

export function modelCall(
  observer: "edge" | "gateway",
  opts: {
    call_id?: string;
    provider?: string;
    gateway_call_id?: string | null;
    input?: number;
    output?: number;
    cost?: number | null;
  } = {},
) {
  return {
    call_id: opts.call_id ?? nextId(),
    provider: opts.provider ?? (observer === "gateway" ? "anthropic" : "auraison"),
    request_model: "m",
    response_model: "m",
    alias: null,
    response_id: null,
    stream: false,
    input_tokens: opts.input ?? 100,
    output_tokens: opts.output ?? 10,
    cost_usd: opts.cost === undefined ? (observer === "gateway" ? 0.01 : null) : opts.cost,
    latency_ms: 5,
    ttft_ms: null,
    observer,
    ...(opts.gateway_call_id !== undefined ? { gateway_call_id: opts.gateway_call_id } : {}),
  };
}

export function toolFinished(status: "ok" | "error" | "blocked") {
  return {
    tool_call_id: nextId(),
    tool: "bash",
    status,
    result: null,
    error_message: null,
    error_type: null,
    duration_ms: 1,
    blocked_by: status === "blocked" ? "shell.deny" : null,
  };
}
