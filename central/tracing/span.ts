/** What a span is, as central records and exports it (recorder.ts, otlp-json.ts). */

/** OTLP's SpanKind values. */
export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

export type AttributeValue = string | number | boolean | readonly string[];
export type Attributes = Record<string, AttributeValue | null | undefined>;

/** A span once ended: what is exported. */
export interface FinishedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a trace's root. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: SpanKind;
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue>;
  status: { code: "unset" | "ok" | "error"; message?: string };
}

/** Where a span sits: its trace, its own id, whether the trace is sampled. */
export interface SpanParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
  traceState: string;
}
