import { describe, expect, it } from "vitest";
import { CallSpans } from "../../../../central/gateway/call/call-spans";
import { SpanRecorder } from "../../../../central/tracing/recorder";

interface ExportedSpan {
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** A recorder whose collector keeps what it is sent. */
function recorder() {
  const bodies: { resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[] }[] = [];
  const spans = new SpanRecorder(
    { url: "http://collector.test/v1/traces", headers: {} },
    { "service.name": "auraison-central" },
    {
      fetch: async (_url, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        return new Response("{}");
      },
    },
  );
  const exported = () =>
    bodies
      .flatMap((b) => b.resourceSpans[0]!.scopeSpans[0]!.spans)
      .map((s) => ({
        name: s.name,
        attributes: Object.fromEntries(s.attributes.map((a) => [a.key, Object.values(a.value)[0]])),
      }));
  return { spans, exported };
}

const failedTry = {
  provider: "claude",
  model: "claude-x",
  outcome: "error" as const,
  error_type: "stream_error",
  http_status: 200,
  latency_ms: 80,
};

describe("a model call's spans", () => {
  it("puts on each try's span the tokens its provider billed, and on the call's the answer's", async () => {
    const { spans, exported } = recorder();
    const flushed: Promise<unknown>[] = [];
    const call = CallSpans.open(
      spans,
      (p) => flushed.push(p),
      { requested: "auto", trace: null, tenant: "lab", endpoint: "chat", stream: true },
      "chat",
    );
    call.attempt(0);
    call.attempt(1);
    call.settled({
      outcome: "ok",
      provider: "secondary",
      model: "m",
      responseModel: "m",
      responseId: "r1",
      finishReasons: ["stop"],
      usage: { input: 12, output: 5, cacheRead: 0, cacheWrite: 0 },
      usageEstimated: false,
      ttftMs: 20,
      attempts: [
        failedTry,
        { ...failedTry, provider: "secondary", model: "m", outcome: "ok", error_type: null },
      ],
      billed: [{ attempt: 0, usage: { input: 50_000, output: 1, cacheRead: 0, cacheWrite: 0 } }],
      health: [],
      errorType: null,
      cacheHit: false,
      store: null,
    });
    await Promise.all(flushed);
    const byName = (name: string) => exported().find((s) => s.name === name)!.attributes;
    expect(byName("chat claude-x")).toMatchObject({
      "gen_ai.usage.input_tokens": "50000",
      "gen_ai.usage.output_tokens": "1",
    });
    expect(byName("chat m")).toMatchObject({ "gen_ai.usage.input_tokens": "12" });
    expect(byName("chat auto")).toMatchObject({ "gen_ai.usage.input_tokens": "12" });
  });
});
