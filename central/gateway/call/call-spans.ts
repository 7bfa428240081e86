import type { ModelAttempt, TraceContext } from "../../../contract";
import type { OpenSpan, SpanRecorder } from "../../tracing/recorder";
import { type Attributes, SpanKind } from "../../tracing/span";
import { workerSpanRecorder } from "../../tracing/tracing-env";
import type { AdmitResult, SettleRequest } from "../admission";
import type { Inbound } from "./inbound";

/** How a call ended, as handleCall settles it. */
type Settled = Omit<SettleRequest, "ticket" | "stream" | "gatewayMs" | "latencyMs">;

/**
 * One model call's spans in the Worker, after the OpenTelemetry GenAI conventions: the call as
 * the gateway served it (a server span, `chat <requested model>`, child of the caller's
 * `traceparent`: an edge agent's own `chat` span), its admission by the tenant object, and each
 * upstream attempt as a client span (`chat <model>`) whose context is what the provider is sent.
 * Spans are exported after the caller has its answer (`waitUntil`); without an OTLP endpoint
 * there are none, and the caller's trace context goes upstream unchanged.
 */
export class CallSpans {
  private readonly admission: OpenSpan;
  private readonly attempts = new Map<number, { span: OpenSpan; startMs: number }>();

  private constructor(
    private readonly recorder: SpanRecorder,
    private readonly waitUntil: (promise: Promise<unknown>) => void,
    private readonly call: OpenSpan,
    private readonly operation: string,
  ) {
    this.admission = recorder.start("admission", { parent: call.context });
  }

  static start(
    env: Env,
    waitUntil: (promise: Promise<unknown>) => void,
    inbound: Inbound,
    operation: string,
  ): CallSpans | null {
    const recorder = workerSpanRecorder(env);
    return recorder && CallSpans.open(recorder, waitUntil, inbound, operation);
  }

  /** The call's spans on `recorder` (`start` takes the Worker's, from its environment). */
  static open(
    recorder: SpanRecorder,
    waitUntil: (promise: Promise<unknown>) => void,
    inbound: Pick<Inbound, "requested" | "trace" | "tenant" | "endpoint" | "stream">,
    operation: string,
  ): CallSpans {
    const call = recorder.start(`${operation} ${inbound.requested}`, {
      kind: SpanKind.server,
      parent: inbound.trace,
      attributes: {
        "gen_ai.operation.name": operation,
        "gen_ai.request.model": inbound.requested,
        "auraison.tenant": inbound.tenant,
        "auraison.endpoint": inbound.endpoint,
        "auraison.stream": inbound.stream,
      },
    });
    return new CallSpans(recorder, waitUntil, call, operation);
  }

  /** The tenant object answered: a refusal ends the call here. */
  admitted(result: AdmitResult): void {
    if (result.kind === "refused") {
      this.admission.setAttributes({ "auraison.admission": "refused" }).fail(result.code);
      this.admission.end();
      this.call.setAttributes({ "http.response.status_code": result.status }).fail(result.code);
      this.finish();
      return;
    }
    const { ticket } = result;
    const who = ticket.attribution;
    const attributes: Attributes = {
      "auraison.call_id": ticket.callId,
      "auraison.run_id": who.runId,
      "auraison.agent_id": who.agentId,
      "auraison.app": who.app,
      "gen_ai.conversation.id": who.runId,
    };
    // Who admitted it: a lease this Worker isolate held, or the tenant object (one RPC).
    const by = ticket.lease === null ? "tenant" : "lease";
    this.admission
      .setAttributes({
        ...attributes,
        "auraison.admission": result.kind,
        "auraison.admitted_by": by,
      })
      .end();
    this.call.setAttributes(attributes);
  }

  /**
   * An upstream attempt begins; `index` is the place its record will take among the call's
   * attempts. Returns the context the provider's request carries.
   */
  attempt(index: number): TraceContext {
    const startMs = this.recorder.now();
    const span = this.recorder.start(this.operation, {
      kind: SpanKind.client,
      parent: this.call.context,
      startMs,
      attributes: { "gen_ai.operation.name": this.operation },
    });
    this.attempts.set(index, { span, startMs });
    return span.traceContext();
  }

  /** The call is settled (after its stream ended): every span ends, and all are exported. */
  settled(request: Settled): void {
    const answering = request.outcome === "ok" ? request.attempts.length - 1 : -1;
    const billed = new Map((request.billed ?? []).map((b) => [b.attempt, b.usage]));
    for (const [index, { span, startMs }] of this.attempts) {
      const attempt = request.attempts[index];
      if (!attempt) {
        span.end();
        continue;
      }
      this.describe(span, attempt);
      // A try that failed after its provider reported usage: what it was billed, on its span.
      const usage = billed.get(index);
      if (usage)
        span.setAttributes({
          "gen_ai.usage.input_tokens": usage.input,
          "gen_ai.usage.output_tokens": usage.output,
        });
      if (index === answering) {
        span.setAttributes(this.answer(request));
        span.end();
      } else span.end(startMs + attempt.latency_ms);
    }
    this.call.setAttributes({
      ...(request.provider ? { "gen_ai.provider.name": request.provider } : {}),
      ...this.answer(request),
      "auraison.cache_hit": request.cacheHit,
      "auraison.attempts": request.attempts.length,
    });
    if (request.outcome !== "ok") this.call.fail(request.errorType ?? request.outcome);
    this.finish();
  }

  private describe(span: OpenSpan, attempt: ModelAttempt): void {
    span.rename(`${this.operation} ${attempt.model}`).setAttributes({
      "gen_ai.provider.name": attempt.provider,
      "gen_ai.request.model": attempt.model,
      "http.response.status_code": attempt.http_status,
      "auraison.attempt_outcome": attempt.outcome,
    });
    if (attempt.outcome !== "ok") span.fail(attempt.error_type ?? attempt.outcome);
  }

  private answer(request: Settled) {
    if (request.outcome !== "ok") return {};
    return {
      "gen_ai.response.model": request.responseModel ?? request.model,
      "gen_ai.response.id": request.responseId,
      "gen_ai.response.finish_reasons": request.finishReasons,
      "gen_ai.usage.input_tokens": request.usage?.input,
      "gen_ai.usage.output_tokens": request.usage?.output,
      "auraison.usage_estimated": request.usageEstimated,
    };
  }

  private finish(): void {
    this.call.end();
    this.waitUntil(this.recorder.flush());
  }
}
