import { describe, expect, it } from "vitest";
import {
  CACHE_POLICIES,
  canonicalJson,
  isDeterministic,
  isReplayableCompletion,
  isReplayableResponse,
  requestHash,
} from "../../../../central/gateway/cache/cache-key";

describe("response cache key", () => {
  it("caches only requests that ask for no randomness", () => {
    expect(isDeterministic({ temperature: 0 })).toBe(true);
    expect(isDeterministic({ temperature: 0, n: 1 })).toBe(true);
    expect(isDeterministic({ temperature: 0, n: 2 })).toBe(false);
    expect(isDeterministic({})).toBe(false);
    expect(isDeterministic({ temperature: 0.2 })).toBe(false);
    // A completion its caller asks OpenAI to store is the caller's own to store.
    expect(isReplayableCompletion({ temperature: 0, store: false })).toBe(true);
    expect(isReplayableCompletion({ temperature: 0, store: true })).toBe(false);
  });

  it("replays a Responses answer only when the request is deterministic and keeps nothing at the provider", () => {
    const stateless = { temperature: 0, store: false, input: "hi" };
    expect(isReplayableResponse(stateless)).toBe(true);
    // OpenAI stores a response unless told not to, and a later call may chain to its id.
    expect(isReplayableResponse({ temperature: 0, input: "hi" })).toBe(false);
    expect(isReplayableResponse({ ...stateless, store: true })).toBe(false);
    expect(isReplayableResponse({ ...stateless, temperature: 1 })).toBe(false);
    expect(isReplayableResponse({ ...stateless, previous_response_id: "resp_1" })).toBe(false);
    expect(isReplayableResponse({ ...stateless, conversation: "conv_1" })).toBe(false);
    expect(isReplayableResponse({ ...stateless, prompt: { id: "pmpt_1" } })).toBe(false);
    expect(isReplayableResponse({ ...stateless, previous_response_id: null })).toBe(true);
    // Items kept at OpenAI, and tools it runs itself (live search results, files, remote MCP).
    expect(
      isReplayableResponse({ ...stateless, input: [{ type: "item_reference", id: "msg_1" }] }),
    ).toBe(false);
    for (const tool of [{ type: "web_search" }, { type: "file_search" }, { type: "mcp" }])
      expect(isReplayableResponse({ ...stateless, tools: [tool] }), tool.type).toBe(false);
    expect(
      isReplayableResponse({
        ...stateless,
        tools: [
          { type: "function", name: "lab_get_sample" },
          { type: "custom", name: "apply_patch" },
          { type: "local_shell" },
          { type: "apply_patch" },
        ],
      }),
    ).toBe(true);
  });

  it("keeps in a Responses key what a response object repeats to its caller", async () => {
    const base = { model: "auto", temperature: 0, store: false, input: "hi" };
    const h = await requestHash("responses", CACHE_POLICIES.responses, false, base);
    for (const field of ["metadata", "user", "safety_identifier", "prompt_cache_key"])
      expect(
        await requestHash("responses", CACHE_POLICIES.responses, false, {
          ...base,
          [field]: field === "metadata" ? { app: "a" } : "someone",
        }),
        field,
      ).not.toBe(h);
    expect(
      await requestHash("responses", CACHE_POLICIES.responses, false, {
        ...base,
        stream_options: { include_obfuscation: false },
      }),
    ).toBe(h);
  });

  it("normalises: key order and delivery-only fields do not change the hash; content, endpoint and streaming do", async () => {
    const base = { model: "auto", temperature: 0, messages: [{ role: "user", content: "hi" }] };
    const h = await requestHash("chat", CACHE_POLICIES.chat, false, base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(
      await requestHash("chat", CACHE_POLICIES.chat, false, {
        messages: [{ content: "hi", role: "user" }],
        user: "someone",
        stream: false,
        stream_options: { include_usage: true },
        metadata: { a: 1 },
        temperature: 0,
        model: "auto",
      }),
    ).toBe(h);
    const streamed = await requestHash("chat", CACHE_POLICIES.chat, true, base);
    expect(streamed).not.toBe(h);
    // A stream ends with a usage chunk only for a caller who asked for one.
    const usage = (include_usage: boolean) =>
      requestHash("chat", CACHE_POLICIES.chat, true, {
        ...base,
        stream_options: { include_usage },
      });
    expect(await usage(true)).not.toBe(streamed);
    expect(await usage(false)).toBe(streamed);
    expect(await requestHash("messages", CACHE_POLICIES.messages, false, base)).not.toBe(h);
    // Anthropic's beta features may change the answer.
    const messages = await requestHash("messages", CACHE_POLICIES.messages, false, base);
    expect(
      await requestHash("messages", CACHE_POLICIES.messages, false, base, "context-1m-2025-08-07"),
    ).not.toBe(messages);
    // The same fields sent to another endpoint of the same dialect ask something else.
    expect(await requestHash("responses", CACHE_POLICIES.responses, false, base)).not.toBe(h);
    expect(
      await requestHash("chat", CACHE_POLICIES.chat, false, {
        ...base,
        messages: [{ role: "user", content: "hi!" }],
      }),
    ).not.toBe(h);
    expect(
      await requestHash("chat", CACHE_POLICIES.chat, false, { ...base, model: "fast" }),
    ).not.toBe(h);
  });

  it("writes canonical JSON", () => {
    expect(canonicalJson({ b: [1, { d: 1, c: null }], a: "x", u: undefined })).toBe(
      '{"a":"x","b":[1,{"c":null,"d":1}]}',
    );
  });
});
