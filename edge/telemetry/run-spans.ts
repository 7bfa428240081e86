import type { ExtensionFactory } from "@earendil-works/pi-coding-agent";
import {
  type Attributes,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  type AgentEvent,
  type AgentEventOf,
  type TraceContext,
  traceHeadersOf,
} from "../../contract";

const w3c = new W3CTraceContextPropagator();

/**
 * One run attempt's spans, after the OpenTelemetry GenAI conventions: `invoke_agent` for the
 * run, `chat` for each model call and `execute_tool` for each tool call beneath it. They are
 * made from the run's own AgentEvents, as logged (so redacted, and timed as the events say):
 * the events stay the one record of what happened, and the spans are a view of it. The model
 * call under way carries the trace on to the model gateway as W3C `traceparent`.
 */
export class RunSpans {
  private run: Span | null = null;
  /** The model call under way, opened when its request leaves (before its model_call event). */
  private chat: Span | null = null;
  private readonly tools = new Map<string, Span>();

  constructor(
    private readonly tracer: Tracer,
    private readonly who: { agentId: string; app: string; parent: TraceContext | null },
  ) {}

  observe(event: AgentEvent): void {
    const at = Date.parse(event.ts);
    if (event.kind === "run_started") this.started(event, at);
    else if (event.kind === "model_call") this.modelCall(event, at);
    else if (event.kind === "tool_call_started") this.toolStarted(event, at);
    else if (event.kind === "tool_call_finished") this.toolFinished(event, at);
    else if (event.kind === "run_completed") this.end(at, "completed");
    else if (event.kind === "run_failed") this.end(at, "failed", event.payload.error.reason);
    else if (event.kind === "run_cancelled") this.end(at, "cancelled");
  }

  /** Adds `traceparent` (and `tracestate`) of the model call under way to its request. */
  extension(): ExtensionFactory {
    return (pi) => {
      pi.on("before_provider_headers", (event) => {
        if (!this.run) return;
        this.chat ??= this.tracer.startSpan(
          "chat",
          { kind: SpanKind.CLIENT, attributes: { "gen_ai.operation.name": "chat" } },
          this.inRun(),
        );
        const carrier: Record<string, string> = {};
        w3c.inject(trace.setSpan(context.active(), this.chat), carrier, {
          set: (c, k, v) => {
            c[k] = v;
          },
        });
        Object.assign(event.headers, carrier);
      });
    };
  }

  /** The intent's trace (from central's dispatch), or a new trace. */
  private intentContext() {
    if (!this.who.parent) return ROOT_CONTEXT;
    return w3c.extract(ROOT_CONTEXT, traceHeadersOf(this.who.parent), {
      get: (carrier: Record<string, string>, key) => carrier[key],
      keys: (carrier: Record<string, string>) => Object.keys(carrier),
    });
  }

  private inRun() {
    return this.run ? trace.setSpan(context.active(), this.run) : context.active();
  }

  private started(event: AgentEventOf<"run_started">, at: number): void {
    // A resumed session (after a restart) is a new span of the same run.
    this.end(at, "interrupted");
    const p = event.payload;
    this.run = this.tracer.startSpan(
      `invoke_agent ${p.app}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: at,
        attributes: {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": p.app,
          "gen_ai.agent.id": this.who.agentId,
          "gen_ai.conversation.id": event.run_id ?? "",
          ...(p.model ? { "gen_ai.request.model": p.model } : {}),
          "auraison.run_id": event.run_id ?? "",
          "auraison.intent_id": p.intent_id,
          "auraison.intent_type": p.intent_type,
          "auraison.attempt": p.attempt,
          "auraison.resumed": p.resumed,
        },
      },
      this.intentContext(),
    );
  }

  private modelCall(event: AgentEventOf<"model_call">, at: number): void {
    const p = event.payload;
    const attributes: Attributes = {
      "gen_ai.operation.name": p.operation,
      "gen_ai.provider.name": p.provider,
      "gen_ai.request.model": p.request_model,
      ...(p.response_model ? { "gen_ai.response.model": p.response_model } : {}),
      ...(p.response_id ? { "gen_ai.response.id": p.response_id } : {}),
      "gen_ai.response.finish_reasons": p.finish_reasons,
      "gen_ai.usage.input_tokens": p.input_tokens,
      "gen_ai.usage.output_tokens": p.output_tokens,
      ...(p.cost_usd !== null ? { "auraison.cost_usd": p.cost_usd } : {}),
      "auraison.call_id": p.call_id,
    };
    const span =
      this.chat ??
      this.tracer.startSpan(
        "chat",
        { kind: SpanKind.CLIENT, startTime: at - p.latency_ms },
        this.inRun(),
      );
    this.chat = null;
    span.updateName(`${p.operation} ${p.request_model}`);
    span.setAttributes(attributes);
    if (p.error_type) {
      span.setAttribute("error.type", p.error_type);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(at);
  }

  private toolStarted(event: AgentEventOf<"tool_call_started">, at: number): void {
    const p = event.payload;
    this.tools.set(p.tool_call_id, this.toolSpan(p.tool, p.tool_call_id, at, p.tool_type));
  }

  private toolFinished(event: AgentEventOf<"tool_call_finished">, at: number): void {
    const p = event.payload;
    // A finish with no start seen (a resumed run) still gets its span, from its duration.
    const span =
      this.tools.get(p.tool_call_id) ?? this.toolSpan(p.tool, p.tool_call_id, at - p.duration_ms);
    this.tools.delete(p.tool_call_id);
    if (p.status !== "ok") {
      span.setAttribute("error.type", p.blocked_by ? "blocked" : (p.error_type ?? "error"));
      if (p.blocked_by) span.setAttribute("auraison.blocked_by", p.blocked_by);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(at);
  }

  private toolSpan(tool: string, callId: string, startTime: number, type?: string): Span {
    return this.tracer.startSpan(
      `execute_tool ${tool}`,
      {
        kind: SpanKind.INTERNAL,
        startTime,
        attributes: {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": tool,
          "gen_ai.tool.call.id": callId,
          ...(type ? { "gen_ai.tool.type": type } : {}),
        },
      },
      this.inRun(),
    );
  }

  /** Ends what is open; `error` is the run's failure reason, if it failed. */
  private end(
    at: number,
    outcome: "completed" | "failed" | "cancelled" | "interrupted",
    error: string | null = null,
  ): void {
    if (!this.run) return;
    this.run.setAttribute("auraison.outcome", outcome);
    for (const span of this.tools.values()) span.end(at);
    this.tools.clear();
    this.chat?.end(at);
    this.chat = null;
    if (error) {
      this.run.setAttribute("error.type", error);
      this.run.setStatus({ code: SpanStatusCode.ERROR });
    }
    this.run.end(at);
    this.run = null;
  }
}
