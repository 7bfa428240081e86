import { describe, expect, it } from "vitest";
import {
  anthropicToOpenAiResponse,
  openAiToAnthropicResponse,
  toAnthropicStop,
  toOpenAiFinish,
} from "../../../../central/gateway/translate/responses";

describe("complete responses", () => {
  it("Anthropic message → OpenAI completion", () => {
    const { body, usage } = anthropicToOpenAiResponse(
      {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude",
        content: [
          { type: "text", text: "Looking." },
          { type: "tool_use", id: "toolu_1", name: "lab_get", input: { id: "S-1" } },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 7, cache_creation_input_tokens: 3 },
      },
      1_700_000_000_000,
    );
    expect(usage).toEqual({ input: 8, output: 7, cacheRead: 0, cacheWrite: 3 });
    expect(body).toEqual({
      id: "msg_1",
      object: "chat.completion",
      created: 1_700_000_000,
      model: "claude",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Looking.",
            refusal: null,
            tool_calls: [
              {
                id: "toolu_1",
                type: "function",
                function: { name: "lab_get", arguments: '{"id":"S-1"}' },
              },
            ],
          },
          logprobs: null,
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 8, completion_tokens: 7, total_tokens: 15 },
    });
  });

  it("OpenAI completion → Anthropic message", () => {
    const { body } = openAiToAnthropicResponse({
      id: "c1",
      object: "chat.completion",
      created: 1,
      model: "gpt",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Done.",
            refusal: null,
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } },
            ],
          },
          logprobs: null,
          finish_reason: "length",
        },
      ],
      usage: {
        prompt_tokens: 9,
        completion_tokens: 2,
        total_tokens: 11,
        prompt_tokens_details: { cached_tokens: 4 },
      },
    });
    expect(body).toEqual({
      id: "msg_c1",
      type: "message",
      role: "assistant",
      model: "gpt",
      content: [
        { type: "text", text: "Done." },
        { type: "tool_use", id: "call_1", name: "f", input: { a: 1 } },
      ],
      stop_reason: "max_tokens",
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 4 },
    });
  });

  it("maps a stop reason it does not know, Object members' names included, to the usual one", () => {
    for (const reason of ["made_up", "constructor", "__proto__", "valueOf"]) {
      expect(toOpenAiFinish(reason)).toBe("stop");
      expect(toAnthropicStop(reason)).toBe("end_turn");
    }
  });
});
