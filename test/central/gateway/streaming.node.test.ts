import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEADERS } from "../../../contract";
import type { CentralDev } from "../../helpers/central-dev";
import { type FakeUpstream, startFakeUpstream } from "./fake-upstreams";
import {
  gatewayTenant,
  modelCallOf,
  post,
  readEvents,
  SECRETS,
  startGatewayDev,
  waitForCalls,
} from "./gateway-dev";

/**
 * Streaming through the gateway under wrangler dev, against local fake providers: the client
 * receives the provider's chunks as they come (byte for byte in the same dialect, translated
 * across dialects, tool calls included), a cached deterministic answer is replayed as the same
 * stream, and a stream that breaks mid-answer ends with an error event, never silently.
 */

let central: CentralDev;
let openai: FakeUpstream;
let anthropic: FakeUpstream;
let admin: string;

const TOOL = {
  id: "call_S1",
  name: "lab_get_sample",
  arguments: '{"id":"S-1","fields":["mass_g","volume_ml"]}',
};

beforeAll(async () => {
  [central, openai, anthropic] = await Promise.all([
    startGatewayDev(),
    startFakeUpstream("openai"),
    startFakeUpstream("anthropic"),
  ]);
  ({ admin } = await gatewayTenant(central, {
    providers: [
      {
        id: "oa",
        kind: "openai",
        base_url: `${openai.url}/v1`,
        key: { secret: "FAKE_OPENAI_KEY" },
        models: ["gpt-4.1-mini"],
      },
      {
        id: "an",
        kind: "anthropic",
        base_url: anthropic.url,
        key: { secret: "FAKE_ANTHROPIC_KEY" },
        models: ["claude-sonnet-4-5"],
      },
    ],
    aliases: {
      auto: { candidates: ["oa/gpt-4.1-mini"] },
      claude: { candidates: ["an/claude-sonnet-4-5"] },
    },
    resilience: { idle_timeout_ms: 1_500 },
  }));
}, 180_000);

afterAll(async () => {
  await Promise.all([central?.stop(), openai?.close(), anthropic?.close()]);
});

const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  post(
    central,
    "/v1/chat/completions",
    admin,
    { messages: [{ role: "user", content: "Mass of S-1?" }], ...body },
    headers,
  );
const messages = (body: Record<string, unknown>) =>
  post(central, "/v1/messages", admin, {
    max_tokens: 200,
    messages: [{ role: "user", content: "Mass of S-1?" }],
    ...body,
  });

