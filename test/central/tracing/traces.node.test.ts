import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATHS } from "../../../contract";
import type { DecodedSpan } from "../../helpers/otlp-receiver";
import {
  askNotesInTrace,
  type EdgeOnGateway,
  edgeOnGateway,
  NOTES_ANSWERS,
  post,
  SECRETS,
} from "../gateway/gateway-dev";

/**
 * Issue 15, item 4: one trace from a caller's `traceparent` through central and an edge agent to
 * the model provider, every hop exporting to one OTLP/HTTP receiver: central (under wrangler
 * dev, OTLP/JSON from the tenant object and the Worker) and the agent (OTLP/protobuf, the
 * OpenTelemetry SDK). Every body is decoded against the OTLP protobuf definitions.
 */
const CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN = "b7ad6b7169203331";

describe("traces across central, the edge and the gateway", () => {
  let stack: EdgeOnGateway;
  let keys: string[];

  beforeAll(async () => {
    stack = await edgeOnGateway({
      agentId: "host-tr.lab-notes",
      state: join(mkdtempSync(join(tmpdir(), "auraison-traces-")), "edge"),
      centralTraces: true,
    });
    keys = [stack.adminKey, stack.agentKey, stack.central.bootstrapKey, ...Object.values(SECRETS)];
  }, 180_000);

  afterAll(() => stack?.stop());

  it("joins the caller's trace: queue, dispatch, the run, its model calls, the gateway and each upstream attempt", async () => {
    const { upstream, edge, traces } = stack;
    // The first try of the first call fails; the gateway retries it on the same provider.
    upstream.script({ kind: "status", status: 503, message: "overloaded" }, ...NOTES_ANSWERS);
    const { accepted, run } = await askNotesInTrace(stack, {
      traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
      tracestate: "orchestrator=lab7",
    });
    const runId = accepted.run.run_id;
    expect(run.status, edge.output()).toBe("completed");
    expect(upstream.calls).toHaveLength(3);

    // Central's tenant object flushes a second after its spans end; the edge's batch too.
    let spans: DecodedSpan[] = [];
    const complete = () =>
      spans.some((s) => s.name.startsWith("queue")) &&
      spans.some((s) => s.name.startsWith("invoke_agent")) &&
      spans.filter((s) => s.kind === "SPAN_KIND_SERVER").length === 2;
    for (let i = 0; i < 100 && !complete(); i++) {
      await new Promise((r) => setTimeout(r, 200));
      spans = traces.spans();
    }
    const names = JSON.stringify(spans.map((s) => `${s.name} ${s.span_id}<-${s.parent_span_id}`));
    expect(traces.jsonBodies.length, "central's OTLP/JSON").toBeGreaterThan(0);
    expect(traces.bodies.length, "the edge's OTLP/protobuf").toBeGreaterThan(0);
    // One trace, the caller's.
    expect(new Set(spans.map((s) => s.trace_id)), names).toEqual(new Set([CALLER_TRACE]));
    const byId = new Map(spans.map((s) => [s.span_id, s]));
    const one = (predicate: (s: DecodedSpan) => boolean) => {
      const found = spans.filter(predicate);
      expect(found, names).toHaveLength(1);
      return found[0]!;
    };
    const childrenOf = (parent: DecodedSpan) =>
      spans.filter((s) => s.parent_span_id === parent.span_id).sort((a, b) => a.start - b.start);

    // Central: the intent waited in the queue, then went out to the agent, both under the caller.
    const queue = one((s) => s.name === "queue lab-notes");
    const dispatch = one((s) => s.name === "dispatch lab-notes");
    for (const span of [queue, dispatch])
      expect(span).toMatchObject({
        parent_span_id: CALLER_SPAN,
        resource: { "service.name": "auraison-central" },
        attributes: {
          "auraison.run_id": runId,
          "auraison.intent_id": accepted.intent.intent_id,
          "auraison.attempt": 1,
          "auraison.app": "lab-notes",
        },
      });
    expect(dispatch).toMatchObject({
      kind: "SPAN_KIND_PRODUCER",
      status: "STATUS_CODE_UNSET",
      attributes: { "auraison.agent_id": "host-tr.lab-notes" },
    });
    expect(queue.end).toBeLessThanOrEqual(dispatch.end);

    // The edge: the run continues the trace from the dispatch; its model and tool calls are its children.
    const invoke = one((s) => s.name === "invoke_agent lab-notes");
    expect(invoke).toMatchObject({
      parent_span_id: dispatch.span_id,
      resource: { "service.name": "auraison-edge" },
      attributes: { "auraison.run_id": runId, "gen_ai.operation.name": "invoke_agent" },
    });
    const edgeChats = childrenOf(invoke).filter(
      (s) => s.attributes["gen_ai.operation.name"] === "chat",
    );
    expect(edgeChats, names).toHaveLength(2);
    expect(childrenOf(invoke).map((s) => s.name)).toContain("execute_tool ls");

    // The gateway: each model request's server span is a child of the edge's chat span that made
    // it; under it, the admission and each upstream attempt, whose context the provider was sent.
    const calls = edgeChats.map((chat) => {
      const server = one((s) => s.parent_span_id === chat.span_id);
      expect(server).toMatchObject({
        name: "chat auto",
        kind: "SPAN_KIND_SERVER",
        resource: { "service.name": "auraison-central" },
        status: "STATUS_CODE_UNSET",
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.request.model": "auto",
          "gen_ai.provider.name": "lab-vllm",
          "auraison.run_id": runId,
          "auraison.agent_id": "host-tr.lab-notes",
          "auraison.cache_hit": false,
        },
      });
      const [admission, ...attempts] = childrenOf(server);
      expect(admission).toMatchObject({
        name: "admission",
        attributes: { "auraison.admission": "proceed" },
      });
      return { server, attempts, admittedBy: admission?.attributes["auraison.admitted_by"] };
    });
    // The first call of its kind is admitted by the tenant object; later ones may use the lease
    // it granted (within the lease's two seconds) or ask again.
    expect(calls[0]?.admittedBy).toBe("tenant");
    for (const c of calls.slice(1)) expect(["lease", "tenant"]).toContain(c.admittedBy);
    const attempts = calls.flatMap((c) => c.attempts);
    expect(attempts.map((a) => [a.name, a.kind, a.status])).toEqual([
      ["chat qwen-notes", "SPAN_KIND_CLIENT", "STATUS_CODE_ERROR"],
      ["chat qwen-notes", "SPAN_KIND_CLIENT", "STATUS_CODE_UNSET"],
      ["chat qwen-notes", "SPAN_KIND_CLIENT", "STATUS_CODE_UNSET"],
    ]);
    expect(attempts[0]!.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "lab-vllm",
      "gen_ai.request.model": "qwen-notes",
      "http.response.status_code": 503,
      "error.type": expect.any(String),
    });
    expect(attempts[0]!.attributes).not.toHaveProperty("gen_ai.usage.input_tokens");
    expect(
      attempts
        .slice(1)
        .map((a) => [
          a.attributes["gen_ai.usage.input_tokens"],
          a.attributes["gen_ai.usage.output_tokens"],
          a.attributes["gen_ai.response.finish_reasons"],
          a.attributes["gen_ai.response.model"],
        ]),
    ).toEqual([
      [900, 20, ["tool_calls"], "qwen-notes"],
      [1_100, 25, ["stop"], "qwen-notes"],
    ]);
    expect(upstream.calls.map((c) => c.headers.traceparent)).toEqual(
      attempts.map((a) => `00-${CALLER_TRACE}-${a.span_id}-01`),
    );
    expect(upstream.calls.map((c) => c.headers.tracestate)).toEqual(
      attempts.map(() => "orchestrator=lab7"),
    );
    // Every span's parent is in the trace, but the caller's own.
    for (const span of spans)
      if (span.parent_span_id !== CALLER_SPAN)
        expect(byId.has(span.parent_span_id), names).toBe(true);
    // No key of the platform, the tenant, the agent or the provider in anything exported.
    const exported = [...traces.bodies, ...traces.jsonBodies]
      .map((b) => b.toString("latin1"))
      .join("");
    for (const key of keys) expect(exported).not.toContain(key);
  });

  it("marks a failed call, a refused one and a run cancelled in the queue as errors, and counts what the tenant object exported", async () => {
    const { central, upstream, traces } = stack;
    /** A chat call of the agent's, as a child of `span` in the caller's trace; its status. */
    const chat = async (model: string, span: string) => {
      const response = await post(
        central,
        PATHS.chatCompletions,
        stack.agentKey,
        { model, messages: [{ role: "user", content: "hi" }] },
        { traceparent: `00-${CALLER_TRACE}-${span}-01` },
      );
      await response.arrayBuffer();
      return response.status;
    };
    const before = traces.spans().length;
    // Every try of the one candidate fails (the first and two retries).
    upstream.script(...Array.from({ length: 3 }, () => ({ kind: "status" as const, status: 500 })));
    expect(await chat("auto", "1111111111111111")).toBe(502);
    const refusedStatus = await chat("no-such-model", "2222222222222222");
    expect(refusedStatus).toBeGreaterThanOrEqual(400);

    let spans: DecodedSpan[] = [];
    for (let i = 0; i < 100 && spans.filter((s) => s.kind === "SPAN_KIND_SERVER").length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      spans = traces.spans().slice(before);
    }
    const under = (parent: string) => spans.filter((s) => s.parent_span_id === parent);
    const [failedCall] = under("1111111111111111");
    expect(failedCall).toMatchObject({
      name: "chat auto",
      status: "STATUS_CODE_ERROR",
      attributes: { "error.type": "upstream_failed", "auraison.attempts": 3 },
    });
    const tries = under(failedCall!.span_id).filter((s) => s.kind === "SPAN_KIND_CLIENT");
    expect(tries.map((t) => [t.status, t.attributes["http.response.status_code"]])).toEqual([
      ["STATUS_CODE_ERROR", 500],
      ["STATUS_CODE_ERROR", 500],
      ["STATUS_CODE_ERROR", 500],
    ]);
    const [refusedCall] = under("2222222222222222");
    expect(refusedCall).toMatchObject({
      name: "chat no-such-model",
      status: "STATUS_CODE_ERROR",
      attributes: { "http.response.status_code": refusedStatus },
    });
    expect(under(refusedCall!.span_id)).toMatchObject([
      {
        name: "admission",
        status: "STATUS_CODE_ERROR",
        attributes: { "auraison.admission": "refused" },
      },
    ]);

    // An intent no agent serves, cancelled while it waits: its wait is an error span.
    const waiting = await post(
      central,
      PATHS.intents,
      stack.adminKey,
      { params: { prompt: "never served" }, targets: [{ app: "no-such-app" }] },
      { traceparent: `00-${CALLER_TRACE}-3333333333333333-01` },
    );
    expect(waiting.status).toBe(201);
    const { intent } = (await waiting.json()) as { intent: { intent_id: string } };
    const cancelled = await post(
      central,
      `${PATHS.intents}/${intent.intent_id}/cancel`,
      stack.adminKey,
      {},
    );
    expect(cancelled.status).toBe(200);
    await cancelled.arrayBuffer();
    let queued: DecodedSpan[] = [];
    for (let i = 0; i < 50 && queued.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      queued = traces.spans().filter((s) => s.parent_span_id === "3333333333333333");
    }
    expect(queued).toMatchObject([
      {
        name: "queue no-such-app",
        status: "STATUS_CODE_ERROR",
        attributes: { "auraison.intent_id": intent.intent_id, "error.type": expect.any(String) },
      },
    ]);

    // The tenant object's export is on its /metrics (the queue and dispatch spans of the runs above).
    const metrics = await fetch(`${central.url}/metrics`, {
      headers: { authorization: `Bearer ${stack.adminKey}` },
    });
    const text = await metrics.text();
    const exported = /^auraison_trace_spans_total\{outcome="exported"\} (\d+)$/m.exec(text);
    expect(Number(exported?.[1]), text).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^auraison_trace_spans_total\{outcome="failed"\} 0$/m);
  });
});
