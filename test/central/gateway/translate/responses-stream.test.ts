import { describe, expect, it } from "vitest";
import type { AnthropicResponse } from "../../../../central/gateway/dialects/anthropic";
import type { OpenAiResponse } from "../../../../central/gateway/dialects/openai";
import { SseReader } from "../../../../central/gateway/sse/reader";
import { anthropicToResponse } from "../../../../central/gateway/translate/responses-answer";
import { relayFor, StreamObserver } from "../../../../central/gateway/translate/streams";
import { unpackThinking } from "../../../../central/gateway/translate/thinking-items";

/**
 * Anthropic answers as OpenAI Responses: a whole message as a response object, and a stream of
 * Messages events as Responses events, numbered, ending in a response that carries the same
 * items the whole message would have given.
 */

const NOW = 1_700_000_000_000;
const REQUEST = {
  model: "auto",
  instructions: "Be brief.",
  tools: [{ type: "function", name: "lab_get_sample", parameters: { type: "object" } }],
  max_output_tokens: 500,
};
const USAGE = {
  input_tokens: 100,
  output_tokens: 40,
  cache_read_input_tokens: 900,
  cache_creation_input_tokens: 50,
};

/** One message with thinking, text and a tool call, whole. */
const MESSAGE: AnthropicResponse = {
  id: "msg_01abc",
  type: "message",
  role: "assistant",
  model: "claude-x",
  content: [
    { type: "thinking", thinking: "Need the sample.", signature: "c2ln" },
    { type: "text", text: "Looking it up." },
    { type: "tool_use", id: "toolu_1", name: "lab_get_sample", input: { id: "S-1" } },
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: USAGE,
};

/** The same message as Anthropic streams it. */
function streamed(stopReason = "tool_use"): string[] {
  const ev = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    ev("message_start", {
      message: {
        ...MESSAGE,
        content: [],
        stop_reason: null,
        usage: { ...USAGE, output_tokens: 1 },
      },
    }),
    ev("content_block_start", { index: 0, content_block: { type: "thinking", thinking: "" } }),
    ev("content_block_delta", {
      index: 0,
      delta: { type: "thinking_delta", thinking: "Need the " },
    }),
    ev("content_block_delta", { index: 0, delta: { type: "thinking_delta", thinking: "sample." } }),
    ev("content_block_delta", { index: 0, delta: { type: "signature_delta", signature: "c2ln" } }),
    ev("content_block_stop", { index: 0 }),
    ev("content_block_start", { index: 1, content_block: { type: "text", text: "" } }),
    ev("ping", {}),
    ev("content_block_delta", { index: 1, delta: { type: "text_delta", text: "Looking " } }),
    ev("content_block_delta", { index: 1, delta: { type: "text_delta", text: "it up." } }),
    ev("content_block_stop", { index: 1 }),
    ev("content_block_start", {
      index: 2,
      content_block: { type: "tool_use", id: "toolu_1", name: "lab_get_sample", input: {} },
    }),
    ev("content_block_delta", {
      index: 2,
      delta: { type: "input_json_delta", partial_json: '{"id":' },
    }),
    ev("content_block_delta", {
      index: 2,
      delta: { type: "input_json_delta", partial_json: '"S-1"}' },
    }),
    ev("content_block_stop", { index: 2 }),
    ev("message_delta", {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: 40 },
    }),
    ev("message_stop", {}),
  ];
}

async function relay(events: string[]) {
  const enc = new TextEncoder();
  const reader = new SseReader(
    new ReadableStream({
      start(c) {
        for (const e of events) c.enqueue(enc.encode(e));
        c.close();
      },
    }),
  );
  const observer = new StreamObserver("anthropic");
  const r = relayFor("anthropic", "responses", {
    clientWantsUsage: false,
    now: NOW,
    request: REQUEST,
  });
  const out: { event: string; data: Record<string, unknown> }[] = [];
  let firstToken = -1;
  const collect = (texts: string[]) => {
    for (const text of texts) {
      const event = /^event: (.*)$/m.exec(text)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as Record<string, unknown>;
      out.push({ event, data });
    }
  };
  for (;;) {
    const event = await reader.next();
    if (!event) break;
    const seen = observer.observe(event);
    if (seen.token && firstToken < 0) firstToken = out.length;
    collect(r.push(event, seen));
    if (seen.terminal) collect(r.end());
  }
  return {
    events: out,
    observer,
    firstToken,
    fail: (m: string, c: string) => collect(r.fail(m, c)),
  };
}