describe("streaming through the gateway", () => {
  it("forwards an OpenAI stream chunk by chunk, byte for byte, as the provider sends it", async () => {
    openai.script({ kind: "answer", text: "Sample S-1 weighs 4.2 grams.", eventDelayMs: 120 });
    const started = performance.now();
    const response = await chat({
      model: "auto",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(Number(response.headers.get(HEADERS.gatewayTime))).toBeGreaterThanOrEqual(0);
    expect(response.headers.get(HEADERS.provider)).toBe("oa");
    const events = await readEvents(response);
    expect(events.map((e) => e.raw)).toEqual(openai.sent.at(-1));
    // Relayed as they came: the first chunk reached the client long before the last was sent.
    expect(events[0]!.at - started).toBeLessThan(events.at(-1)!.at - started - 600);
    expect(openai.calls.at(-1)!.headers.authorization).toBe(`Bearer ${SECRETS.FAKE_OPENAI_KEY}`);
  });

  it("streams tool calls unchanged, and without the usage chunk when the client did not ask for it", async () => {
    openai.script({ kind: "answer", toolCalls: [TOOL] });
    const response = await chat({
      model: "auto",
      stream: true,
      tools: [{ type: "function", function: { name: TOOL.name } }],
    });
    const events = await readEvents(response);
    const sent = openai.sent.at(-1)!;
    expect(openai.calls.at(-1)!.body.stream_options).toEqual({ include_usage: true });
    expect(events.map((e) => e.raw)).toEqual(
      sent.filter((e) => !e.includes('"choices":[],"usage"')),
    );
    const args = events
      .filter((e) => e.data !== "[DONE]")
      .flatMap((e) => JSON.parse(e.data).choices[0]?.delta?.tool_calls ?? [])
      .map((c: { function?: { arguments?: string } }) => c.function?.arguments ?? "")
      .join("");
    expect(args).toBe(TOOL.arguments);
    const call = await modelCallOf(central, admin, response.headers.get(HEADERS.callId));
    expect(call.payload).toMatchObject({
      stream: true,
      input_tokens: 12,
      output_tokens: 5,
      finish_reasons: ["tool_calls"],
      error_type: null,
    });
  });

  it("forwards an Anthropic stream byte for byte to an Anthropic client", async () => {
    anthropic.script({ kind: "answer", text: "4.2 g.", toolCalls: [TOOL] });
    const response = await messages({ model: "claude", stream: true });
    const events = await readEvents(response);
    expect(events.map((e) => e.raw)).toEqual(anthropic.sent.at(-1));
    expect(anthropic.calls.at(-1)!.headers).toMatchObject({
      "x-api-key": SECRETS.FAKE_ANTHROPIC_KEY,
      "anthropic-version": "2023-06-01",
    });
  });

  it("translates an Anthropic provider's stream, tool call and usage included, for an OpenAI client", async () => {
    anthropic.script({
      kind: "answer",
      text: "Let me look.",
      toolCalls: [TOOL],
      usage: { input: 40, output: 18, cacheRead: 30 },
    });
    const events = await readEvents(
      await chat({ model: "claude", stream: true, stream_options: { include_usage: true } }),
    );
    expect(anthropic.calls.at(-1)!.body).toMatchObject({
      model: "claude-sonnet-4-5",
      stream: true,
      max_tokens: 4096,
    });
    const chunks = events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data));
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("Let me look.");
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls[0]).toMatchObject({
      index: 0,
      id: TOOL.id,
      type: "function",
      function: { name: TOOL.name },
    });
    expect(
      calls.map((c: { function: { arguments?: string } }) => c.function.arguments ?? "").join(""),
    ).toBe(TOOL.arguments);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe(
      "tool_calls",
    );
    expect(chunks.at(-1)!.usage).toEqual({
      prompt_tokens: 40,
      completion_tokens: 18,
      total_tokens: 58,
      prompt_tokens_details: { cached_tokens: 30 },
    });
  });

  it("translates an OpenAI provider's stream for an Anthropic client", async () => {
    openai.script({
      kind: "answer",
      text: "Four grams.",
      toolCalls: [TOOL],
      usage: { input: 9, output: 7 },
    });
    const events = await readEvents(await messages({ model: "auto", stream: true }));
    const parsed = events.map((e) => ({
      event: /^event: (\S+)/.exec(e.raw)?.[1],
      data: JSON.parse(e.data),
    }));
    expect(parsed.map((p) => p.event)).toEqual(parsed.map((p) => p.data.type));
    expect(parsed[0]!.data.type).toBe("message_start");
    expect(parsed.at(-1)!.data.type).toBe("message_stop");
    const text = parsed
      .filter((p) => p.data.delta?.type === "text_delta")
      .map((p) => p.data.delta.text)
      .join("");
    expect(text).toBe("Four grams.");
    const json = parsed
      .filter((p) => p.data.delta?.type === "input_json_delta")
      .map((p) => p.data.delta.partial_json)
      .join("");
    expect(JSON.parse(json)).toEqual(JSON.parse(TOOL.arguments));
    expect(parsed.find((p) => p.data.type === "message_delta")!.data).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: { input_tokens: 9, output_tokens: 7 },
    });
  });

  it("replays a cached deterministic answer as the same stream, without calling the provider", async () => {
    openai.script({ kind: "answer", text: "Deterministic answer." });
    const body = {
      model: "auto",
      stream: true,
      temperature: 0,
      messages: [{ role: "user", content: "cache me" }],
    };
    const first = await chat(body);
    expect(first.headers.get(HEADERS.cache)).toBe("miss");
    const original = (await readEvents(first)).map((e) => e.raw);
    // The answer is stored when the call settles, in the same step as its model_call event.
    await modelCallOf(central, admin, first.headers.get(HEADERS.callId));
    const calls = openai.calls.length;
    const again = await chat(body);
    expect(again.headers.get(HEADERS.cache)).toBe("hit");
    expect((await readEvents(again)).map((e) => e.raw)).toEqual(original);
    expect(openai.calls.length).toBe(calls);
    const hit = await modelCallOf(central, admin, again.headers.get(HEADERS.callId));
    expect(hit.payload).toMatchObject({
      cache_hit: true,
      cost_usd: 0,
      attempts: [],
      provider: "oa",
      stream: true,
    });
    const bypass = await chat(body, { [HEADERS.cache]: "no-cache" });
    expect(bypass.headers.get(HEADERS.cache)).toBe("bypass");
    await readEvents(bypass);
    expect(openai.calls.length).toBe(calls + 1);
    // The same question without streaming is a different answer form: not a hit.
    const json = await chat({ ...body, stream: false });
    expect(json.headers.get(HEADERS.cache)).toBe("miss");
    await json.text();
    // So is a stream that must end with a usage chunk, which the first caller did not ask for.
    const withUsage = await chat({ ...body, stream_options: { include_usage: true } });
    expect(withUsage.headers.get(HEADERS.cache)).toBe("miss");
    const last = JSON.parse((await readEvents(withUsage)).at(-2)!.data) as { usage?: unknown };
    expect(last.usage).toBeDefined();
  });

  it("ends a stream that drops mid-answer with an error event in the client's dialect", async () => {
    openai.script({
      kind: "answer",
      text: "This answer will be cut off in the middle.",
      dropAfterEvents: 4,
    });
    const events = await readEvents(await chat({ model: "auto", stream: true }));
    expect(events.slice(0, 4).map((e) => e.raw)).toEqual(openai.sent.at(-1)!.slice(0, 4));
    expect(events.at(-1)!.data).not.toBe("[DONE]");
    expect(JSON.parse(events.at(-1)!.data)).toEqual({
      error: {
        message: "the connection to the provider broke mid-answer; the answer is incomplete",
        type: "server_error",
        param: null,
        code: "upstream_stream_interrupted",
      },
    });
    anthropic.script({
      kind: "answer",
      text: "Also cut off, but politely, and only after a good many words.",
      truncateAfterEvents: 12,
    });
    const cut = await readEvents(await messages({ model: "claude", stream: true }));
    expect(cut.at(-1)!.raw).toMatch(/^event: error\n/);
    expect(JSON.parse(cut.at(-1)!.data)).toMatchObject({
      type: "error",
      error: { type: "api_error", code: "upstream_stream_truncated" },
    });
    const relayed = cut
      .map((e) => (JSON.parse(e.data) as { delta?: { text?: string } }).delta?.text ?? "")
      .join("");
    expect(relayed.length).toBeGreaterThan(20);
    const calls = await waitForCalls(central, admin, (calls) =>
      ["upstream_stream_interrupted", "upstream_stream_truncated"].every((t) =>
        calls.some((c) => c.payload.error_type === t),
      ),
    );
    // Anthropic's first event counts 1 output token; the answer broke off before the real
    // count, and what was generated is billed: settled at what the relayed text makes.
    expect(
      calls.find((c) => c.payload.error_type === "upstream_stream_truncated")!.payload,
    ).toMatchObject({ output_tokens: Math.ceil(relayed.length / 4), usage_estimated: true });
  });

  it("passes a provider's own error event through, and ends a stalled stream after the idle timeout", async () => {
    anthropic.script({ kind: "answer", text: "Half of it", errorAfterEvents: 4 });
    const events = await readEvents(await messages({ model: "claude", stream: true }));
    expect(events.map((e) => e.raw)).toEqual(anthropic.sent.at(-1));
    expect(events.at(-1)!.data).toMatch(/overloaded_error/);
    openai.script({ kind: "answer", text: "and then silence", stallAfterEvents: 3 });
    const started = performance.now();
    const stalled = await readEvents(await chat({ model: "auto", stream: true }));
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(JSON.parse(stalled.at(-1)!.data).error.code).toBe("upstream_idle_timeout");
  });
});
