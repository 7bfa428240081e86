import type { AgentMessage } from "@earendil-works/pi-agent-core";
import type { Api, AssistantMessage, Model, Usage } from "@earendil-works/pi-ai";
import type {
  ExtensionAPI,
  ExtensionContext,
  ExtensionFactory,
} from "@earendil-works/pi-coding-agent";
import { HEADERS, LIMITS, redactedExcerpt, redactedTail, uuidv7 } from "../../contract";
import { argsDigest, textDigest } from "../events/digest";
import type { PayloadInput } from "../events/emitter";
import { contractRole, messageText } from "../events/message-text";
import { GATEWAY_PROVIDER } from "../models/model-settings";
import { SCRIPTED_PROVIDER } from "../models/scripted";
import type { RunContext } from "../runs/run-context";

export interface ModelCallObserved {
  costUsd: number | null;
}

export interface ToolFinishedObserved {
  toolCallId: string;
  tool: string;
  digest: string;
  status: "ok" | "error" | "blocked";
  /** Digest of what the call returned (its result, or its error). */
  resultDigest: string;
}

const PROGRESS_INTERVAL_MS = 1_000;
const BARRIER_TIMEOUT_MS = 30_000;

/**
 * The event bridge: turns the pi events of one run into contract AgentEvents.
 *
 * Two details keep it faithful. A message's session entry id exists only after pi persists the
 * message, which happens after extensions saw `message_end`; so message events (and the model
 * call they carry) are emitted when the next pi event arrives, by which time the entry exists.
 * And pi starts the next model call without waiting for extensions; so the `context` hook, which
 * runs right before that call, waits until every tool result the model is about to see has its
 * `tool_call_finished` on disk. A crash can then never lose an event for work already done.
 *
 * Text is cut to the contract's limits only after it is redacted (`redactedExcerpt`,
 * `redactedTail`): a secret the cut splits would no longer be recognised by the emitter's
 * redaction, which still runs over every event as the last pass.
 */
