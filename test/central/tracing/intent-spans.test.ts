import { describe, expect, it } from "vitest";
import { dispatchSpans, queueLeft } from "../../../central/tracing/intent-spans";
import { SpanRecorder } from "../../../central/tracing/recorder";
import type { Intent } from "../../../contract";

const RUN = "019ae7c2-5f3a-7b21-9c4d-0123456789ab";
const INTENT: Intent = {
  intent_id: "019ae7c2-5f3a-7b21-9c4d-aaaaaaaaaaaa",
  type: "task",
  params: { prompt: "hi" },
  policy_ctx: { tenant: "lab", principal: "key_1", budget: {} },
  targets: [{ app: "lab-notes" }],
  created_at: "2026-12-06T05:00:00.000Z",
};

type Exported = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  status: { code: number };
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
};

/** A recorder at a fixed time whose collector keeps what it is sent. */
function recorder(now: number) {
  const sent: Exported[] = [];
  const spans = new SpanRecorder(
    { url: "http://collector.test/v1/traces", headers: {} },
    {},
    {
      now: () => now,
      fetch: async (_url, init) => {
        const body = JSON.parse(String(init?.body));
        sent.push(...body.resourceSpans[0].scopeSpans[0].spans);
        return new Response("{}");
      },
    },
  );
  return { spans, sent };
}

describe("an intent's spans in central", () => {
  it("an intent without a trace: queue and dispatch in a trace of the run's id, the dispatch frame carrying the dispatch span", async () => {
    const { spans, sent } = recorder(1_765_000_010_000);
    const out = dispatchSpans(
      spans,
      "lab",
      {
        life: { run_id: RUN, targets: [] },
        intent: INTENT,
        attempt: 2,
        eligibleAt: 1_765_000_004_000,
      },
      { agentId: "host-a.lab-notes", app: "lab-notes" },
    );
    out.sent(true);
    await spans.flush();
    const trace = RUN.replaceAll("-", "");
    const [dispatch, queue] = sent;
    expect(out.trace.traceparent).toBe(`00-${trace}-${dispatch!.spanId}-01`);
    expect(dispatch).toMatchObject({
      traceId: trace,
      name: "dispatch lab-notes",
      status: { code: 0 },
    });
    expect(queue).toMatchObject({
      traceId: trace,
      name: "queue lab-notes",
      startTimeUnixNano: "1765000004000000000",
      endTimeUnixNano: "1765000010000000000",
    });
    for (const span of [dispatch, queue]) expect(span).not.toHaveProperty("parentSpanId");
    expect(queue!.attributes).toContainEqual({ key: "auraison.retry", value: { boolValue: true } });
    expect(dispatch!.attributes).toContainEqual({
      key: "auraison.agent_id",
      value: { stringValue: "host-a.lab-notes" },
    });
  });

  it("a dispatch sent again: a dispatch span in the run's trace, marked so, and no second queue span", async () => {
    const { spans, sent } = recorder(1_765_000_010_000);
    const out = dispatchSpans(
      spans,
      "lab",
      { life: { run_id: RUN, targets: [] }, intent: INTENT, attempt: 1, eligibleAt: null },
      { agentId: "host-a.lab-notes", app: "lab-notes" },
      true,
    );
    out.sent(true);
    await spans.flush();
    const trace = RUN.replaceAll("-", "");
    expect(sent.map((s) => s.name)).toEqual(["dispatch lab-notes"]);
    expect(out.trace.traceparent).toBe(`00-${trace}-${sent[0]!.spanId}-01`);
    expect(sent[0]!.attributes).toContainEqual({
      key: "auraison.dispatch.again",
      value: { boolValue: true },
    });
  });

  it("a frame that could not go out: the dispatch span is an error, and the run is still queued (no queue span yet)", async () => {
    const { spans, sent } = recorder(1_765_000_010_000);
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    dispatchSpans(
      spans,
      "lab",
      {
        life: { run_id: RUN, targets: [] },
        intent: { ...INTENT, trace: { traceparent: parent } },
        attempt: 1,
        eligibleAt: null,
      },
      { agentId: "host-a.lab-notes", app: "lab-notes" },
    ).sent(false);
    await spans.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentSpanId: "00f067aa0ba902b7",
      name: "dispatch lab-notes",
      status: { code: 2 },
    });
    expect(sent[0]!.attributes).toContainEqual({
      key: "error.type",
      value: { stringValue: "agent_gone" },
    });
  });

  it("a run that leaves the queue without going out: its wait, as an error span named for its app", async () => {
    const { spans, sent } = recorder(1_765_000_030_000);
    queueLeft(
      spans,
      "lab",
      {
        life: { run_id: RUN, targets: [{ app: "sim-bench" }] },
        intent: INTENT,
        attempt: 1,
        eligibleAt: 1_765_000_000_000,
      },
      "queue_timeout",
    );
    await spans.flush();
    expect(sent).toMatchObject([
      {
        name: "queue sim-bench",
        status: { code: 2 },
        startTimeUnixNano: "1765000000000000000",
        endTimeUnixNano: "1765000030000000000",
      },
    ]);
    expect(sent[0]!.attributes).toContainEqual({
      key: "error.type",
      value: { stringValue: "queue_timeout" },
    });
  });
});