describe("an Anthropic message as a Responses object", () => {
  it("gives reasoning, message and function_call items, the request's settings and OpenAI-style usage", () => {
    const response = anthropicToResponse(MESSAGE, REQUEST, NOW);
    expect(response).toMatchObject({
      id: "resp_01abc",
      object: "response",
      created_at: NOW / 1000,
      model: "claude-x",
      status: "completed",
      incomplete_details: null,
      error: null,
      instructions: "Be brief.",
      tools: REQUEST.tools,
      max_output_tokens: 500,
      output: [
        {
          type: "reasoning",
          id: "rs_01abc_0",
          summary: [{ type: "summary_text", text: "Need the sample." }],
          status: "completed",
        },
        {
          type: "message",
          id: "msg_01abc_1",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Looking it up.", annotations: [] }],
        },
        {
          type: "function_call",
          id: "fc_toolu_1",
          call_id: "toolu_1",
          name: "lab_get_sample",
          arguments: '{"id":"S-1"}',
          status: "completed",
        },
      ],
      // Cached input is part of input_tokens, as OpenAI counts it.
      usage: {
        input_tokens: 1_050,
        input_tokens_details: { cached_tokens: 900, cache_write_tokens: 50 },
        output_tokens: 40,
        total_tokens: 1_090,
      },
    });
    const reasoning = response.output[0] as { encrypted_content?: string };
    expect(unpackThinking(reasoning.encrypted_content)).toEqual(MESSAGE.content[0]);
  });

  it("is incomplete when the answer hit its token cap", () => {
    const response = anthropicToResponse(
      { ...MESSAGE, content: [{ type: "text", text: "S-1 wei" }], stop_reason: "max_tokens" },
      REQUEST,
      NOW,
    );
    expect(response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output: [{ type: "message", status: "incomplete" }],
    });
  });
});

describe("an Anthropic stream as Responses events", () => {
  it("numbers every event in order and ends with the items the whole message gives", async () => {
    const { events, observer, firstToken } = await relay(streamed());
    // The stream commits at its first thinking delta: a long think is not a stuck provider.
    expect(events[firstToken]!.event).toBe("response.reasoning_summary_text.delta");
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.event === e.data.type)).toBe(true);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[0]!.data.response).toMatchObject({
      id: "resp_01abc",
      status: "in_progress",
      output: [],
    });
    const text = events.filter((e) => e.event === "response.output_text.delta");
    expect(text.map((e) => e.data.delta).join("")).toBe("Looking it up.");
    expect(text[0]!.data).toMatchObject({
      item_id: "msg_01abc_1",
      output_index: 1,
      content_index: 0,
    });
    const args = events.find((e) => e.event === "response.function_call_arguments.done");
    expect(args!.data).toMatchObject({
      item_id: "fc_toolu_1",
      output_index: 2,
      arguments: '{"id":"S-1"}',
    });
    const completed = events.at(-1)!.data.response as OpenAiResponse;
    expect(completed).toEqual(anthropicToResponse(MESSAGE, REQUEST, NOW));
    // The observer reads Anthropic's own usage, cache writes included, for pricing.
    expect(observer.usage).toEqual({ input: 1_050, output: 40, cacheRead: 900, cacheWrite: 50 });
    expect(observer.finish).toEqual(["tool_use"]);
  });

  it("ends incomplete at the token cap, and a broken stream with a numbered error event", async () => {
    const { events, fail } = await relay(streamed("max_tokens"));
    const last = events.at(-1)!;
    expect(last.event).toBe("response.incomplete");
    expect(last.data.response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
    });
    fail("the provider's stream ended before the answer was complete", "upstream_stream_truncated");
    expect(events.at(-1)).toEqual({
      event: "error",
      data: {
        type: "error",
        sequence_number: events.length - 1,
        code: "upstream_stream_truncated",
        message: "the provider's stream ended before the answer was complete",
        param: null,
      },
    });
  });
});
