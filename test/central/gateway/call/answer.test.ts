import { afterEach, describe, expect, it, vi } from "vitest";
import { inputTokenBound } from "../../../../central/gateway/call/estimate";
import { call, json, newKey, newTenant } from "../../support";
import { chat, modelCalls, sse, upstreamAnswers, within } from "./worker-calls";

/**
 * What a call is charged when its provider reports no usage, through the real Worker and tenant
 * object (workerd).
 */

const UPSTREAM = "http://lab.test:8000/v1";

afterEach(() => {
  vi.restoreAllMocks();
});

const completion = {
  id: "c",
  object: "chat.completion",
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "a cat" }, finish_reason: "stop" }],
};

const chunks = [
  {
    id: "c",
    object: "chat.completion.chunk",
    model: "m",
    choices: [{ index: 0, delta: { role: "assistant", content: "a cat" }, finish_reason: null }],
  },
  {
    id: "c",
    object: "chat.completion.chunk",
    model: "m",
    choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
  },
  "[DONE]",
];

describe("a call whose provider reports no usage", () => {
  it.each([
    { stream: false, answer: () => Response.json(completion) },
    { stream: true, answer: () => sse(chunks) },
  ])(
    "is charged no more input than admission bounded (stream: $stream), however large its inline image",
    async ({ stream, answer }) => {
      const { admin } = await newTenant("nousage");
      await json(
        await call("PUT", "/v1/gateway/config", {
          key: admin,
          body: {
            providers: [
              { id: "lab", kind: "openai-compatible", base_url: UPSTREAM, models: ["m"] },
            ],
            aliases: { auto: { candidates: ["lab/m"] } },
          },
        }),
        200,
      );
      const key = (await newKey(admin, "operator")).key;
      upstreamAnswers(UPSTREAM, answer);
      const request = {
        model: "auto",
        max_tokens: 100,
        stream,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what is this?" },
              {
                type: "image_url",
                image_url: { url: `data:image/png;base64,${"A".repeat(1024 * 1024)}` },
              },
            ],
          },
        ],
      };
      const { response, settled } = await chat(key, "/v1/chat/completions", request);
      const text = await response.text();
      expect(response.status, text).toBe(200);
      expect(text).toContain("a cat");
      await within(settled(), 15_000, "the call's settlement");

      const bound = inputTokenBound(
        new TextEncoder().encode(JSON.stringify(request)).byteLength,
        request,
      ).inputTokens;
      const [logged] = await modelCalls(admin);
      expect(logged).toMatchObject({ usage_estimated: true });
      expect(logged!.input_tokens).toBeGreaterThan(0);
      expect(logged!.input_tokens).toBeLessThanOrEqual(bound);
    },
  );
});
