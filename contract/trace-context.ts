import {
  parseTraceParent,
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  TraceState,
} from "@opentelemetry/core";
import { z } from "zod";

/**
 * A W3C trace context (https://www.w3.org/TR/trace-context/): where a piece of work sits in a
 * distributed trace. It travels as the `traceparent` and `tracestate` headers, and with an
 * intent to the run that does it. Parsing is OpenTelemetry's own W3C propagator code, so every
 * runtime accepts exactly what OpenTelemetry does.
 */
export const TraceContext = z
  .strictObject({
    traceparent: z
      .string()
      .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
      .refine((v) => parseTraceParent(v) !== null, "not a valid W3C traceparent")
      .describe("`00-<trace id>-<parent span id>-<flags>`"),
    tracestate: z.string().max(512).optional(),
  })
  .meta({ id: "TraceContext" });
export type TraceContext = z.infer<typeof TraceContext>;

/**
 * The trace context of a request's headers; null when there is none or it is malformed (the
 * W3C rule: an invalid `traceparent` is ignored, never an error). The context is passed on as
 * version 00, which is what it is read as: a later version's header (which may carry more
 * fields) is parsed for its ids and flags, as W3C asks, and not kept as sent, which no runtime
 * reading TraceContext would accept. `tracestate` is normalised, its invalid members dropped.
 */
export function traceContextOf(headers: Headers): TraceContext | null {
  const header = headers.get(TRACE_PARENT_HEADER)?.trim();
  const parsed = header ? parseTraceParent(header) : null;
  if (!parsed) return null;
  const flags = (parsed.traceFlags & 0xff).toString(16).padStart(2, "0");
  const traceparent = `00-${parsed.traceId}-${parsed.spanId}-${flags}`;
  const raw = headers.get(TRACE_STATE_HEADER);
  const tracestate = raw ? new TraceState(raw).serialize() : "";
  return { traceparent, ...(tracestate ? { tracestate } : {}) };
}

/** The headers that carry a trace context on. */
export function traceHeadersOf(trace: TraceContext | null | undefined): Record<string, string> {
  if (!trace) return {};
  return {
    [TRACE_PARENT_HEADER]: trace.traceparent,
    ...(trace.tracestate ? { [TRACE_STATE_HEADER]: trace.tracestate } : {}),
  };
}
