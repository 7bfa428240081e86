import type { AttributeValue, FinishedSpan } from "./span";

/**
 * An OTLP ExportTraceServiceRequest in OTLP/JSON (the protobuf JSON mapping, with OTLP's
 * exceptions: trace and span ids as hex, enums as integers, 64-bit times as decimal strings).
 * One resource, one scope: central's spans.
 */
export function encodeOtlpJson(
  resource: Record<string, AttributeValue>,
  spans: readonly FinishedSpan[],
): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: keyValues(resource) },
        scopeSpans: [
          {
            scope: { name: "auraison-central" },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              ...(s.traceState ? { traceState: s.traceState } : {}),
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: unixNano(s.startMs),
              endTimeUnixNano: unixNano(s.endMs),
              attributes: keyValues(s.attributes),
              status: {
                code: STATUS_CODE[s.status.code],
                ...(s.status.message ? { message: s.status.message } : {}),
              },
            })),
          },
        ],
      },
    ],
  });
}

const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;

/** Milliseconds (possibly fractional) → integer nanoseconds as a string, exact past 2^53. */
function unixNano(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

function keyValues(attributes: Record<string, AttributeValue>) {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function anyValue(value: AttributeValue): Record<string, unknown> {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number")
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { arrayValue: { values: value.map((v) => ({ stringValue: v })) } };
}
