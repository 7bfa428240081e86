import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEADERS } from "../../../contract";
import type { CentralDev } from "../../helpers/central-dev";
import type { FakeUpstream } from "./fake-upstreams";
import {
  gatewayTenant,
  modelCalls,
  post,
  readEvents,
  SECRETS,
  startGatewayWithFakes,
} from "./gateway-dev";

/**
 * The official `openai` and `@anthropic-ai/sdk` clients, unchanged, drive the gateway in the
 * real Worker under wrangler dev, against local fake providers: both dialects, to a provider of
 * the same dialect and across, streamed and not, with tools; with their own retries, which the
 * gateway's answers must steer (a spent budget is not retried, a failed provider is); and the
 * endpoints users' tools call besides chat: `/v1/responses` (Codex), `/v1/messages/count_tokens`
 * (Claude Code) and `/v1/embeddings`, each admitted, limited, priced and logged like a chat call;
 * an unknown model path is a 404 in the caller's dialect.
 */

let central: CentralDev;
let openaiUpstream: FakeUpstream;
let anthropicUpstream: FakeUpstream;
let admin: string;

const TOOL = { id: "call_S1", name: "lab_get_sample", arguments: '{"id":"S-1"}' };
const PARAMETERS = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
const CACHE = { type: "ephemeral" };

const config = (extra: Record<string, unknown> = {}) => ({
  providers: [
    {
      id: "oa",
      kind: "openai",
      base_url: `${openaiUpstream.url}/v1`,
      key: { secret: "FAKE_OPENAI_KEY" },
      models: ["gpt-4.1-mini", "gpt-5", "text-embedding-3-small"],
    },
    {
      // Azure OpenAI's layout: /openai/v1 and the key in `api-key`.
      id: "az",
      kind: "openai-compatible",
      base_url: `${openaiUpstream.url}/openai/v1`,
      key: { secret: "FAKE_OPENAI_KEY" },
      key_header: "api-key",
      models: ["gpt-4o"],
    },
    {
      id: "an",
      kind: "anthropic",
      base_url: anthropicUpstream.url,
      key: { secret: "FAKE_ANTHROPIC_KEY" },
      models: ["claude-sonnet-4-5"],
    },
  ],
  aliases: {
    gpt: { candidates: ["oa/gpt-4.1-mini"] },
    claude: { candidates: ["an/claude-sonnet-4-5"] },
    // A Responses chain that mixes dialects: Anthropic first (translated), then OpenAI.
    codex: { candidates: ["an/claude-sonnet-4-5", "oa/gpt-5"] },
    gpt5: { candidates: ["oa/gpt-5"] },
    embed: { candidates: ["oa/text-embedding-3-small"] },
  },
  // USD per million tokens.
  prices: {
    version: "2026-12",
    models: {
      "gpt-4.1-mini": { input: 2, output: 8 },
      "gpt-5": { input: 2, output: 8 },
      "text-embedding-3-small": { input: 0.02, output: 0 },
      "claude-sonnet-4-5": {
        input: 3,
        output: 15,
        cache_read: 0.3,
        cache_write: 3.75,
        context_window: 200_000,
        max_output_tokens: 64_000,
      },
    },
  },
  resilience: { max_retries: 0 },
  ...extra,
});

/** A fetch that counts the requests an SDK makes (its retries included). */
function counting(): { fetch: typeof fetch; count: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n += 1;
      return fetch(input, init);
    },
    count: () => n,
  };
}

const openaiClient = (key: string, f: typeof fetch = fetch) =>
  new OpenAI({ apiKey: key, baseURL: `${central.url}/v1`, maxRetries: 2, fetch: f });
const anthropicClient = (key: string, f: typeof fetch = fetch) =>
  new Anthropic({ apiKey: key, baseURL: central.url, maxRetries: 2, fetch: f });

let stop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const started = await startGatewayWithFakes();
  ({ central, stop } = started);
  openaiUpstream = started.openai;
  anthropicUpstream = started.anthropic;
  ({ admin } = await gatewayTenant(central, config()));
}, 180_000);

afterAll(() => stop?.());

