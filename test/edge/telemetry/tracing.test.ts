import { afterEach, describe, expect, it } from "vitest";
import { resolveModelSettings } from "../../../edge/models/resolve";
import type { EdgeRuntime } from "../../../edge/runtime";
import { decodeOtlpTraces, otlpReceiver } from "../../helpers/otlp-receiver";
import { openAiUpstream, type UpstreamAnswer } from "../helpers/openai-upstream";
import { makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";

/**
 * The edge's traces, end to end: a run with a tool call and two model calls exports OTLP
 * (protobuf over HTTP) to a receiver here, whose payloads are decoded with the OTLP protobuf
 * definitions themselves (the opentelemetry-proto package, `npm run otlp:python`); the model
 * requests carry the trace on as W3C traceparent.
 */

const KEY = `aur_agent_lab_${"k".repeat(43)}`;
let runtime: EdgeRuntime | null = null;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await runtime?.close();
  runtime = null;
  for (const close of closers.splice(0)) await close();
});

/** An edge agent (in `runtime`) whose model is a scripted OpenAI-compatible server. */
async function agentWithModel(answers: UpstreamAnswer[], env: Record<string, string>) {
  const upstream = await openAiUpstream(answers);
  closers.push(upstream.close);
  const models = resolveModelSettings({
    app: "lab",
    env: {},
    gateway: { url: upstream.url, key: KEY },
    fallback: {},
  });
  const agent = await openRuntime(makeApp(), [], { models, env });
  agent.centralReachable = () => true;
  runtime = agent;
  return { upstream, agent };
}

describe("edge traces (OpenTelemetry GenAI spans over OTLP)", () => {
  it("exports invoke_agent, chat and execute_tool spans of a run, and sends traceparent with each model request", async () => {
    const receiver = await otlpReceiver();
    closers.push(receiver.close);
    const { upstream, agent } = await agentWithModel(
      [{ tool: "bash", args: { command: "echo hi" } }, "done"],
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: "x-team=lab",
      },
    );
    const { record, events } = await runTask(agent, "say hi with bash");
    expect(record.status, JSON.stringify(record.error)).toBe("completed");
    await agent.tracing!.flush();

    // Protobuf, with the collector's header from OTEL_EXPORTER_OTLP_HEADERS.
    for (const h of receiver.headers)
      expect(h).toMatchObject({ "content-type": "application/x-protobuf", "x-team": "lab" });
    const spans = decodeOtlpTraces(receiver.bodies);
    const run = spans.find((s) => s.name === "invoke_agent lab-notes")!;
    expect(run).toMatchObject({
      parent_span_id: "",
      kind: "SPAN_KIND_INTERNAL",
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "lab-notes",
        "gen_ai.agent.id": "host-1.lab-notes",
        "gen_ai.conversation.id": record.run_id,
        "auraison.run_id": record.run_id,
        "auraison.outcome": "completed",
      },
      resource: {
        "service.name": "auraison-edge",
        "service.instance.id": "host-1.lab-notes",
        "auraison.app": "lab-notes",
        "auraison.tenant": "lab",
      },
    });
    const chats = spans.filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    const modelCalls = ofKind(events, "model_call");
    expect(chats).toHaveLength(modelCalls.length);
    expect(chats).toHaveLength(2);
    for (const [i, chat] of chats.entries()) {
      const call = modelCalls[i]!.payload;
      expect(chat).toMatchObject({
        trace_id: run.trace_id,
        parent_span_id: run.span_id,
        kind: "SPAN_KIND_CLIENT",
        name: `chat ${call.request_model}`,
        attributes: {
          "gen_ai.provider.name": call.provider,
          "gen_ai.request.model": call.request_model,
          "gen_ai.usage.input_tokens": call.input_tokens,
          "gen_ai.usage.output_tokens": call.output_tokens,
        },
      });
      // The request that made this call carried this span as its parent.
      expect(upstream.calls[i]!.headers.traceparent).toBe(`00-${run.trace_id}-${chat.span_id}-01`);
    }
    const tool = spans.find((s) => s.name === "execute_tool bash")!;
    expect(tool).toMatchObject({
      trace_id: run.trace_id,
      parent_span_id: run.span_id,
      status: "STATUS_CODE_UNSET",
      attributes: {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "bash",
        "gen_ai.tool.call.id": ofKind(events, "tool_call_started")[0]!.payload.tool_call_id,
      },
    });
    // Children lie within the run, in the order they happened.
    for (const child of [...chats, tool]) {
      expect(child.start).toBeGreaterThanOrEqual(run.start);
      expect(child.end).toBeLessThanOrEqual(run.end);
    }
    expect(chats[0]!.end).toBeLessThanOrEqual(tool.start);
    expect(tool.end).toBeLessThanOrEqual(chats[1]!.end);
  });

  it("exports nothing and adds no header without an OTLP endpoint", async () => {
    const { upstream, agent } = await agentWithModel(["done"], {});
    await runTask(agent, "hi");
    expect(agent.tracing).toBeNull();
    expect(upstream.calls[0]!.headers.traceparent).toBeUndefined();
  });
});
