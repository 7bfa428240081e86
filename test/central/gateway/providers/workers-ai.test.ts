import { describe, expect, it } from "vitest";
import { callWorkersAi } from "../../../../central/gateway/providers/workers-ai";
import { SseReader } from "../../../../central/gateway/sse/reader";

/**
 * Workers AI cannot be reached here (no Cloudflare account): these tests run the adapter against
 * a stand-in for the AI binding that records what it is asked and answers in Workers AI's
 * documented output shapes.
 */
function standIn(answer: unknown) {
  const calls: { model: string; inputs: Record<string, unknown>; options: unknown }[] = [];
  const ai = {
    run: async (model: string, inputs: Record<string, unknown>, options: unknown) => {
      calls.push({ model, inputs, options });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { ai: ai as unknown as Ai, calls };
}

const sseStream = (events: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const e of events) c.enqueue(new TextEncoder().encode(e));
      c.close();
    },
  });

async function chunks(response: Response) {
  const reader = new SseReader(response.body!);
  const out: unknown[] = [];
  for (;;) {
    const e = await reader.next();
    if (!e) return out;
    out.push(e.data === "[DONE]" ? "[DONE]" : JSON.parse(e.data));
  }
}

describe("Workers AI adapter", () => {
  it("passes an OpenAI-style request as the binding's inputs and answers a chat completion", async () => {
    const { ai, calls } = standIn({
      response: "Four point two grams.",
      usage: { prompt_tokens: 21, completion_tokens: 6, total_tokens: 27 },
    });
    const signal = new AbortController().signal;
    const response = await callWorkersAi(
      ai,
      {
        model: "@cf/meta/llama-3.1-8b-instruct",
        messages: [{ role: "user", content: "Mass of S-1?" }],
        max_completion_tokens: 50,
        temperature: 0,
        user: "dropped",
      },
      signal,
    );
    expect(calls).toEqual([
      {
        model: "@cf/meta/llama-3.1-8b-instruct",
        inputs: {
          messages: [{ role: "user", content: "Mass of S-1?" }],
          temperature: 0,
          max_tokens: 50,
        },
        options: { signal },
      },
    ]);
    expect(await response.json()).toMatchObject({
      object: "chat.completion",
      model: "@cf/meta/llama-3.1-8b-instruct",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Four point two grams." },
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 21, completion_tokens: 6, total_tokens: 27 },
    });
  });

  it("maps both tool-call shapes to OpenAI tool_calls", async () => {
    const legacy = await callWorkersAi(
      standIn({ tool_calls: [{ name: "lab_get", arguments: { id: "S-1" } }] }).ai,
      { model: "m", messages: [] },
      new AbortController().signal,
    );
    expect(await legacy.json()).toMatchObject({
      choices: [
        {
          message: {
            content: null,
            tool_calls: [
              {
                id: "call_0",
                type: "function",
                function: { name: "lab_get", arguments: '{"id":"S-1"}' },
              },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
    const modern = await callWorkersAi(
      standIn({
        tool_calls: [{ id: "c9", type: "function", function: { name: "f", arguments: "{}" } }],
      }).ai,
      { model: "m", messages: [], tools: [{ type: "function", function: { name: "f" } }] },
      new AbortController().signal,
    );
    expect(await modern.json()).toMatchObject({
      choices: [
        { message: { tool_calls: [{ id: "c9", function: { name: "f", arguments: "{}" } }] } },
      ],
    });
  });

  it("turns the binding's stream into OpenAI chunks with a final usage chunk", async () => {
    const { ai, calls } = standIn(
      sseStream([
        'data: {"response":"Four","p":"abc"}\n\n',
        'data: {"response":" grams"}\n\n',
        'data: {"response":"","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n',
        "data: [DONE]\n\n",
      ]),
    );
    const response = await callWorkersAi(
      ai,
      { model: "m", stream: true, messages: [] },
      new AbortController().signal,
    );
    expect(calls[0]!.inputs.stream).toBe(true);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const out = (await chunks(response)) as {
      choices: { delta: unknown; finish_reason: string | null }[];
      usage?: unknown;
    }[];
    expect(out.at(-1)).toBe("[DONE]");
    expect(out.slice(0, -1).map((c) => c.choices[0]?.delta ?? c.usage)).toEqual([
      { role: "assistant", content: "" },
      { content: "Four" },
      { content: " grams" },
      {},
      { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    ]);
    expect(out[3]).toMatchObject({ choices: [{ finish_reason: "stop" }] });
  });

  it("answers a binding failure as an OpenAI-style error", async () => {
    const down = await callWorkersAi(
      standIn(new Error("AiError: capacity")).ai,
      { model: "m", messages: [] },
      new AbortController().signal,
    );
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({
      error: { message: "Workers AI: AiError: capacity", type: "server_error" },
    });
    const bad = await callWorkersAi(
      standIn(new Error("400: invalid input")).ai,
      { model: "m", messages: [] },
      new AbortController().signal,
    );
    expect(bad.status).toBe(400);
  });
});
