/**
 * A deterministic synthetic AgentEvent log of realistic shape, for the memory benchmark and
 * tests: a tenant's fleet (several apps, two or three agents each) running intents over several
 * days. Each run is dispatched by central, started on an edge agent, takes turns of model calls
 * (half through central's gateway, observed by the gateway and by the edge) and tool calls (each
 * judged by a policy hook, some denied and blocked), and ends completed, failed (the edge reports
 * it, central rules), cancelled, or with an expired lease that is retried. Agents heartbeat; a few agent
 * errors and unattributed gateway calls are mixed in. Events come out in central's cursor order
 * (by time), each with its cursor, exactly as `GET /v1/events` or an archive segment holds them.
 *
 *   tsx bench/memory-synthetic.ts --events 1000000 --seed 42 --out bench/.data/memory-1m
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type AgentEventInput, type EventKind, GATEWAY_PROVIDER } from "../contract";

/** Bumped whenever the same options give a different log (benchmarks cache logs by it). */
export const SYNTHETIC_VERSION = 2;

/**
 * A StoredEvent as an emitter writes it: fields the contract defaults may be left out, exactly
 * as on the wire (validation fills them in).
 */
export type SyntheticEvent = AgentEventInput & { cursor: number };
type PayloadInput<K extends EventKind> = Extract<AgentEventInput, { kind: K }>["payload"];
type Unstamped = Omit<AgentEventInput, "event_id" | "ts">;

export interface SyntheticOptions {
  /** Exactly this many events (the last runs may be cut off mid-way, as in a live log). */
  events: number;
  seed?: number;
  tenant?: string;
  /** First day of the log (UTC midnight). */
  start?: string;
  /** Days the log spans, roughly: runs are spaced to fill them, and may run a little over. */
  days?: number;
}

const APPS = [
  { app: "turtlebot-maze", agents: 3, weight: 5, types: ["nav.explore", "nav.goto", "task"] },
  { app: "ar4-physical-ai", agents: 2, weight: 4, types: ["arm.pick", "arm.calibrate", "task"] },
  { app: "dea", agents: 3, weight: 6, types: ["evidence.review", "evidence.search", "task"] },
  { app: "counter-uas", agents: 2, weight: 2, types: ["track.analyse", "task"] },
  { app: "lab-notes", agents: 2, weight: 3, types: ["notes.summarize", "task"] },
] as const;

const MODELS = [
  { provider: "anthropic", model: "claude-sonnet-4-5", alias: "smart", in: 3e-6, out: 15e-6 },
  { provider: "anthropic", model: "claude-haiku-4-5", alias: "fast", in: 1e-6, out: 5e-6 },
  { provider: "openai", model: "gpt-4.1", alias: "smart", in: 2e-6, out: 8e-6 },
  { provider: "openai", model: "gpt-4.1-mini", alias: "fast", in: 0.4e-6, out: 1.6e-6 },
  {
    provider: "cloudflare.workers_ai",
    model: "llama-3.3-70b",
    alias: "cheap",
    in: 0.3e-6,
    out: 2e-6,
  },
  { provider: "vllm", model: "qwen2.5-72b-local", alias: "local", in: null, out: null },
] as const;

const TOOLS = [
  { tool: "read", ms: 15 },
  { tool: "bash", ms: 900 },
  { tool: "edit", ms: 40 },
  { tool: "write", ms: 30 },
  { tool: "grep", ms: 120 },
  { tool: "ros.navigate", ms: 4_000 },
  { tool: "ros.camera_snapshot", ms: 600 },
  { tool: "arm.move_to", ms: 2_500 },
  { tool: "lakehouse.query", ms: 800 },
  { tool: "http.fetch", ms: 1_500 },
] as const;

const WORDS = (
  "the robot maze goal sensor arm gripper evidence report summary notes camera frame map lidar " +
  "path obstacle battery calibrate joint torque pose target drone track model result query table " +
  "file config run step check retry plan review paper claim source figure value error timeout"
).split(" ");

