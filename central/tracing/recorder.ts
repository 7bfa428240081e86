import { parseTraceParent } from "@opentelemetry/core";
import { redactString, type TraceContext } from "../../contract";
import { toHex } from "../bytes";
import { encodeOtlpJson } from "./otlp-json";
import {
  type Attributes,
  type AttributeValue,
  type FinishedSpan,
  SpanKind,
  type SpanParent,
} from "./span";

/**
 * Central's own spans, recorded here and sent as OTLP/JSON over HTTP.
 *
 * Hand-written on purpose. The OpenTelemetry JS SDK's exporters and batch processor are built
 * for Node and browsers: their timers do not run once a Worker has answered, and nothing in
 * them uses `waitUntil`. The one Workers-compatible wrapper in the npm registry,
 * @microlabs/otel-cf-workers, is a release candidate (1.0.0-rc.52) pinned to OpenTelemetry 2.x
 * and API ~1.9 (this project is on 3.x and 1.10), and it instruments by wrapping the Durable
 * Object class in a proxy around `fetch`/`alarm`, which misses what matters here: the agents
 * SDK's hibernating WebSocket handlers, where dispatch happens. What central needs is small: a
 * few spans it makes itself, with explicit parents (no context propagation inside the isolate),
 * a bounded queue and a POST that can never slow or fail a request.
 */

export interface StartOptions {
  kind?: SpanKind;
  /** A W3C trace context (from a request or an intent) or another span; null starts a trace. */
  parent: TraceContext | SpanParent | null;
  /** When the span began (ms since the epoch); now by default. */
  startMs?: number;
  attributes?: Attributes;
  /** The trace id of a new trace (null parent); random by default. */
  traceId?: string;
}

export interface RecorderStats {
  /** Spans delivered to the collector. */
  exported: number;
  /** Spans dropped because the queue was full. */
  dropped: number;
  /** Spans lost because their export failed (network, timeout, a non-2xx answer). */
  failed: number;
}

export interface RecorderOptions {
  /** Spans held for export at most; more are dropped (and counted), never block. */
  capacity?: number;
  /** Spans per export request at most. */
  batch?: number;
  /** An export request gives up after this long. */
  timeoutMs?: number;
  /** The process's fetch (tests pass their own). */
  fetch?: typeof fetch;
  now?: () => number;
  /**
   * Flush on its own this long after a span ends (a Durable Object, which has no request to
   * flush after); without it, callers flush.
   */
  flushAfterMs?: number;
  /** Keeps the runtime alive for a flush started by the timer. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Told after a flush when spans were lost since it was last told, at most once a minute. */
  onLoss?: (stats: RecorderStats) => void;
}

/** How often losses are reported at most. */
const LOSS_REPORT_MS = 60_000;

/** A span under way; `end` hands it to the recorder. Attributes are redacted when set. */
export class OpenSpan {
  private ended = false;
  private readonly attributes: Record<string, AttributeValue> = {};
  private status: FinishedSpan["status"] = { code: "unset" };

  constructor(
    private readonly recorder: SpanRecorder,
    readonly context: SpanParent,
    private readonly parentSpanId: string,
    private name: string,
    private readonly kind: SpanKind,
    private readonly startMs: number,
  ) {}

  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes)) {
      if (value === null || value === undefined) continue;
      this.attributes[key] = redactedValue(value);
    }
    return this;
  }

  rename(name: string): this {
    this.name = name;
    return this;
  }

  /** Marks the span failed with OpenTelemetry's `error.type`. */
  fail(errorType: string, message?: string): this {
    this.attributes["error.type"] = redactString(errorType);
    this.status = { code: "error", ...(message ? { message: redactString(message) } : {}) };
    return this;
  }

  /** The context to send on (`traceparent`/`tracestate`), so the next hop is this span's child. */
  traceContext(): TraceContext {
    return traceContextOf(this.context);
  }

  end(endMs?: number): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.context.sampled) return;
    const end = endMs ?? this.recorder.now();
    this.recorder.push({
      traceId: this.context.traceId,
      spanId: this.context.spanId,
      parentSpanId: this.parentSpanId,
      traceState: this.context.traceState,
      name: this.name,
      kind: this.kind,
      startMs: this.startMs,
      endMs: Math.max(end, this.startMs),
      attributes: this.attributes,
      status: this.status,
    });
  }
}

