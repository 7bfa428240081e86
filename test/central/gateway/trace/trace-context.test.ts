import { describe, expect, it } from "vitest";
import { traceHeaders, traceRequestHeaders } from "../../../../central/gateway/trace/trace-context";

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("the gateway's W3C trace context", () => {
  it("forwards a well-formed traceparent and its tracestate", () => {
    const trace = traceHeaders(
      new Headers({ traceparent: PARENT, tracestate: "lab=a1, vendor=x" }),
    );
    expect(trace).toEqual({ traceparent: PARENT, tracestate: "lab=a1,vendor=x" });
    expect(traceRequestHeaders(trace)).toEqual({
      traceparent: PARENT,
      tracestate: "lab=a1,vendor=x",
    });
    expect(traceRequestHeaders(traceHeaders(new Headers({ traceparent: PARENT })))).toEqual({
      traceparent: PARENT,
    });
  });

  it("drops what is not a W3C trace context, and a tracestate without one", () => {
    for (const bad of [
      "garbage",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ])
      expect(traceHeaders(new Headers({ traceparent: bad }))).toBeNull();
    expect(traceHeaders(new Headers({ tracestate: "lab=a1" }))).toBeNull();
    expect(traceRequestHeaders(null)).toEqual({});
  });
});