describe("the official openai client", () => {
  it("calls an OpenAI provider with function and custom tools, allowed_tools, reasoning effort and a json_schema format", async () => {
    openaiUpstream.script({ kind: "answer", toolCalls: [TOOL] });
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      { type: "function", function: { name: TOOL.name, parameters: PARAMETERS } },
      { type: "custom", custom: { name: "apply_patch", format: { type: "text" } } },
    ];
    const toolChoice: OpenAI.Chat.ChatCompletionToolChoiceOption = {
      type: "allowed_tools",
      allowed_tools: { mode: "auto", tools: [{ type: "function", function: { name: TOOL.name } }] },
    };
    const format: OpenAI.ResponseFormatJSONSchema = {
      type: "json_schema",
      json_schema: { name: "sample", schema: { type: "object" }, strict: true },
    };
    const completion = await openaiClient(admin).chat.completions.create({
      model: "gpt",
      messages: [{ role: "user", content: "Mass of S-1?" }],
      tools,
      tool_choice: toolChoice,
      reasoning_effort: "low",
      response_format: format,
    });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call.type === "function" && call.function).toEqual({
      name: TOOL.name,
      arguments: TOOL.arguments,
    });
    expect(openaiUpstream.calls.at(-1)!.body).toMatchObject({
      model: "gpt-4.1-mini",
      tools,
      tool_choice: toolChoice,
      reasoning_effort: "low",
      response_format: format,
    });
  });

  it("streams a tool call from an Anthropic provider, its prompt caching and effort kept", async () => {
    anthropicUpstream.script({
      kind: "answer",
      toolCalls: [TOOL],
      usage: { input: 4_000, output: 9, cacheRead: 3_900 },
    });
    const stream = await openaiClient(admin).chat.completions.create({
      model: "claude",
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: "high",
      max_completion_tokens: 20_000,
      messages: [
        {
          role: "system",
          // cache_control is Anthropic's; OpenAI-dialect callers (the edge) mark parts with it.
          content: [{ type: "text", text: "You run the lab.", cache_control: CACHE } as never],
        },
        { role: "user", content: "Mass of S-1?" },
      ],
      tools: [{ type: "function", function: { name: TOOL.name, parameters: PARAMETERS } }],
    });
    let args = "";
    let name = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += call.function?.name ?? "";
        args += call.function?.arguments ?? "";
      }
      usage ??= chunk.usage;
    }
    expect({ name, args }).toEqual({ name: TOOL.name, args: TOOL.arguments });
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(3_900);
    expect(anthropicUpstream.calls.at(-1)!.body).toMatchObject({
      system: [{ type: "text", text: "You run the lab.", cache_control: CACHE }],
      thinking: { type: "enabled", budget_tokens: 16_384 },
      tools: [{ name: TOOL.name, input_schema: PARAMETERS }],
    });
  });

  it("gets an Anthropic provider's answer as a chat completion", async () => {
    anthropicUpstream.script({ kind: "answer", text: "4.2 g" });
    const completion = await openaiClient(admin).chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Mass of S-1?" }],
    });
    expect(completion.choices[0]!.message.content).toBe("4.2 g");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
  });
});

describe("the official @anthropic-ai/sdk client", () => {
  it("calls an Anthropic provider with tools, unchanged", async () => {
    anthropicUpstream.script({ kind: "answer", text: "Looking.", toolCalls: [TOOL] });
    const message = await anthropicClient(admin).messages.create({
      model: "claude",
      max_tokens: 300,
      system: [{ type: "text", text: "You run the lab.", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: "Mass of S-1?" }],
      tools: [{ name: TOOL.name, input_schema: { type: "object", properties: {} } }],
    });
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content.find((b) => b.type === "tool_use")).toMatchObject({
      name: TOOL.name,
      input: { id: "S-1" },
    });
    expect(anthropicUpstream.calls.at(-1)!.body.system).toEqual([
      { type: "text", text: "You run the lab.", cache_control: { type: "ephemeral" } },
    ]);
  });

  it("calls an OpenAI provider, translated, and streams its tool call back as Messages events", async () => {
    openaiUpstream.script({ kind: "answer", text: "Looking.", toolCalls: [TOOL] });
    const stream = anthropicClient(admin).messages.stream({
      model: "gpt",
      max_tokens: 300,
      messages: [{ role: "user", content: "Mass of S-1?" }],
      tools: [{ name: TOOL.name, input_schema: { type: "object", properties: {} } }],
      output_config: { effort: "medium" },
    });
    const message = await stream.finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(["text", "tool_use"]);
    expect(message.content[1]).toMatchObject({ name: TOOL.name, input: { id: "S-1" } });
    expect(message.stop_reason).toBe("tool_use");
    expect(openaiUpstream.calls.at(-1)!.body).toMatchObject({
      reasoning_effort: "medium",
      tools: [{ type: "function", function: { name: TOOL.name } }],
    });
  });
});