export class EventBridge {
  private turn: number;
  private pending: AgentMessage[] = [];
  private claimedEntries = new Set<string>();
  private started = new Map<string, { at: number; tool: string; digest: string }>();
  private finished = new Set<string>();
  private finishWaiters = new Map<string, Array<() => void>>();
  private blocked = new Map<string, string>();
  /** Per tool call: when progress was last logged, and the newest note held back since then. */
  private lastProgress = new Map<string, { at: number; held: string | null }>();
  /**
   * The model call under way: when it began, its first chunk, whether a request left for the
   * provider at all (a call begun after the run was stopped never does), and the gateway's id
   * for it (`x-auraison-call-id`), which joins the gateway's observation of the call to ours.
   */
  private call: {
    startedAt: number;
    firstChunkAt: number | null;
    model: string | null;
    requested: boolean;
    gatewayCallId: string | null;
  } | null = null;
  private builtinTools = new Set<string>();
  /** The compaction under way: why, and when it began (its summary call's latency). */
  private compaction: { reason: string; startedAt: number } | null = null;
  private modelCallListeners: Array<(call: ModelCallObserved) => Promise<void> | void> = [];
  private toolFinishedListeners: Array<(tool: ToolFinishedObserved) => Promise<void> | void> = [];
  private turnStartListeners: Array<(turn: number) => Promise<void> | void> = [];
  private agentEnds = 0;
  private agentEndWaiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    private readonly run: RunContext,
    restored: { turns: number; finishedToolCalls: Iterable<string> } = {
      turns: 0,
      finishedToolCalls: [],
    },
  ) {
    this.turn = restored.turns;
    for (const id of restored.finishedToolCalls) this.finished.add(id);
  }

  /** The current turn number (0-based across the whole run, resumes included). */
  get currentTurn(): number {
    return Math.max(0, this.turn - 1);
  }

  onModelCall(listener: (call: ModelCallObserved) => Promise<void> | void): void {
    this.modelCallListeners.push(listener);
  }

  onToolFinished(listener: (tool: ToolFinishedObserved) => Promise<void> | void): void {
    this.toolFinishedListeners.push(listener);
  }

  onTurnStart(listener: (turn: number) => Promise<void> | void): void {
    this.turnStartListeners.push(listener);
  }

  /** A policy or guard refused this call; its finish is reported as `blocked` by `ruleId`. */
  markBlocked(toolCallId: string, ruleId: string): void {
    this.blocked.set(toolCallId, ruleId);
  }

  compactionStarted(reason: string): void {
    this.compaction = { reason, startedAt: Date.now() };
  }

  /** Resolves once the bridge has handled `count` agent_end events. */
  agentEnded(count: number): Promise<void> {
    if (this.agentEnds >= count) return Promise.resolve();
    return new Promise((resolve) => this.agentEndWaiters.push({ count, resolve }));
  }

  /**
   * Records a tool call that can no longer finish (the agent stopped mid-call): its finish is
   * logged as an error so the run's record of calls is complete.
   */
  async interrupted(toolCallId: string, tool: string, message: string): Promise<void> {
    await this.run.emitter.emit("tool_call_finished", {
      tool_call_id: toolCallId,
      tool,
      status: "error",
      result: null,
      error_message: message,
      error_type: "interrupted",
      duration_ms: 0,
      blocked_by: null,
    });
    this.markFinished(toolCallId);
  }

  hasFinished(toolCallId: string): boolean {
    return this.finished.has(toolCallId);
  }

  extension(): ExtensionFactory {
    return (pi: ExtensionAPI) => {
      const builtins = () => {
        if (this.builtinTools.size === 0)
          for (const t of pi.getAllTools())
            if (t.sourceInfo.source === "builtin") this.builtinTools.add(t.name);
        return this.builtinTools;
      };

      pi.on("agent_start", async (_e, ctx) => {
        await this.flush(ctx);
      });

      pi.on("turn_start", async (_e, ctx) => {
        await this.flush(ctx);
        const turn = this.turn++;
        await this.run.emitter.emit("turn_started", { turn });
        for (const listener of this.turnStartListeners) await listener(turn);
      });

      pi.on("context", async (event, ctx) => {
        this.call = {
          startedAt: Date.now(),
          firstChunkAt: null,
          model: ctx.model?.id ?? null,
          requested: false,
          gatewayCallId: null,
        };
        await this.toolResultsDurable(event.messages);
        return undefined;
      });

      pi.on("before_provider_request", () => {
        if (this.call) this.call.requested = true;
        return undefined;
      });

      pi.on("after_provider_response", (event) => {
        if (this.call) this.call.gatewayCallId = event.headers[HEADERS.callId] ?? null;
      });

      pi.on("message_start", async (event, ctx) => {
        await this.flush(ctx);
        if (event.message.role === "assistant" && this.call && this.call.firstChunkAt === null)
          this.call.firstChunkAt = Date.now();
      });

      pi.on("message_end", async (event, ctx) => {
        await this.flush(ctx);
        if (contractRole(event.message) !== null) this.pending.push(event.message);
        return undefined;
      });

      pi.on("turn_end", async (event, ctx) => {
        await this.flush(ctx);
        const message = event.message as AgentMessage;
        const calls =
          message.role === "assistant"
            ? message.content.filter((c) => c.type === "toolCall").length
            : 0;
        await this.run.emitter.emit("turn_completed", {
          turn: this.currentTurn,
          tool_calls: calls,
          stop_reason: message.role === "assistant" ? message.stopReason : null,
        });
      });

      pi.on("agent_end", async (_e, ctx) => {
        await this.flush(ctx);
        this.agentEnds += 1;
        this.agentEndWaiters = this.agentEndWaiters.filter((w) => {
          if (w.count > this.agentEnds) return true;
          w.resolve();
          return false;
        });
      });

      pi.on("tool_execution_start", async (event, ctx) => {
        await this.flush(ctx);
        const digest = argsDigest(event.args);
        this.started.set(event.toolCallId, { at: Date.now(), tool: event.toolName, digest });
        await this.run.emitter.emit("tool_call_started", {
          tool_call_id: event.toolCallId,
          tool: event.toolName,
          tool_type: builtins().has(event.toolName) ? "function" : "extension",
          arguments: redactedExcerpt(JSON.stringify(event.args ?? {}), LIMITS.toolPayloadChars),
          args_digest: digest,
        });
      });

      pi.on("tool_execution_update", async (event, ctx) => {
        await this.flush(ctx);
        const partial = resultText(event.partialResult);
        if (!partial) return;
        const now = Date.now();
        const last = this.lastProgress.get(event.toolCallId);
        // Throttled, not dropped: the newest note held back is logged when the call ends.
        if (last && now - last.at < PROGRESS_INTERVAL_MS) {
          last.held = partial;
          return;
        }
        this.lastProgress.set(event.toolCallId, { at: now, held: null });
        await this.emitProgress(event.toolCallId, event.toolName, partial);
      });

      pi.on("tool_execution_end", async (event, ctx) => {
        await this.flush(ctx);
        const held = this.lastProgress.get(event.toolCallId)?.held;
        if (held) await this.emitProgress(event.toolCallId, event.toolName, held);
        const start = this.started.get(event.toolCallId);
        const blockedBy = this.blocked.get(event.toolCallId) ?? null;
        const text = resultText(event.result);
        const status = blockedBy ? "blocked" : event.isError ? "error" : "ok";
        await this.run.emitter.emit("tool_call_finished", {
          tool_call_id: event.toolCallId,
          tool: event.toolName,
          status,
          result: status === "ok" ? redactedExcerpt(text, LIMITS.toolPayloadChars) : null,
          error_message: status === "ok" ? null : redactedExcerpt(text || "tool failed", 4096),
          error_type: blockedBy ? "policy_denied" : event.isError ? "tool_error" : null,
          duration_ms: start ? Date.now() - start.at : 0,
          blocked_by: blockedBy,
        });
        this.markFinished(event.toolCallId);
        this.lastProgress.delete(event.toolCallId);
        for (const listener of this.toolFinishedListeners)
          await listener({
            toolCallId: event.toolCallId,
            tool: event.toolName,
            digest: start?.digest ?? argsDigest(null),
            status,
            resultDigest: textDigest(text),
          });
      });

      pi.on("session_compact", async (event, ctx) => {
        await this.flush(ctx);
        const entry = event.compactionEntry;
        // The summary is a model call like any other: budgets and memory count it.
        const started = this.compaction;
        this.compaction = null;
        if (entry.usage) await this.summaryCall(entry.usage, ctx.model, started?.startedAt);
        await this.run.emitter.emit("compaction", {
          tokens_before: entry.tokensBefore,
          reason: started?.reason ?? (event.fromExtension ? "extension" : "threshold"),
          entry_id: entry.id,
        });
      });
    };
  }

  /** Emits the events of messages pi has persisted since the last call. */
  private async emitProgress(toolCallId: string, tool: string, partial: string): Promise<void> {
    await this.run.emitter.emit("tool_call_progress", {
      tool_call_id: toolCallId,
      tool,
      partial: redactedTail(partial, LIMITS.toolPayloadChars),
    });
  }

  private async flush(ctx: ExtensionContext): Promise<void> {
    if (this.pending.length === 0) return;
    const messages = this.pending.splice(0);
    const entries = ctx.sessionManager.getEntries();
    for (const message of messages) {
      const entryId = this.entryOf(entries, message);
      const role = contractRole(message)!;
      await this.run.emitter.emit("message", {
        role,
        text: redactedExcerpt(messageText(message)),
        entry_id: entryId,
        turn: this.turn > 0 ? this.currentTurn : null,
      });
      if (message.role === "assistant") await this.modelCall(message, ctx.model);
    }
  }

  private async modelCall(message: AssistantMessage, model: Model<Api> | undefined) {
    const call = this.call;
    this.call = null;
    // Stopped before its request was sent (the run was cancelled or ran out of budget while a
    // tool ran): the model was not called, so there is no call to record or to count.
    if (message.stopReason === "aborted" && call && !call.requested) return;
    const costUsd = await this.recordCall(message.usage, model, {
      call_id: message.responseId ?? uuidv7(),
      provider: message.provider,
      request_model: call?.model ?? message.model,
      response_model: message.model,
      alias: message.provider === GATEWAY_PROVIDER ? (call?.model ?? message.model) : null,
      response_id: message.responseId ?? null,
      finish_reasons: [message.stopReason],
      stream: true,
      latency_ms: call ? Date.now() - call.startedAt : 0,
      ttft_ms: call?.firstChunkAt ? call.firstChunkAt - call.startedAt : null,
      error_type:
        message.stopReason === "error"
          ? classifyError(message.errorMessage)
          : message.stopReason === "aborted"
            ? "aborted"
            : null,
      gateway_call_id: message.provider === GATEWAY_PROVIDER ? (call?.gatewayCallId ?? null) : null,
    });
    if (message.stopReason === "error") {
      await this.run.emitter.emit("error", {
        category: "model",
        code: classifyError(message.errorMessage),
        message: redactedExcerpt(message.errorMessage || "the model call failed", 4096),
        fatal: false,
        detail: { provider: message.provider, model: message.model },
      });
    }
    await this.judge(costUsd);
  }

  /**
   * The call that wrote a compaction's summary (pi makes it on the session's model, outside the
   * agent loop: no message, no first chunk, and no gateway call id, so a summary made through
   * central's gateway is counted by the gateway's own observation of it).
   */
  private async summaryCall(
    usage: Usage,
    model: Model<Api> | undefined,
    startedAt: number | undefined,
  ) {
    const costUsd = await this.recordCall(usage, model, {
      call_id: uuidv7(),
      provider: model?.provider ?? "unknown",
      request_model: model?.id ?? "unknown",
      response_model: null,
      alias: null,
      response_id: null,
      finish_reasons: [],
      stream: false,
      latency_ms: startedAt === undefined ? 0 : Date.now() - startedAt,
      ttft_ms: null,
      error_type: null,
      gateway_call_id: null,
      tags: ["compaction"],
    });
    await this.judge(costUsd);
  }

  /** Logs a model call with what it consumed; resolves to its cost (null: unpriced). */
  private async recordCall(
    usage: Usage,
    model: Model<Api> | undefined,
    call: Omit<
      PayloadInput<"model_call">,
      | "operation"
      | "input_tokens"
      | "output_tokens"
      | "cache_read_tokens"
      | "cache_write_tokens"
      | "cost_usd"
      | "observer"
      | "scripted"
    >,
  ) {
    // A scripted model is known to cost nothing; any other model without prices is unpriced.
    const scripted = model
      ? model.provider === SCRIPTED_PROVIDER || model.api.startsWith("faux")
      : false;
    const priced = scripted || (model ? model.cost.input > 0 || model.cost.output > 0 : false);
    const costUsd = priced ? usage.cost.total : null;
    await this.run.emitter.emit("model_call", {
      ...call,
      operation: "chat",
      // The contract counts every prompt token, cached ones included; pi-ai reports them apart.
      input_tokens: usage.input + usage.cacheRead + usage.cacheWrite,
      output_tokens: usage.output,
      cache_read_tokens: usage.cacheRead,
      cache_write_tokens: usage.cacheWrite,
      cost_usd: costUsd,
      observer: "edge",
      scripted,
    });
    return costUsd;
  }

  /** The listeners (budgets) judge each model call once it is logged. */
  private async judge(costUsd: number | null) {
    for (const listener of this.modelCallListeners) await listener({ costUsd });
  }

  private entryOf(
    entries: ReturnType<ExtensionContext["sessionManager"]["getEntries"]>,
    message: AgentMessage,
  ): string | null {
    for (let i = entries.length - 1, seen = 0; i >= 0 && seen < 64; i--, seen++) {
      const entry = entries[i]!;
      if (this.claimedEntries.has(entry.id)) continue;
      const matches =
        (entry.type === "message" && entry.message === message) ||
        (entry.type === "custom_message" &&
          message.role === "custom" &&
          entry.customType === message.customType &&
          entry.content === message.content);
      if (matches) {
        this.claimedEntries.add(entry.id);
        return entry.id;
      }
    }
    return null;
  }

  private markFinished(toolCallId: string): void {
    this.finished.add(toolCallId);
    for (const resolve of this.finishWaiters.get(toolCallId) ?? []) resolve();
    this.finishWaiters.delete(toolCallId);
  }

  /**
   * Waits until the results of the latest tool batch are durably logged. Only calls this bridge
   * saw start are waited for: results restored from a resumed or forked session are history.
   */
  private async toolResultsDurable(messages: readonly AgentMessage[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i]!;
      if (m.role !== "toolResult") break;
      if (this.finished.has(m.toolCallId) || !this.started.has(m.toolCallId)) continue;
      waits.push(
        new Promise<void>((resolve) => {
          const list = this.finishWaiters.get(m.toolCallId) ?? [];
          list.push(resolve);
          this.finishWaiters.set(m.toolCallId, list);
        }),
      );
    }
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(waits).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), BARRIER_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      await this.run.emitter.emit("error", {
        category: "internal",
        code: "event_barrier_timeout",
        message: "tool results were not logged before the next model call",
        fatal: false,
        detail: null,
      });
    }
  }
}

function resultText(result: unknown): string {
  const content = (result as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b: { type?: string; text?: string; mimeType?: string }) =>
      b?.type === "text" ? (b.text ?? "") : b?.type === "image" ? `[image ${b.mimeType}]` : "",
    )
    .filter(Boolean)
    .join("\n");
}

/** A short, stable error_type for a failed model call. */
export function classifyError(message: string | undefined): string {
  const m = message ?? "";
  const status = /\b(4\d\d|5\d\d)\b/.exec(m)?.[1];
  if (status) return status;
  if (/timed? ?out|timeout/i.test(m)) return "timeout";
  if (
    /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|fetch failed|network|socket hang up|connect/i.test(
      m,
    )
  )
    return "connection";
  if (/abort/i.test(m)) return "aborted";
  return "error";
}
