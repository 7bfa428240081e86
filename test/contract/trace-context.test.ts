import { describe, expect, it } from "vitest";
import { check, TraceContext, traceContextOf, traceHeadersOf } from "../../contract";

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const BAD = [
  "garbage",
  "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
  "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
  "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
  "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
];

describe("the W3C trace context", () => {
  it("is read from headers, its tracestate normalised, and carried on as headers", () => {
    const trace = traceContextOf(
      new Headers({ traceparent: PARENT, tracestate: "lab=a1, vendor=x" }),
    );
    expect(trace).toEqual({ traceparent: PARENT, tracestate: "lab=a1,vendor=x" });
    expect(traceHeadersOf(trace)).toEqual({ traceparent: PARENT, tracestate: "lab=a1,vendor=x" });
    expect(traceHeadersOf(traceContextOf(new Headers({ traceparent: PARENT })))).toEqual({
      traceparent: PARENT,
    });
    expect(check(TraceContext, trace).ok).toBe(true);
  });

  it("reads a later version's traceparent for its ids and flags, passed on as version 00", () => {
    // W3C: a higher version may carry more fields, and is parsed, not refused.
    const later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abcdef";
    const trace = traceContextOf(new Headers({ traceparent: later }));
    expect(trace).toEqual({ traceparent: PARENT });
    expect(check(TraceContext, trace).ok).toBe(true);
  });

  it("ignores what is not a trace context (the W3C rule), and refuses it in a schema", () => {
    for (const bad of BAD) {
      expect(traceContextOf(new Headers({ traceparent: bad }))).toBeNull();
      expect(check(TraceContext, { traceparent: bad }).ok).toBe(false);
    }
    expect(traceContextOf(new Headers({ tracestate: "lab=a1" }))).toBeNull();
    expect(traceHeadersOf(null)).toEqual({});
  });
});
