import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventsPage, PATHS, type StoredEvent } from "../../../contract";
import { decodeOtlpTraces } from "../../helpers/otlp-receiver";
import {
  askNotesInTrace,
  type EdgeOnGateway,
  edgeOnGateway,
  NOTES_ANSWERS,
  SECRETS,
} from "./gateway-dev";

/**
 * Item 7 of the gateway issue: a real edge agent (`auraison edge start`, pi inside) uses central's
 * gateway as its model provider by default, and the gateway routes its calls to a fake
 * OpenAI-style provider. One intent runs end to end: the model asks for a tool, the agent runs
 * it, the model answers; every model call is in central's log attributed to the run and agent,
 * and the provider's requests carry the edge's trace (the agent exports it over OTLP).
 */
const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

describe("an edge agent on the gateway, end to end", () => {
  let stack: EdgeOnGateway;

  beforeAll(async () => {
    // Central exports no spans of its own here: the caller's trace context is passed on as is.
    stack = await edgeOnGateway({
      agentId: "host-gw.lab-notes",
      state: join(mkdtempSync(join(tmpdir(), "auraison-gateway-edge-")), "edge"),
      centralTraces: false,
    });
  }, 180_000);

  afterAll(() => stack?.stop());

  it("runs an intent through the gateway: a streamed tool call, a tool run, an answer, all attributed", async () => {
    const { upstream, edge, admin, traces } = stack;
    upstream.script(...NOTES_ANSWERS);
    // Submitted within a trace of the caller's (an orchestrator's, say): the run continues it.
    const { accepted, run } = await askNotesInTrace(stack, {
      traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
    });
    const runId = accepted.run.run_id;
    expect(run.status, edge.output()).toBe("completed");
    expect(run.result).toContain("three notes");

    // The agent called the gateway as an OpenAI-compatible provider; the gateway called the
    // provider with its own key, streaming, for the alias's model.
    expect(upstream.calls).toHaveLength(2);
    for (const call of upstream.calls) {
      expect(call.body).toMatchObject({
        model: "qwen-notes",
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(call.headers.authorization).toBe(`Bearer ${SECRETS.FAKE_OPENAI_KEY}`);
    }
    const second = upstream.calls[1]!.body.messages as {
      role: string;
      tool_call_id?: string;
      content?: unknown;
    }[];
    const toolResult = second.find((m) => m.role === "tool");
    expect(toolResult).toMatchObject({ tool_call_id: "call_ls" });
    expect(JSON.stringify(toolResult!.content)).toContain("2026-11-18-sample-prep.md");

    let events: StoredEvent[] = [];
    for (let i = 0; i < 50; i++) {
      events = (await admin.request("GET", `${PATHS.events}?run=${runId}&limit=1000`, EventsPage))
        .events;
      if (
        events.filter((e) => e.kind === "model_call" && e.source === "central").length === 2 &&
        events.some((e) => e.kind === "run_completed")
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const gatewayCalls = events.filter(
      (e): e is Extract<StoredEvent, { kind: "model_call" }> =>
        e.kind === "model_call" && e.source === "central",
    );
    expect(gatewayCalls).toHaveLength(2);
    for (const call of gatewayCalls)
      expect(call).toMatchObject({
        run_id: runId,
        agent_id: "host-gw.lab-notes",
        attempt: 1,
        payload: {
          observer: "gateway",
          provider: "lab-vllm",
          request_model: "qwen-notes",
          alias: "auto",
          stream: true,
          app: "lab-notes",
          intent_type: "task",
          error_type: null,
          route: {
            requested: "auto",
            alias: "auto",
            chosen: { provider: "lab-vllm", model: "qwen-notes" },
          },
        },
      });
    expect(
      gatewayCalls.map((c) => [
        c.payload.input_tokens,
        c.payload.output_tokens,
        c.payload.cost_usd,
      ]),
    ).toEqual([
      [900, 20, 0.00094],
      [1_100, 25, 0.00115],
    ]);
    expect(gatewayCalls.map((c) => c.payload.finish_reasons)).toEqual([["tool_calls"], ["stop"]]);
    // The edge's own view of the same calls is there too, told apart by its observer.
    const edgeCalls = events.filter((e) => e.kind === "model_call" && e.source === "edge");
    expect(edgeCalls.map((e) => e.kind === "model_call" && e.payload.observer)).toEqual([
      "edge",
      "edge",
    ]);
    const tool = events.find((e) => e.kind === "tool_call_finished");
    expect(tool).toMatchObject({ payload: { tool: "ls", status: "ok" } });

    // One trace from the caller through the edge's run to the provider: the run's span is a
    // child of the caller's, and each request the gateway sent upstream carries the edge's
    // `chat` span of that call as its parent.
    let spans: ReturnType<typeof decodeOtlpTraces> = [];
    for (let i = 0; i < 50 && !spans.some((s) => s.name.startsWith("invoke_agent")); i++) {
      await new Promise((r) => setTimeout(r, 200));
      spans = decodeOtlpTraces(traces.bodies);
    }
    const runSpan = spans.find((s) => s.attributes["auraison.run_id"] === runId)!;
    expect(runSpan, JSON.stringify(spans.map((s) => s.name))).toMatchObject({
      trace_id: CALLER_TRACE,
      parent_span_id: CALLER_SPAN,
    });
    const chats = spans.filter(
      (s) => s.trace_id === runSpan.trace_id && s.attributes["gen_ai.operation.name"] === "chat",
    );
    expect(chats).toHaveLength(2);
    expect(upstream.calls.map((c) => c.headers.traceparent)).toEqual(
      chats.map((c) => `00-${runSpan.trace_id}-${c.span_id}-01`),
    );
  });
});