const POLICY_DENIALS = [
  { rule: "workdir", reason: "path is outside the run's working directory" },
  { rule: "no-network", reason: "network access is not allowed for this app" },
  { rule: "allowed-tools", reason: "tool is not in the intent's allowed_tools" },
  { rule: "dangerous-command", reason: "command matches a destructive pattern" },
];

const FAILURES = [
  { category: "tool", reason: "tool_failed", message: "the tool kept failing" },
  { category: "model", reason: "model_error", message: "every provider in the chain failed" },
  { category: "budget_exceeded", reason: "budget_exceeded", message: "token budget reached" },
  { category: "stuck_loop", reason: "stuck_loop", message: "the same call repeated 5 times" },
  { category: "timeout", reason: "deadline_passed", message: "the intent's deadline passed" },
  { category: "policy", reason: "policy_denied", message: "a policy refused a required step" },
] as const;

/** mulberry32: small, fast and deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pending {
  ts: number;
  order: number;
  event: Unstamped;
}

/** A binary min-heap on (ts, order): events leave in time order, ties in creation order. */
class Heap {
  private items: Pending[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Pending | undefined {
    return this.items[0];
  }
  push(item: Pending): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Pending | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Pending, b: Pending): boolean {
  return a.ts < b.ts || (a.ts === b.ts && a.order < b.order);
}

/** Yields exactly `options.events` StoredEvents in cursor order; same seed, same log. */
export function* syntheticEvents(options: SyntheticOptions): Generator<SyntheticEvent> {
  const rand = prng(options.seed ?? 42);
  const tenant = options.tenant ?? "aegean-lab";
  const start = Date.parse(options.start ?? "2026-06-01T00:00:00.000Z");
  const span = (options.days ?? 14) * 86_400_000;

  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const chance = (p: number) => rand() < p;
  const between = (lo: number, hi: number) => Math.floor(lo + rand() * (hi - lo + 1));
  const hex = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
    return s;
  };
  const words = (lo: number, hi: number) => {
    const n = between(lo, hi);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(pick(WORDS));
    return out.join(" ");
  };
  // UUIDv7 minted at the event's time, with the generator's randomness instead of crypto's.
  const uuid7 = (ms: number) => {
    const t = ms.toString(16).padStart(12, "0");
    const variant = (8 + Math.floor(rand() * 4)).toString(16);
    return `${t.slice(0, 8)}-${t.slice(8)}-7${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
  };

  const weights = APPS.reduce((sum, a) => sum + a.weight, 0);
  const pickApp = () => {
    let x = rand() * weights;
    for (const app of APPS) {
      x -= app.weight;
      if (x < 0) return app;
    }
    return APPS[0];
  };
  const agents = APPS.flatMap((a) =>
    Array.from({ length: a.agents }, (_, i) => ({ app: a.app, agent_id: `${a.app}-${i + 1}` })),
  );

  const heap = new Heap();
  let order = 0;
  const emit = (ts: number, event: Unstamped) => {
    heap.push({ ts: Math.round(ts), order: order++, event });
  };
  const ev = <K extends EventKind>(
    kind: K,
    agent_id: string,
    run_id: string | null,
    seq: number,
    attempt: number | null,
    payload: PayloadInput<K>,
  ) =>
    ({
      tenant,
      run_id,
      agent_id,
      source: agent_id === "central" ? "central" : "edge",
      seq,
      attempt,
      kind,
      payload,
    }) as Unstamped;

  // Agents heartbeat every 5 minutes; runs (about 33 events each) fill the rest of the span.
  const heartbeatEvery = 300_000;
  const heartbeats = (span / heartbeatEvery) * agents.length;
  const meanGap = span / (Math.max(options.events - heartbeats, options.events / 2) / 33);
  let nextHeartbeat = start;
  let nextRun = start;

  const planRun = (t0: number) => {
    const app = pickApp();
    const agentsOfApp = agents.filter((a) => a.app === app.app);
    const run_id = uuid7(t0);
    const intent_id = uuid7(t0 - between(5, 500));
    const intent_type = pick(app.types);
    const model = pick(MODELS);
    let t = t0;
    let centralSeq = 0;
    const usage = {
      tokens_in: 0,
      tokens_out: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0 as number | null,
      model_calls: 0,
      tool_calls: 0,
    };
    const attempts = chance(0.04) ? 2 : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const agent = pick(agentsOfApp);
      const session = `sessions/${app.app}/${run_id}-${attempt}.jsonl`;
      let seq = 0;
      emit(
        t,
        ev("run_dispatched", "central", run_id, centralSeq++, attempt, {
          intent_id,
          agent_id: agent.agent_id,
          attempt,
          ack_deadline: new Date(t + 30_000).toISOString(),
        }),
      );
      t += between(20, 400);
      const startedAt = t;
      emit(
        t,
        ev("run_started", agent.agent_id, run_id, seq++, attempt, {
          intent_id,
          intent_type,
          app: app.app,
          attempt,
          model: `${model.provider}/${model.model}`,
          tree_ref: { session_file: session, entry_id: null },
          resumed: false,
          forked_from: null,
        }),
      );
      const lost = attempt < attempts;
      const turns = lost ? between(1, 2) : between(1, 6);
      for (let turn = 1; turn <= turns; turn++) {
        emit(t, ev("turn_started", agent.agent_id, run_id, seq++, attempt, { turn }));
        if (turn === 1)
          emit(
            t + 1,
            ev("message", agent.agent_id, run_id, seq++, attempt, {
              role: "user",
              text: words(8, 40),
              entry_id: hex(8),
              turn,
            }),
          );
        const viaGateway = chance(0.5);
        const input = between(800, 30_000);
        const output = between(20, 1_500);
        const cacheRead = chance(0.4) ? Math.floor(input * 0.6) : 0;
        const fallback = chance(0.05);
        const modelLatency = between(300, 9_000);
        const cost =
          model.in === null ? null : Number((input * model.in + output * model.out).toFixed(8));
        const calledModel = fallback ? MODELS[2] : model;
        const callId = `mc-${hex(12)}`;
        emit(
          t + 2,
          ev(
            "model_call",
            viaGateway ? "central" : agent.agent_id,
            run_id,
            viaGateway ? centralSeq++ : seq++,
            attempt,
            {
              call_id: callId,
              operation: "chat",
              provider: calledModel.provider,
              request_model: model.model,
              response_model: calledModel.model,
              alias: model.alias,
              response_id: `resp-${hex(16)}`,
              finish_reasons: [turn === turns ? "stop" : "tool_calls"],
              stream: true,
              input_tokens: input,
              output_tokens: output,
              cache_read_tokens: cacheRead,
              cache_write_tokens: 0,
              cost_usd: cost,
              latency_ms: modelLatency,
              ttft_ms: between(150, Math.min(modelLatency, 2_500)),
              cache_hit: viaGateway && chance(0.03),
              attempts: fallback
                ? [
                    {
                      provider: model.provider,
                      model: model.model,
                      outcome: "error",
                      error_type: pick(["429", "500", "timeout"]),
                      http_status: 429,
                      latency_ms: between(20, 3_000),
                    },
                    {
                      provider: calledModel.provider,
                      model: calledModel.model,
                      outcome: "ok",
                      error_type: null,
                      http_status: 200,
                      latency_ms: modelLatency,
                    },
                  ]
                : [],
              error_type: null,
              observer: viaGateway ? "gateway" : "edge",
              scripted: false,
            },
          ),
        );
        if (viaGateway)
          // The edge's own observation of the same call: the gateway's id, no price.
          emit(
            t + 3,
            ev("model_call", agent.agent_id, run_id, seq++, attempt, {
              call_id: `resp-${hex(16)}`,
              operation: "chat",
              provider: GATEWAY_PROVIDER,
              request_model: model.alias,
              response_model: calledModel.model,
              alias: null,
              response_id: null,
              finish_reasons: [turn === turns ? "stop" : "tool_calls"],
              stream: true,
              input_tokens: input,
              output_tokens: output,
              cache_read_tokens: cacheRead,
              cache_write_tokens: 0,
              cost_usd: null,
              latency_ms: modelLatency + between(1, 30),
              ttft_ms: null,
              cache_hit: false,
              attempts: [],
              error_type: null,
              observer: "edge",
              scripted: false,
              gateway_call_id: callId,
            }),
          );
        usage.tokens_in += input;
        usage.tokens_out += output;
        usage.cache_read_tokens += cacheRead;
        usage.cost_usd = usage.cost_usd === null || cost === null ? null : usage.cost_usd + cost;
        usage.model_calls += 1;
        t += modelLatency + 5;
        emit(
          t,
          ev("message", agent.agent_id, run_id, seq++, attempt, {
            role: "assistant",
            text: words(10, 80),
            entry_id: hex(8),
            turn,
          }),
        );
        const calls = turn === turns ? 0 : between(1, 3);
        for (let c = 0; c < calls; c++) {
          const tool = pick(TOOLS);
          const tool_call_id = `tc-${hex(12)}`;
          const args = JSON.stringify({ target: words(1, 4), limit: between(1, 100) });
          emit(
            t + 1,
            ev("tool_call_started", agent.agent_id, run_id, seq++, attempt, {
              tool_call_id,
              tool: tool.tool,
              tool_type: tool.tool.includes(".") ? "extension" : "function",
              arguments: args,
              args_digest: hex(16),
            }),
          );
          const denied = chance(0.05);
          const denial = pick(POLICY_DENIALS);
          emit(
            t + 2,
            ev("policy_decision", agent.agent_id, run_id, seq++, attempt, {
              hook: "tool_call",
              decision: denied
                ? { effect: "deny", rule_id: denial.rule, reason: denial.reason }
                : { effect: "allow", rule_id: "default", reason: "no rule objected" },
              tool: tool.tool,
              tool_call_id,
              subject: words(1, 3),
            }),
          );
          const duration = denied ? 0 : Math.round(tool.ms * (0.2 + rand() * 2));
          if (!denied && duration > 1_000 && chance(0.5))
            emit(
              t + duration / 2,
              ev("tool_call_progress", agent.agent_id, run_id, seq++, attempt, {
                tool_call_id,
                tool: tool.tool,
                partial: words(3, 12),
              }),
            );
          t += duration + 3;
          const failed = !denied && chance(0.07);
          emit(
            t,
            ev("tool_call_finished", agent.agent_id, run_id, seq++, attempt, {
              tool_call_id,
              tool: tool.tool,
              status: denied ? "blocked" : failed ? "error" : "ok",
              result: denied || failed ? null : words(5, 40),
              error_message: denied
                ? denial.reason
                : failed
                  ? `exit code ${between(1, 127)}`
                  : null,
              error_type: denied ? "policy_denied" : failed ? "tool_error" : null,
              duration_ms: duration,
              blocked_by: denied ? denial.rule : null,
            }),
          );
          usage.tool_calls += 1;
        }
        if (chance(0.02)) {
          emit(
            t + 1,
            ev("loop_detected", agent.agent_id, run_id, seq++, attempt, {
              tool: pick(TOOLS).tool,
              args_digest: hex(16),
              repeats: 3,
              threshold: 3,
              action: "steer",
              failing: chance(0.5),
            }),
          );
        }
        if (chance(0.03))
          emit(
            t + 1,
            ev("compaction", agent.agent_id, run_id, seq++, attempt, {
              tokens_before: between(80_000, 180_000),
              reason: "threshold",
              entry_id: hex(8),
            }),
          );
        if (chance(0.02))
          emit(
            t + 1,
            ev("budget", agent.agent_id, run_id, seq++, attempt, {
              dimension: pick(["tokens", "cost_usd", "tool_calls"] as const),
              used: 80,
              limit: 100,
              state: "warning",
              scope: "run",
            }),
          );
        emit(
          t + 2,
          ev("turn_completed", agent.agent_id, run_id, seq++, attempt, {
            turn,
            tool_calls: calls,
            stop_reason: turn === turns ? "stop" : "toolUse",
          }),
        );
        t += between(5, 50);
      }
      const duration = Math.round(t - startedAt);
      const treeRef = { session_file: session, entry_id: hex(8) };
      if (lost) {
        t += 45_000;
        emit(
          t,
          ev("lease_expired", "central", run_id, centralSeq++, attempt, {
            agent_id: agent.agent_id,
            attempt,
            next: "retry",
            retry_at: new Date(t + 1_000).toISOString(),
          }),
        );
        t += 1_000;
        continue;
      }
      const outcome = rand();
      if (outcome < 0.86) {
        emit(
          t + 3,
          ev("run_completed", agent.agent_id, run_id, seq++, attempt, {
            result: words(5, 60),
            usage: { ...usage },
            duration_ms: duration,
            tree_ref: treeRef,
          }),
        );
      } else if (outcome < 0.96) {
        const failure = pick(FAILURES);
        if (chance(0.3))
          emit(
            t + 1,
            ev("error", agent.agent_id, run_id, seq++, attempt, {
              category: failure.category === "stuck_loop" ? "tool" : "internal",
              code: failure.reason,
              message: failure.message,
              fatal: true,
              detail: null,
            }),
          );
        emit(
          t + 3,
          ev("run_failed", agent.agent_id, run_id, seq++, attempt, {
            error: { ...failure },
            usage: { ...usage },
            duration_ms: duration,
            tree_ref: treeRef,
          }),
        );
        // Central, the run's owner, rules on the reported failure: no further attempt.
        emit(
          t + 3 + between(1, 40),
          ev("run_failed", "central", run_id, centralSeq++, attempt, {
            error: { ...failure },
            usage: { ...usage },
            duration_ms: duration + 40,
            tree_ref: treeRef,
          }),
        );
      } else {
        emit(
          t + 3,
          ev("run_cancelled", "central", run_id, centralSeq++, attempt, {
            reason: "cancelled by user",
            by: `key_${hex(6)}`,
            usage: { ...usage },
            tree_ref: treeRef,
          }),
        );
      }
    }
  };

  let cursor = 0;
  let agentSeq = 0;
  while (cursor < options.events) {
    const next = heap.peek();
    const due = Math.min(nextRun, nextHeartbeat);
    if (next && next.ts <= due) {
      heap.pop();
      cursor += 1;
      const event = {
        ...next.event,
        event_id: uuid7(next.ts),
        ts: new Date(next.ts).toISOString(),
      };
      yield { ...(event as AgentEventInput), cursor };
      continue;
    }
    if (nextHeartbeat <= nextRun) {
      for (const agent of agents) {
        emit(
          nextHeartbeat + between(0, 2_000),
          ev("heartbeat", agent.agent_id, null, agentSeq++, null, {
            status: "online",
            running: [],
            outbox_pending: chance(0.05) ? between(1, 200) : 0,
            load: { cpu: Number(rand().toFixed(2)), rss_mb: between(120, 900) },
          }),
        );
        if (chance(0.001))
          emit(
            nextHeartbeat + 5,
            ev("error", agent.agent_id, null, agentSeq++, null, {
              category: "infrastructure",
              code: "central_unreachable",
              message: "could not reach central; events kept in the outbox",
              fatal: false,
              detail: { retry_in_ms: 5_000 },
            }),
          );
      }
      nextHeartbeat += heartbeatEvery;
      continue;
    }
    // Daytime is busier than night: the gap stretches up to 3x at 03:00 UTC.
    const hour = new Date(nextRun).getUTCHours();
    const night = Math.cos(((hour - 15) / 24) * 2 * Math.PI);
    planRun(Math.round(nextRun));
    if (chance(0.01)) {
      const model = pick(MODELS);
      emit(
        nextRun + 7,
        ev("model_call", "central", null, agentSeq++, null, {
          call_id: `mc-${hex(12)}`,
          operation: "embeddings",
          provider: model.provider,
          request_model: model.model,
          response_model: model.model,
          alias: null,
          response_id: null,
          finish_reasons: [],
          stream: false,
          input_tokens: between(50, 2_000),
          output_tokens: 0,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          cost_usd: model.in === null ? null : 0.00001,
          latency_ms: between(40, 400),
          ttft_ms: null,
          cache_hit: false,
          attempts: [],
          error_type: null,
          observer: "gateway",
          scripted: false,
        }),
      );
    }
    nextRun += meanGap * (1.6 - 0.9 * night) * -Math.log(1 - rand() * 0.999);
  }
}

/**
 * Writes the log as central's archive segments: `<from>-<to>.ndjson` (or `.ndjson.gz`) of
 * StoredEvents, `segment` events each, cursors zero-padded to 12 digits. Returns the files.
 */
export function writeSegments(
  dir: string,
  events: Iterable<SyntheticEvent>,
  options: { segment?: number; gzip?: boolean } = {},
): string[] {
  const size = options.segment ?? 50_000;
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let lines: string[] = [];
  let first = 0;
  let last = 0;
  const flush = () => {
    if (lines.length === 0) return;
    const name = `${String(first).padStart(12, "0")}-${String(last).padStart(12, "0")}.ndjson`;
    const body = `${lines.join("\n")}\n`;
    const file = join(dir, options.gzip ? `${name}.gz` : name);
    writeFileSync(file, options.gzip ? gzipSync(body) : body);
    files.push(file);
    lines = [];
  };
  for (const event of events) {
    if (lines.length === 0) first = event.cursor;
    last = event.cursor;
    lines.push(JSON.stringify(event));
    if (lines.length >= size) flush();
  }
  flush();
  return files;
}

/** A synthetic log written once as archive segments under `data` (kept for the next run). */
export interface PreparedLog {
  dir: string;
  files: string[];
  bytes: number;
  /** Time taken to write it; 0 when it was there already. */
  seconds: number;
}

/**
 * The log of `options` as 50,000-event segments in `<data>/memory-log-v<version>-<events>-<seed>-
 * <days>`, written unless a complete one is there: the memory benchmarks share it.
 */
export function preparedLog(
  data: string,
  options: Required<Pick<SyntheticOptions, "events" | "seed" | "days">>,
): PreparedLog {
  const { events, seed, days } = options;
  const dir = join(data, `memory-log-v${SYNTHETIC_VERSION}-${events}-${seed}-${days}`);
  const marker = join(dir, ".complete");
  const started = performance.now();
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    writeSegments(dir, syntheticEvents({ events, seed, days }), { segment: 50_000 });
    writeFileSync(marker, "");
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".ndjson"))
    .sort()
    .map((f) => join(dir, f));
  const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  return { dir, files, bytes, seconds: (performance.now() - started) / 1000 };
}

/** The value of `--<name>` on the command line, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const events = Number(flag("events", "1000000"));
  const out = flag("out", `bench/.data/memory-${events}`);
  const started = performance.now();
  const files = writeSegments(
    out,
    syntheticEvents({ events, seed: Number(flag("seed", "42")), days: Number(flag("days", "14")) }),
    { segment: Number(flag("segment", "50000")), gzip: process.argv.includes("--gzip") },
  );
  console.log(
    `wrote ${events} events in ${files.length} segments to ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
