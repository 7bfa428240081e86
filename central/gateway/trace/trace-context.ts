import {
  parseTraceParent,
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  TraceState,
} from "@opentelemetry/core";

/** The caller's W3C trace context, as it goes on to the provider. */
export interface TraceHeaders {
  traceparent: string;
  tracestate: string | null;
}

/**
 * The W3C trace context of a gateway call (an edge agent sends its `chat` span as
 * `traceparent`), forwarded unchanged to the provider, so a provider that traces continues the
 * caller's trace under the caller's span: the gateway records no spans of its own yet, and a
 * parent id of one would point at nothing. Only a well-formed context is forwarded (parsed by
 * OpenTelemetry's W3C propagator code); anything else is dropped, not passed on.
 */
export function traceHeaders(headers: Headers): TraceHeaders | null {
  const traceparent = headers.get(TRACE_PARENT_HEADER)?.trim();
  if (!traceparent || !parseTraceParent(traceparent)) return null;
  const state = headers.get(TRACE_STATE_HEADER);
  const tracestate = state ? new TraceState(state).serialize() : "";
  return { traceparent, tracestate: tracestate || null };
}

/** The headers to add to an upstream request. */
export function traceRequestHeaders(trace: TraceHeaders | null): Record<string, string> {
  if (!trace) return {};
  return {
    [TRACE_PARENT_HEADER]: trace.traceparent,
    ...(trace.tracestate ? { [TRACE_STATE_HEADER]: trace.tracestate } : {}),
  };
}