/**
 * Spans of one isolate (the Worker's) or one tenant object, queued for export. Export is a
 * separate step (`flush`), which callers run after the answer (`waitUntil`) or on a timer: a
 * full queue drops spans, a failed export drops its batch, and both are counted and never
 * thrown.
 */
export class SpanRecorder {
  readonly now: () => number;
  private readonly queue: FinishedSpan[] = [];
  private readonly capacity: number;
  private readonly batch: number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly flushAfterMs: number | null;
  private readonly waitUntil: ((promise: Promise<unknown>) => void) | null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly onLoss: ((stats: RecorderStats) => void) | null;
  private reported = { lost: 0, at: Number.NEGATIVE_INFINITY };
  readonly stats: RecorderStats = { exported: 0, dropped: 0, failed: 0 };

  constructor(
    private readonly target: { url: string; headers: Record<string, string> },
    private readonly resource: Record<string, AttributeValue>,
    options: RecorderOptions = {},
  ) {
    this.capacity = options.capacity ?? 2048;
    this.batch = options.batch ?? 512;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.flushAfterMs = options.flushAfterMs ?? null;
    this.waitUntil = options.waitUntil ?? null;
    this.onLoss = options.onLoss ?? null;
  }

  start(name: string, options: StartOptions): OpenSpan {
    const parent = parentOf(options.parent);
    const context: SpanParent = {
      traceId: parent?.traceId ?? options.traceId ?? randomHex(16),
      spanId: randomHex(8),
      sampled: parent?.sampled ?? true,
      traceState: parent?.traceState ?? "",
    };
    const span = new OpenSpan(
      this,
      context,
      parent?.spanId ?? "",
      name,
      options.kind ?? SpanKind.internal,
      options.startMs ?? this.now(),
    );
    if (options.attributes) span.setAttributes(options.attributes);
    return span;
  }

  /** Spans waiting for export. */
  get pending(): number {
    return this.queue.length;
  }

  /** @internal an ended span, from `OpenSpan.end`. */
  push(span: FinishedSpan): void {
    if (this.queue.length >= this.capacity) this.stats.dropped++;
    else this.queue.push(span);
    if (this.flushAfterMs !== null && this.timer === null)
      this.timer = setTimeout(() => {
        this.timer = null;
        const flushed = this.flush();
        this.waitUntil?.(flushed);
      }, this.flushAfterMs);
  }

  /** Sends what is queued, in batches; resolves when done, whatever happened. */
  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const spans = this.queue.splice(0, this.batch);
      try {
        const response = await this.fetch(this.target.url, {
          method: "POST",
          headers: { ...this.target.headers, "content-type": "application/json" },
          body: encodeOtlpJson(this.resource, spans),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        // The collector's answer carries nothing central acts on (partial success is counted
        // by the collector itself).
        await response.body?.cancel();
        if (response.ok) this.stats.exported += spans.length;
        else this.stats.failed += spans.length;
      } catch {
        this.stats.failed += spans.length;
      }
    }
    const lost = this.stats.dropped + this.stats.failed;
    const now = this.now();
    if (this.onLoss && lost > this.reported.lost && now - this.reported.at >= LOSS_REPORT_MS) {
      this.reported = { lost, at: now };
      this.onLoss({ ...this.stats });
    }
  }
}

/** A span's context as W3C headers' values. */
export function traceContextOf(span: SpanParent): TraceContext {
  return {
    traceparent: `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`,
    ...(span.traceState ? { tracestate: span.traceState } : {}),
  };
}

function parentOf(parent: TraceContext | SpanParent | null): SpanParent | null {
  if (parent === null) return null;
  if (!("traceparent" in parent)) return parent;
  const parsed = parseTraceParent(parent.traceparent);
  if (!parsed) return null;
  return {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    sampled: (parsed.traceFlags & 1) === 1,
    traceState: parent.tracestate ?? "",
  };
}

/** Free text in an attribute goes through the contract's redaction rules, like every log line. */
function redactedValue(value: AttributeValue): AttributeValue {
  if (typeof value === "string") return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactString(v));
  return value;
}

function randomHex(bytes: number): string {
  const out = crypto.getRandomValues(new Uint8Array(bytes));
  // An all-zero id is invalid in W3C and OTLP.
  if (out.every((b) => b === 0)) out[bytes - 1] = 1;
  return toHex(out);
}
