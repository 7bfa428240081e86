import { describe, expect, it } from "vitest";
import { SpanRecorder } from "../../../central/tracing/recorder";
import { SpanKind } from "../../../central/tracing/span";
import { REDACTED } from "../../../contract";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const OPENAI_KEY = `sk-proj-${"a1B2c3D4e5".repeat(5)}`;

interface Sent {
  url: string;
  headers: Headers;
  body: {
    resourceSpans: {
      resource: { attributes: { key: string; value: Record<string, unknown> }[] };
      scopeSpans: { spans: Record<string, unknown>[] }[];
    }[];
  };
}

/** A recorder whose collector is a function: what was sent, and how it answers. */
function recorder(
  answer: (n: number, init: RequestInit) => Promise<Response> = async () => new Response("{}"),
  options: ConstructorParameters<typeof SpanRecorder>[2] = {},
) {
  const sent: Sent[] = [];
  const spans = new SpanRecorder(
    { url: "http://collector.test/v1/traces", headers: { authorization: "Bearer collector" } },
    { "service.name": "auraison-central" },
    {
      ...options,
      fetch: async (url, init) => {
        sent.push({
          url: String(url),
          headers: new Headers(init?.headers),
          body: JSON.parse(String(init?.body)),
        });
        return answer(sent.length, init ?? {});
      },
    },
  );
  return {
    spans,
    sent,
    exported: () => sent.flatMap((s) => s.body.resourceSpans[0]!.scopeSpans[0]!.spans),
  };
}

