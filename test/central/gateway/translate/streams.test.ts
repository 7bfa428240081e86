import { describe, expect, it } from "vitest";
import type { Wire } from "../../../../central/gateway/dialects/errors";
import { SseReader } from "../../../../central/gateway/sse/reader";
import { relayFor, StreamObserver } from "../../../../central/gateway/translate/streams";

const enc = new TextEncoder();
const sse = (data: object | string, event?: string) =>
  `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

/** Runs upstream events through the observer and a relay; returns the client's text and the observer. */
async function relay(upstream: Wire, client: Wire, events: string[], clientWantsUsage = true) {
  const reader = new SseReader(
    new ReadableStream({
      start(c) {
        for (const e of events) c.enqueue(enc.encode(e));
        c.close();
      },
    }),
  );
  const observer = new StreamObserver(upstream);
  const r = relayFor(upstream, client, { clientWantsUsage, now: 1_700_000_000_000 });
  let out = "";
  let firstToken = -1;
  for (let i = 0; ; i++) {
    const event = await reader.next();
    if (!event) break;
    const seen = observer.observe(event);
    if (seen.token && firstToken < 0) firstToken = i;
    out += r.push(event, seen).join("");
    if (seen.terminal) out += r.end().join("");
  }
  return { out, observer, firstToken };
}

/** The data payloads of an SSE text (JSON parsed where possible). */
function payloads(text: string): unknown[] {
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((block) => {
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      try {
        return JSON.parse(data);
      } catch {
        return data;
      }
    });
}

const openAiStream = [
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
  }),
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [{ index: 0, delta: { content: "Let me " }, finish_reason: null }],
  }),
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [{ index: 0, delta: { content: "look." }, finish_reason: null }],
  }),
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index: 0,
              id: "call_1",
              type: "function",
              function: { name: "lab_get", arguments: "" },
            },
          ],
        },
        finish_reason: null,
      },
    ],
  }),
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '{"id":' } }] },
        finish_reason: null,
      },
    ],
  }),
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '"S-1"}' } }] },
        finish_reason: null,
      },
    ],
  }),
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }],
  }),
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [],
    usage: {
      prompt_tokens: 30,
      completion_tokens: 12,
      total_tokens: 42,
      prompt_tokens_details: { cached_tokens: 10 },
    },
  }),
  sse("[DONE]"),
];

const anthropicStream = [
  sse(
    {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude",
        content: [],
        usage: { input_tokens: 20, cache_read_input_tokens: 10, output_tokens: 1 },
      },
    },
    "message_start",
  ),
  sse(
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    "content_block_start",
  ),
  sse({ type: "ping" }, "ping"),
  sse(
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Let me " } },
    "content_block_delta",
  ),
  sse(
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "look." } },
    "content_block_delta",
  ),
  sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
  sse(
    {
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "toolu_1", name: "lab_get", input: {} },
    },
    "content_block_start",
  ),
  sse(
    {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '{"id":' },
    },
    "content_block_delta",
  ),
  sse(
    {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '"S-1"}' },
    },
    "content_block_delta",
  ),
  sse({ type: "content_block_stop", index: 1 }, "content_block_stop"),
  sse(
    {
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { output_tokens: 12 },
    },
    "message_delta",
  ),
  sse({ type: "message_stop" }, "message_stop"),
];

describe("streams", () => {
  it("same dialect: the client gets the provider's events byte for byte", async () => {
    for (const [dialect, events] of [
      ["openai", openAiStream],
      ["anthropic", anthropicStream],
    ] as const) {
      const { out, observer, firstToken } = await relay(dialect, dialect, events);
      expect(out).toBe(events.join(""));
      expect(observer.ended).toBe(true);
      expect(observer.usage).toEqual({ input: 30, output: 12, cacheRead: 10, cacheWrite: 0 });
      expect(firstToken).toBe(dialect === "openai" ? 1 : 3);
    }
  });

  it("leaves out the usage chunk the gateway asked for when the OpenAI client did not", async () => {
    const { out } = await relay("openai", "openai", openAiStream, false);
    expect(out).toBe(openAiStream.filter((_e, i) => i !== 7).join(""));
  });

  it("Anthropic → OpenAI: text deltas and an indexed, streamed tool call, finish and usage", async () => {
    const { out } = await relay("anthropic", "openai", anthropicStream);
    const chunks = payloads(out) as {
      choices: { delta: Record<string, unknown>; finish_reason: string | null }[];
      usage?: unknown;
    }[];
    expect(chunks.at(-1)).toBe("[DONE]");
    const deltas = chunks.slice(0, -1).map((c) => c.choices[0]?.delta ?? null);
    expect(deltas).toEqual([
      { role: "assistant", content: "" },
      { content: "Let me " },
      { content: "look." },
      {
        tool_calls: [
          {
            index: 0,
            id: "toolu_1",
            type: "function",
            function: { name: "lab_get", arguments: "" },
          },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"id":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"S-1"}' } }] },
      {},
      null,
    ]);
    expect(chunks[6]!.choices[0]!.finish_reason).toBe("tool_calls");
    expect(chunks[7]!.usage).toEqual({
      prompt_tokens: 30,
      completion_tokens: 12,
      total_tokens: 42,
      prompt_tokens_details: { cached_tokens: 10 },
    });
    for (const c of chunks.slice(0, -1))
      expect(c).toMatchObject({ id: "msg_1", object: "chat.completion.chunk", model: "claude" });
  });

  it("OpenAI → Anthropic: a text block, a tool_use block with its JSON deltas, stop reason and usage", async () => {
    const { out } = await relay("openai", "anthropic", openAiStream);
    const events = payloads(out) as { type: string; [k: string]: unknown }[];
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[0]).toMatchObject({ message: { id: "msg_c1", role: "assistant", model: "gpt" } });
    expect(events[5]).toMatchObject({
      index: 1,
      content_block: { type: "tool_use", id: "call_1", name: "lab_get", input: {} },
    });
    expect(
      events
        .slice(6, 8)
        .map((e) => (e.delta as { partial_json: string }).partial_json)
        .join(""),
    ).toBe('{"id":"S-1"}');
    expect(events[9]).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: { input_tokens: 20, output_tokens: 12, cache_read_input_tokens: 10 },
    });
    // Every event names itself in an `event:` line, as Anthropic's SDKs expect.
    expect(
      out
        .split("\n\n")
        .filter(Boolean)
        .every((b) => b.startsWith("event: ")),
    ).toBe(true);
  });

  it("keeps the usage a failed Responses stream reports, which the provider bills", () => {
    const observer = new StreamObserver("responses");
    const seen = observer.observe({
      raw: "",
      event: "response.failed",
      data: JSON.stringify({
        type: "response.failed",
        response: {
          id: "resp_1",
          status: "failed",
          error: { code: "server_error", message: "overloaded" },
          usage: {
            input_tokens: 900,
            input_tokens_details: { cached_tokens: 100 },
            output_tokens: 3,
          },
        },
      }),
      hasData: true,
    });
    expect(seen.error).toContain("overloaded");
    expect(observer.usage).toEqual({ input: 900, output: 3, cacheRead: 100, cacheWrite: 0 });
  });

  it("counts the characters of thinking, text and tool input an Anthropic stream relays", () => {
    const observer = new StreamObserver("anthropic");
    for (const delta of [
      { type: "thinking_delta", thinking: "Let me think." },
      { type: "text_delta", text: "Hi" },
      { type: "input_json_delta", partial_json: '{"a":1}' },
      { type: "signature_delta", signature: "c2lnbmF0dXJl" },
    ])
      observer.observe({
        raw: "",
        event: "content_block_delta",
        data: JSON.stringify({ type: "content_block_delta", index: 0, delta }),
        hasData: true,
      });
    expect(observer.outputChars).toBe(13 + 2 + 7);
  });

  it("reports a provider's error event, and writes errors in the client's dialect", async () => {
    const observer = new StreamObserver("anthropic");
    const seen = observer.observe({
      raw: "",
      event: "error",
      data: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "busy" } }),
      hasData: true,
    });
    expect(seen.error).toBe("busy");
    const openai = relayFor("anthropic", "openai", { clientWantsUsage: false, now: 0 })
      .fail("broke", "upstream_error")
      .join("");
    expect(payloads(openai)).toEqual([
      { error: { message: "broke", type: "server_error", param: null, code: "upstream_error" } },
    ]);
    const anthropic = relayFor("openai", "anthropic", { clientWantsUsage: false, now: 0 })
      .fail("broke", "upstream_error")
      .join("");
    expect(anthropic.startsWith("event: error\n")).toBe(true);
    expect(payloads(anthropic)).toEqual([
      { type: "error", error: { type: "api_error", message: "broke", code: "upstream_error" } },
    ]);
  });
});

describe("OpenAI Responses streams", () => {
  const response = (status: string, usage?: object) => ({
    id: "resp_1",
    object: "response",
    model: "gpt-5",
    status,
    output: [],
    ...(usage ? { usage } : {}),
  });
  const events = [
    sse({ type: "response.created", response: response("in_progress") }, "response.created"),
    sse(
      { type: "response.output_item.added", item: { type: "message", content: [] } },
      "response.output_item.added",
    ),
    sse({ type: "response.output_text.delta", delta: "4.2 g" }, "response.output_text.delta"),
    sse(
      {
        type: "response.completed",
        response: response("completed", {
          input_tokens: 40,
          input_tokens_details: { cached_tokens: 30 },
          output_tokens: 3,
        }),
      },
      "response.completed",
    ),
  ];

  it("pass through unchanged: the first delta is the first token, usage and status come at the end", async () => {
    const { out, observer, firstToken } = await relay("responses", "responses", events);
    expect(out).toBe(events.join(""));
    expect(firstToken).toBe(2);
    expect(observer.ended).toBe(true);
    expect(observer.usage).toEqual({ input: 40, output: 3, cacheRead: 30, cacheWrite: 0 });
    expect(observer.finish).toEqual(["completed"]);
    expect(observer.responseId).toBe("resp_1");
    expect(observer.responseModel).toBe("gpt-5");
  });

  it("take a function call's start as its first token, and report failures and errors", async () => {
    const observer = new StreamObserver("responses");
    const seen = (data: object) =>
      observer.observe({ event: null, data: JSON.stringify(data), raw: "", hasData: true });
    expect(
      seen({ type: "response.output_item.added", item: { type: "function_call", name: "f" } })
        .token,
    ).toBe(true);
    expect(seen({ type: "error", message: "overloaded" }).error).toBe("overloaded");
    expect(
      seen({ type: "response.failed", response: { error: { message: "server error" } } }).error,
    ).toBe("server error");
    const broken = relayFor("responses", "responses", { clientWantsUsage: false, now: 0 });
    expect(broken.fail("the stream broke", "upstream_stream_interrupted")).toEqual([
      `event: error\ndata: ${JSON.stringify({ type: "error", code: "upstream_stream_interrupted", message: "the stream broke", param: null })}\n\n`,
    ]);
  });
});