describe("the clients' own retries", () => {
  it("do not retry a spent budget (x-should-retry: false), in either dialect", async () => {
    const { admin: broke } = await gatewayTenant(
      central,
      config({
        budgets: { tenant: { usd: 0.000001, period: "day" } },
      }),
    );
    const before = openaiUpstream.calls.length + anthropicUpstream.calls.length;
    const viaOpenAi = counting();
    const refused = await openaiClient(broke, viaOpenAi.fetch)
      .chat.completions.create({ model: "gpt", messages: [{ role: "user", content: "hi" }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("budget_exceeded");
    expect(viaOpenAi.count()).toBe(1);
    const viaAnthropic = counting();
    const refusedToo = await anthropicClient(broke, viaAnthropic.fetch)
      .messages.create({
        model: "claude",
        max_tokens: 100,
        messages: [{ role: "user", content: "hi" }],
      })
      .catch((error: unknown) => error);
    expect(refusedToo).toBeInstanceOf(Anthropic.RateLimitError);
    expect(viaAnthropic.count()).toBe(1);
    expect(openaiUpstream.calls.length + anthropicUpstream.calls.length).toBe(before);
  });

  it("retry a call every provider failed, and the retry succeeds", async () => {
    openaiUpstream.script({ kind: "status", status: 500 });
    const viaOpenAi = counting();
    const completion = await openaiClient(admin, viaOpenAi.fetch).chat.completions.create({
      model: "gpt",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]!.message.content).toBe("Hello from the fake provider.");
    expect(viaOpenAi.count()).toBe(2);

    anthropicUpstream.script({ kind: "status", status: 529 });
    const viaAnthropic = counting();
    const message = await anthropicClient(admin, viaAnthropic.fetch).messages.create({
      model: "claude",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.content[0]).toMatchObject({ type: "text" });
    expect(viaAnthropic.count()).toBe(2);
  });
});

/** The model_call event of a call, by the id the gateway answered with. */
async function callEvent(callId: string | null, key = admin) {
  expect(callId).toBeTruthy();
  for (let i = 0; i < 100; i++) {
    const found = (await modelCalls(central, key, 0)).find((e) => e.payload.call_id === callId);
    if (found) return found.payload;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no model_call event for ${callId}`);
}

/** A fetch that keeps the call id of the gateway's last answer (stream helpers hide the response). */
function callIds(): { fetch: typeof fetch; last: () => string | null } {
  let last: string | null = null;
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      last = response.headers.get(HEADERS.callId);
      return response;
    },
    last: () => last,
  };
}

const RESPONSES_TOOLS: OpenAI.Responses.FunctionTool[] = [
  { type: "function", name: TOOL.name, parameters: PARAMETERS, strict: true },
];

/** Claude's price in the config above, per token: input, cache read, cache write, output. */
const claudeCost = (u: { input: number; cacheRead: number; cacheWrite: number; output: number }) =>
  ((u.input - u.cacheRead - u.cacheWrite) * 3 +
    u.cacheRead * 0.3 +
    u.cacheWrite * 3.75 +
    u.output * 15) /
  1e6;

describe("/v1/responses", () => {
  it("answers the openai client from an Anthropic provider, translated, through a function tool round trip, priced and logged", async () => {
    const usage = { input: 10_000, output: 800, cacheRead: 6_000, cacheWrite: 2_000 };
    anthropicUpstream.script(
      { kind: "answer", toolCalls: [TOOL], usage },
      { kind: "answer", text: "S-1 weighs 4.2 g." },
    );
    const client = openaiClient(admin);
    const { data: first, response } = await client.responses
      .create({
        model: "claude",
        instructions: "You run the lab.",
        input: "Mass of S-1?",
        tools: RESPONSES_TOOLS,
        tool_choice: "auto",
        max_output_tokens: 1_000,
        temperature: 0.2,
        store: false,
      })
      .withResponse();
    expect(first).toMatchObject({
      object: "response",
      status: "completed",
      model: "claude-sonnet-4-5",
      instructions: "You run the lab.",
      usage: {
        input_tokens: 10_000,
        input_tokens_details: { cached_tokens: 6_000 },
        output_tokens: 800,
        total_tokens: 10_800,
      },
    });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({ call_id: TOOL.id, name: TOOL.name, arguments: TOOL.arguments });
    const sent = anthropicUpstream.calls.at(-1)!;
    expect(sent.path).toBe("/v1/messages");
    expect(sent.body).toEqual({
      model: "claude-sonnet-4-5",
      system: [{ type: "text", text: "You run the lab." }],
      // A cache point on the last block: the next turn reads this one from Anthropic's cache.
      messages: [
        { role: "user", content: [{ type: "text", text: "Mass of S-1?", cache_control: CACHE }] },
      ],
      max_tokens: 1_000,
      temperature: 0.2,
      tools: [{ name: TOOL.name, input_schema: PARAMETERS }],
      tool_choice: { type: "auto" },
    });
    const event = await callEvent(response.headers.get(HEADERS.callId));
    expect(event).toMatchObject({
      operation: "chat",
      provider: "an",
      request_model: "claude-sonnet-4-5",
      input_tokens: 10_000,
      output_tokens: 800,
      stream: false,
      finish_reasons: ["tool_use"],
    });
    expect(event.cost_usd).toBeCloseTo(claudeCost(usage), 12);

    // The client sends the conversation back with the tool's output, as Codex does.
    const second = await client.responses.create({
      model: "claude",
      instructions: "You run the lab.",
      input: [
        { role: "user", content: "Mass of S-1?" },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: "function_call_output", call_id: TOOL.id, output: '{"mass_g":4.2}' },
      ],
      tools: RESPONSES_TOOLS,
    });
    expect(second.output_text).toBe("S-1 weighs 4.2 g.");
    expect(anthropicUpstream.calls.at(-1)!.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Mass of S-1?" }] },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: TOOL.id, name: TOOL.name, input: { id: "S-1" } }],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: TOOL.id,
            content: '{"mass_g":4.2}',
            cache_control: CACHE,
          },
        ],
      },
    ]);
  });

  it("streams an Anthropic provider's answer as numbered Responses events the client's stream helper assembles", async () => {
    anthropicUpstream.script({
      kind: "answer",
      text: "Looking.",
      toolCalls: [TOOL],
      usage: { input: 500, output: 9, cacheRead: 300 },
      eventDelayMs: 5,
    });
    const ids = callIds();
    const stream = openaiClient(admin, ids.fetch).responses.stream({
      model: "claude",
      input: [{ role: "user", content: [{ type: "input_text", text: "Mass of S-1?" }] }],
      tools: RESPONSES_TOOLS,
      reasoning: { effort: "low" },
      max_output_tokens: 4_000,
    });
    const types: string[] = [];
    const numbers: number[] = [];
    let text = "";
    let args = "";
    for await (const event of stream) {
      types.push(event.type);
      numbers.push(event.sequence_number);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.function_call_arguments.delta") args += event.delta;
    }
    const final = await stream.finalResponse();
    expect(numbers).toEqual(numbers.map((_, i) => i));
    expect(types.slice(0, 3)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
    ]);
    expect(types.at(-1)).toBe("response.completed");
    expect({ text, args }).toEqual({ text: "Looking.", args: TOOL.arguments });
    expect(final.output_text).toBe("Looking.");
    expect(final.output.map((item) => item.type)).toEqual(["message", "function_call"]);
    expect(final.output[1]).toMatchObject({ call_id: TOOL.id, arguments: TOOL.arguments });
    expect(final.usage).toMatchObject({
      input_tokens: 500,
      input_tokens_details: { cached_tokens: 300 },
      output_tokens: 9,
    });
    expect(anthropicUpstream.calls.at(-1)!.body).toMatchObject({
      stream: true,
      max_tokens: 4_000,
      thinking: { type: "enabled", budget_tokens: 2_048 },
    });
    const event = await callEvent(ids.last());
    expect(event).toMatchObject({
      provider: "an",
      stream: true,
      input_tokens: 500,
      output_tokens: 9,
      finish_reasons: ["tool_use"],
    });
    expect(event.ttft_ms).not.toBeNull();
    expect(event.cost_usd).toBeCloseTo(
      claudeCost({ input: 500, cacheRead: 300, cacheWrite: 0, output: 9 }),
      12,
    );
  });

  it("ends a translated stream that breaks mid-answer with an error event, which the client raises", async () => {
    // Sent: message_start, the text block's start, a ping and two deltas; then an error event.
    anthropicUpstream.script({ kind: "answer", text: "Looking it up now.", errorAfterEvents: 5 });
    const ids = callIds();
    const stream = openaiClient(admin, ids.fetch).responses.stream(
      { model: "claude", input: "Mass of S-1?" },
      { maxRetries: 0 },
    );
    let text = "";
    const failed = await (async () => {
      for await (const event of stream)
        if (event.type === "response.output_text.delta") text += event.delta;
    })().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect(String((failed as Error).message)).toContain("scripted overload");
    expect(text).toBe("Looking ");
    const event = await callEvent(ids.last());
    expect(event).toMatchObject({ error_type: "upstream_error", stream: true });
  });

  it("says a response cut at max_output_tokens is incomplete", async () => {
    anthropicUpstream.script({ kind: "answer", text: "S-1 wei", stopReason: "max_tokens" });
    const cut = await openaiClient(admin).responses.create({
      model: "claude",
      input: "Mass of S-1?",
      max_output_tokens: 16,
    });
    expect(cut).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output: [{ type: "message", status: "incomplete" }],
    });
    expect(cut.output_text).toBe("S-1 wei");
    expect(anthropicUpstream.calls.at(-1)!.body.max_tokens).toBe(16);
  });

  it("falls back from a failing Anthropic provider to an OpenAI one, which gets the request unchanged, streamed or not", async () => {
    anthropicUpstream.script({ kind: "status", status: 500 });
    openaiUpstream.script({
      kind: "answer",
      text: "From OpenAI.",
      usage: { input: 30, output: 8 },
    });
    const { data, response } = await openaiClient(admin)
      .responses.create({ model: "codex", input: "Mass of S-1?", max_output_tokens: 300 })
      .withResponse();
    expect(data.output_text).toBe("From OpenAI.");
    expect(openaiUpstream.calls.at(-1)).toMatchObject({
      path: "/v1/responses",
      body: { model: "gpt-5", input: "Mass of S-1?", max_output_tokens: 300 },
    });
    const event = await callEvent(response.headers.get(HEADERS.callId));
    expect(event).toMatchObject({ provider: "oa", input_tokens: 30, output_tokens: 8 });
    expect(event.cost_usd).toBeCloseTo(30 * 2e-6 + 8 * 8e-6, 12);
    expect(event.attempts?.map((a) => [a.provider, a.outcome])).toEqual([
      ["an", "error"],
      ["oa", "ok"],
    ]);

    anthropicUpstream.script({ kind: "status", status: 500 });
    openaiUpstream.script({ kind: "answer", text: "4.2 g" });
    const stream = openaiClient(admin).responses.stream({ model: "codex", input: "Mass of S-1?" });
    expect((await stream.finalResponse()).output_text).toBe("4.2 g");
  });

  it("streams an OpenAI provider's Responses events byte for byte", async () => {
    openaiUpstream.script({
      kind: "answer",
      text: "Looking.",
      toolCalls: [TOOL],
      eventDelayMs: 20,
    });
    const response = await post(central, "/v1/responses", admin, {
      model: "gpt5",
      input: "Mass of S-1?",
      stream: true,
      tools: [{ type: "function", name: TOOL.name, parameters: { type: "object" } }],
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readEvents(response);
    expect(events.map((e) => e.raw)).toEqual(openaiUpstream.sent.at(-1));
    const event = await callEvent(response.headers.get(HEADERS.callId));
    expect(event).toMatchObject({ stream: true, input_tokens: 12, output_tokens: 5 });
    expect(event.finish_reasons).toEqual(["completed"]);
    expect(event.ttft_ms).not.toBeNull();
  });

  it("passes what only OpenAI keeps to an OpenAI provider unchanged, skipping an Anthropic one", async () => {
    openaiUpstream.script({ kind: "answer", text: "S-1 weighs 4.2 g." });
    const { data, response } = await openaiClient(admin)
      .responses.create({
        model: "codex",
        input: "And S-2?",
        previous_response_id: "resp_earlier",
        store: true,
        tools: [{ type: "web_search" }],
      })
      .withResponse();
    expect(data.output_text).toBe("S-1 weighs 4.2 g.");
    expect(openaiUpstream.calls.at(-1)!.body).toMatchObject({
      model: "gpt-5",
      previous_response_id: "resp_earlier",
      store: true,
      tools: [{ type: "web_search" }],
    });
    const event = await callEvent(response.headers.get(HEADERS.callId));
    expect(event.attempts?.map((a) => a.outcome)).toEqual(["skipped", "ok"]);
  });

  it("refuses, in OpenAI's dialect and naming the field, what an Anthropic-only route cannot do", async () => {
    const before = anthropicUpstream.calls.length;
    const refusals: [string, Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming>][] = [
      ["previous_response_id", { previous_response_id: "resp_earlier" }],
      ["store", { store: true }],
      ["tools[0]", { tools: [{ type: "web_search" }] }],
      [
        "tools[1]",
        { tools: [...RESPONSES_TOOLS, { type: "file_search", vector_store_ids: ["vs_1"] }] },
      ],
    ];
    for (const [param, extra] of refusals) {
      const refused = await openaiClient(admin)
        .responses.create({ model: "claude", input: "hi", ...extra })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      const error = refused as InstanceType<typeof OpenAI.BadRequestError>;
      expect({ code: error.code, param: error.param }).toEqual({
        code: "unsupported_request",
        param,
      });
      expect(error.message).toContain(param);
    }
    expect(anthropicUpstream.calls.length).toBe(before);
  });

  it("charges a translated call's real cost, cache writes included, to the budget", async () => {
    const usage = { input: 10_000, output: 800, cacheRead: 6_000, cacheWrite: 2_000 };
    // Room for the first call (reserved at ~$0.016) and $0.001 more once it costs what it did.
    const { admin: funded } = await gatewayTenant(
      central,
      config({ budgets: { tenant: { usd: claudeCost(usage) + 0.001, period: "day" } } }),
    );
    anthropicUpstream.script({ kind: "answer", text: "4.2 g", usage });
    const { response } = await openaiClient(funded)
      .responses.create({ model: "claude", input: "Mass of S-1?", max_output_tokens: 1_000 })
      .withResponse();
    const event = await callEvent(response.headers.get(HEADERS.callId), funded);
    expect(event.cost_usd).toBeCloseTo(claudeCost(usage), 12);
    const before = anthropicUpstream.calls.length;
    // Reserved at ~$0.005: more than is left, far less than the budget had the call been free.
    const refused = await openaiClient(funded)
      .responses.create({ model: "claude", input: "And S-2?", max_output_tokens: 300 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("budget_exceeded");
    expect(anthropicUpstream.calls.length).toBe(before);
  });
});

describe("/v1/embeddings", () => {
  it("embeds through an OpenAI provider: priced at its input price, logged as embeddings", async () => {
    openaiUpstream.script({ kind: "answer", usage: { input: 7, output: 0 } });
    const { data, response } = await openaiClient(admin)
      .embeddings.create({ model: "embed", input: ["sample S-1", "sample S-2"] })
      .withResponse();
    expect(data.data[0]!.embedding).toEqual([0.25, -0.5, 0.125]);
    expect(openaiUpstream.calls.at(-1)!.body).toEqual({
      model: "text-embedding-3-small",
      input: ["sample S-1", "sample S-2"],
      encoding_format: "base64",
    });
    const event = await callEvent(response.headers.get(HEADERS.callId));
    expect(event).toMatchObject({ operation: "embeddings", input_tokens: 7, output_tokens: 0 });
    expect(event.cost_usd).toBeCloseTo(7 * 0.02e-6, 14);
  });

  it("is held to the same rate limits as chat", async () => {
    const { admin: limited } = await gatewayTenant(
      central,
      config({ limits: { tenant: { requests_per_minute: 1 } } }),
    );
    await openaiClient(limited).embeddings.create({ model: "embed", input: "a" });
    const refused = await openaiClient(limited)
      .embeddings.create({ model: "embed", input: "b" }, { maxRetries: 0 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
  });
});

describe("the response cache", () => {
  const ask = { model: "claude", temperature: 0, store: false } as const;

  /** The same request twice, the second once the first has settled (and been stored, if it may). */
  async function askTwice(request: OpenAI.Responses.ResponseCreateParamsNonStreaming) {
    const client = openaiClient(admin);
    const first = await client.responses.create(request).withResponse();
    await callEvent(first.response.headers.get(HEADERS.callId));
    return [first, await client.responses.create(request).withResponse()] as const;
  }

  it("replays a deterministic, stateless Responses answer translated from Anthropic, as JSON and as the same stream", async () => {
    anthropicUpstream.script(
      { kind: "answer", text: "Cached: 4.2 g." },
      { kind: "answer", text: "Cached stream: 4.2 g." },
    );
    const client = openaiClient(admin);
    const first = await client.responses.create({ ...ask, input: "cache me" }).withResponse();
    expect(first.response.headers.get(HEADERS.cache)).toBe("miss");
    // Stored when the call settles, with its model_call event.
    await callEvent(first.response.headers.get(HEADERS.callId));
    const streamed = () =>
      post(central, "/v1/responses", admin, { ...ask, input: "cache me", stream: true });
    const original = await streamed();
    expect(original.headers.get(HEADERS.cache)).toBe("miss");
    const originalEvents = (await readEvents(original)).map((e) => e.raw);
    await callEvent(original.headers.get(HEADERS.callId));
    const calls = anthropicUpstream.calls.length;

    const again = await client.responses.create({ ...ask, input: "cache me" }).withResponse();
    expect(again.response.headers.get(HEADERS.cache)).toBe("hit");
    expect(again.data).toEqual(first.data);
    expect(again.data.output_text).toBe("Cached: 4.2 g.");
    const replayed = await streamed();
    expect(replayed.headers.get(HEADERS.cache)).toBe("hit");
    expect((await readEvents(replayed)).map((e) => e.raw)).toEqual(originalEvents);
    expect(anthropicUpstream.calls.length).toBe(calls);
    expect(await callEvent(again.response.headers.get(HEADERS.callId))).toMatchObject({
      cache_hit: true,
      cost_usd: 0,
      attempts: [],
    });
  });

  it("never replays a Responses answer the provider may keep (no `store: false`)", async () => {
    openaiUpstream.script(
      { kind: "answer", text: "stored once" },
      { kind: "answer", text: "stored twice" },
    );
    const [first, second] = await askTwice({ model: "gpt5", temperature: 0, input: "keep me" });
    expect(first.response.headers.get(HEADERS.cache)).toBe("skip");
    expect(second.response.headers.get(HEADERS.cache)).toBe("skip");
    expect(second.data.output_text).toBe("stored twice");
  });

  it("stores only the route's first candidate's answer: a fallback's is not replayed", async () => {
    anthropicUpstream.script({ kind: "status", status: 500 }, { kind: "status", status: 500 });
    openaiUpstream.script(
      { kind: "answer", text: "from the fallback" },
      { kind: "answer", text: "from the fallback again" },
    );
    const [first, second] = await askTwice({
      model: "codex",
      temperature: 0,
      store: false,
      input: "fall back",
    });
    expect(first.data.output_text).toBe("from the fallback");
    expect(first.response.headers.get(HEADERS.cache)).toBe("miss");
    expect(second.response.headers.get(HEADERS.cache)).toBe("miss");
    expect(second.data.output_text).toBe("from the fallback again");
  });

  it("leaves embeddings to leases unless the tenant asks for them to be cached", async () => {
    // A tenant of its own: no settlement of another test's calls moves its epoch mid-test.
    const { admin: plain } = await gatewayTenant(central, config());
    openaiUpstream.script(
      { kind: "answer", usage: { input: 3, output: 0 } },
      { kind: "answer", usage: { input: 3, output: 0 } },
    );
    const calls = openaiUpstream.calls.length;
    const admissions: (string | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const { response } = await openaiClient(plain)
        .embeddings.create({ model: "embed", input: ["not cached"] })
        .withResponse();
      expect(response.headers.get(HEADERS.cache)).toBe("skip");
      admissions.push(response.headers.get(HEADERS.admission));
    }
    expect(openaiUpstream.calls.length).toBe(calls + 2);
    // The first call's admission granted a lease, which admitted the second in the Worker.
    expect(admissions).toEqual(["tenant", "lease"]);
  });

  it("replays embeddings of the same input without calling the provider when the tenant caches them", async () => {
    const { admin: caching } = await gatewayTenant(
      central,
      config({ cache: { embeddings: true } }),
    );
    openaiUpstream.script({ kind: "answer", usage: { input: 3, output: 0 } });
    const client = openaiClient(caching);
    const first = await client.embeddings
      .create({ model: "embed", input: ["cached sample"] })
      .withResponse();
    expect(first.response.headers.get(HEADERS.cache)).toBe("miss");
    await callEvent(first.response.headers.get(HEADERS.callId), caching);
    const calls = openaiUpstream.calls.length;
    const again = await client.embeddings
      .create({ model: "embed", input: ["cached sample"] })
      .withResponse();
    expect(again.response.headers.get(HEADERS.cache)).toBe("hit");
    expect(again.data).toEqual(first.data);
    expect(openaiUpstream.calls.length).toBe(calls);
    expect(await callEvent(again.response.headers.get(HEADERS.callId), caching)).toMatchObject({
      operation: "embeddings",
      cache_hit: true,
      cost_usd: 0,
    });
    openaiUpstream.script({ kind: "answer", usage: { input: 3, output: 0 } });
    const other = await client.embeddings
      .create({ model: "embed", input: ["another sample"] })
      .withResponse();
    expect(other.response.headers.get(HEADERS.cache)).toBe("miss");
    expect(openaiUpstream.calls.length).toBe(calls + 1);
  });
});

describe("/v1/messages/count_tokens", () => {
  it("counts through an Anthropic provider for the anthropic client, costs nothing, and is logged", async () => {
    anthropicUpstream.script({ kind: "answer", usage: { input: 1_234, output: 0 } });
    const { data, response } = await anthropicClient(admin)
      .messages.countTokens({
        model: "claude",
        system: "You run the lab.",
        messages: [{ role: "user", content: "Mass of S-1?" }],
        tools: [{ name: TOOL.name, input_schema: { type: "object" } }],
      })
      .withResponse();
    expect(data.input_tokens).toBe(1_234);
    const upstream = anthropicUpstream.calls.at(-1)!;
    expect(upstream.path).toBe("/v1/messages/count_tokens");
    expect(upstream.body.model).toBe("claude-sonnet-4-5");
    expect(upstream.headers["anthropic-version"]).toBeTruthy();
    const event = await callEvent(response.headers.get(HEADERS.callId));
    expect(event).toMatchObject({
      operation: "count_tokens",
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
    });
  });
});

describe("unknown model paths", () => {
  it("answer 404 in the caller's dialect, which each client reports as not found", async () => {
    const viaOpenAi = await openaiClient(admin)
      .completions.create({ model: "codex", prompt: "hi" })
      .catch((error: unknown) => error);
    expect(viaOpenAi).toBeInstanceOf(OpenAI.NotFoundError);
    expect((viaOpenAi as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({
      type: "not_found_error",
      code: "unknown_url",
    });
    const viaAnthropic = await anthropicClient(admin)
      .messages.batches.list()
      .catch((error: unknown) => error);
    expect(viaAnthropic).toBeInstanceOf(Anthropic.NotFoundError);
    expect((viaAnthropic as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
      type: "error",
      error: { type: "not_found_error" },
    });
    const speech = await post(central, "/v1/audio/speech", admin, { input: "hi" });
    expect(speech.status).toBe(404);
    expect(((await speech.json()) as { error: { type: string } }).error.type).toBe(
      "not_found_error",
    );
  });
});

describe("the model list", () => {
  it("gives each client its own format, with the context windows and output limits the price table knows", async () => {
    const openaiModels = await openaiClient(admin).models.list();
    const claude = openaiModels.data.find((m) => m.id === "claude") as unknown as {
      context_window: number | null;
      max_output_tokens: number | null;
    };
    expect(claude).toMatchObject({ context_window: 200_000, max_output_tokens: 64_000 });
    const anthropicModels = await anthropicClient(admin).models.list();
    expect(anthropicModels.data.find((m) => m.id === "an/claude-sonnet-4-5")).toMatchObject({
      type: "model",
      max_input_tokens: 200_000,
      max_tokens: 64_000,
    });
    // An alias one of whose candidates has no known window promises none.
    expect(anthropicModels.data.find((m) => m.id === "codex")?.max_input_tokens).toBeNull();
  });
});

describe("Azure OpenAI", () => {
  it("gets the key in its api-key header, not as a bearer token", async () => {
    openaiUpstream.script({ kind: "answer", text: "from Azure" });
    const completion = await openaiClient(admin).chat.completions.create({
      model: "az/gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]!.message.content).toBe("from Azure");
    const call = openaiUpstream.calls.at(-1)!;
    expect(call.path).toBe("/openai/v1/chat/completions");
    expect(call.headers["api-key"]).toBe(SECRETS.FAKE_OPENAI_KEY);
    expect(call.headers.authorization).toBeUndefined();
  });
});