describe("central's span recorder", () => {
  it("continues a W3C trace: a child of the traceparent, same trace, its own id, tracestate kept", async () => {
    const { spans, sent, exported } = recorder();
    const span = spans.start("dispatch lab-notes", {
      kind: SpanKind.producer,
      parent: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: "vendor=x" },
      startMs: 1_765_000_000_123.5,
      attributes: { "auraison.attempt": 2, "auraison.retry": true, ratio: 0.5, tags: ["a", "b"] },
    });
    const context = span.traceContext();
    expect(context.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(context.traceparent).not.toContain(PARENT);
    expect(context.tracestate).toBe("vendor=x");
    span.end(1_765_000_000_200);
    expect(spans.pending).toBe(1);
    await spans.flush();
    expect(spans.pending).toBe(0);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe("http://collector.test/v1/traces");
    expect(sent[0]!.headers.get("content-type")).toBe("application/json");
    expect(sent[0]!.headers.get("authorization")).toBe("Bearer collector");
    expect(sent[0]!.body.resourceSpans[0]!.resource.attributes).toEqual([
      { key: "service.name", value: { stringValue: "auraison-central" } },
    ]);
    expect(exported()).toEqual([
      {
        traceId: TRACE,
        spanId: context.traceparent.split("-")[2],
        parentSpanId: PARENT,
        traceState: "vendor=x",
        name: "dispatch lab-notes",
        kind: 4,
        startTimeUnixNano: "1765000000123500000",
        endTimeUnixNano: "1765000000200000000",
        attributes: [
          { key: "auraison.attempt", value: { intValue: "2" } },
          { key: "auraison.retry", value: { boolValue: true } },
          { key: "ratio", value: { doubleValue: 0.5 } },
          {
            key: "tags",
            value: { arrayValue: { values: [{ stringValue: "a" }, { stringValue: "b" }] } },
          },
        ],
        status: { code: 0 },
      },
    ]);
    expect(spans.stats).toEqual({ exported: 1, dropped: 0, failed: 0 });
  });

  it("starts a trace when there is no parent (with the id asked for), and a span is its child", async () => {
    const { spans, exported } = recorder();
    const root = spans.start("queue lab-notes", { parent: null, traceId: TRACE });
    const child = spans.start("admission", { parent: root.context });
    child.end();
    root.end();
    await spans.flush();
    const [c, r] = exported();
    expect(r).toMatchObject({ traceId: TRACE, spanId: root.context.spanId });
    expect(r).not.toHaveProperty("parentSpanId");
    expect(c).toMatchObject({ traceId: TRACE, parentSpanId: root.context.spanId });
  });

  it("records nothing under an unsampled parent, and says so downstream", async () => {
    const { spans, sent } = recorder();
    const span = spans.start("chat", { parent: { traceparent: `00-${TRACE}-${PARENT}-00` } });
    expect(span.traceContext().traceparent).toMatch(/-00$/);
    span.end();
    await spans.flush();
    expect(sent).toHaveLength(0);
  });

  it("never exports a secret: free-text attributes, error types and messages go through the redaction rules", async () => {
    const { spans, sent } = recorder();
    spans
      .start("chat", {
        parent: null,
        attributes: {
          "gen_ai.request.model": "qwen-notes",
          "auraison.detail": `upstream said: invalid key ${OPENAI_KEY}`,
          "http.request.header.authorization": [`Bearer ${"t".repeat(30)}`],
        },
      })
      .fail(`bad ${OPENAI_KEY}`, `refused api_key=${OPENAI_KEY}`)
      .end();
    await spans.flush();
    const text = JSON.stringify(sent);
    expect(text).not.toContain(OPENAI_KEY);
    expect(text).not.toContain("t".repeat(30));
    expect(text).toContain(REDACTED);
    expect(text).toContain("qwen-notes");
  });

  it("holds a bounded queue: spans past its capacity are dropped and counted, never block", async () => {
    const { spans, exported } = recorder(undefined, { capacity: 3 });
    for (let i = 0; i < 5; i++) spans.start(`s${i}`, { parent: null }).end();
    expect(spans.pending).toBe(3);
    expect(spans.stats.dropped).toBe(2);
    await spans.flush();
    expect(exported().map((s) => s.name)).toEqual(["s0", "s1", "s2"]);
    expect(spans.stats).toEqual({ exported: 3, dropped: 2, failed: 0 });
  });

  it("sends in batches; a failed batch (an error answer, a network error, a timeout) is counted, dropped and reported, never thrown", async () => {
    const losses: unknown[] = [];
    const { spans, sent } = recorder(
      async (n, init) => {
        if (n === 1) return new Response("no", { status: 503 });
        if (n === 2) throw new TypeError("connection refused");
        if (n === 3)
          return new Promise<Response>((_resolve, reject) =>
            init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
          );
        return new Response("{}");
      },
      { batch: 2, timeoutMs: 20, onLoss: (stats) => losses.push(stats) },
    );
    for (let i = 0; i < 7; i++) spans.start(`s${i}`, { parent: null }).end();
    await spans.flush();
    expect(sent.map((s) => s.body.resourceSpans[0]!.scopeSpans[0]!.spans.length)).toEqual([
      2, 2, 2, 1,
    ]);
    expect(spans.stats).toEqual({ exported: 1, dropped: 0, failed: 6 });
    expect(spans.pending).toBe(0);
    expect(losses).toEqual([{ exported: 1, dropped: 0, failed: 6 }]);
    // Reported at most once a minute: another loss right after is counted, not reported again.
    spans.start("s7", { parent: null }).end();
    sent.length = 0;
    await spans.flush();
    expect(losses).toHaveLength(1);
  });

  it("flushes on its own after a span ends when asked to (a Durable Object has no request to flush after)", async () => {
    const kept: Promise<unknown>[] = [];
    const { spans, sent } = recorder(undefined, {
      flushAfterMs: 5,
      waitUntil: (p) => kept.push(p),
    });
    spans.start("a", { parent: null }).end();
    spans.start("b", { parent: null }).end();
    expect(sent).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 30));
    await Promise.all(kept);
    expect(kept).toHaveLength(1);
    expect(sent).toHaveLength(1);
    expect(spans.stats.exported).toBe(2);
  });
});
