import { describe, expect, it } from "vitest";
import type { AnthropicMessagesRequest } from "../../../../central/gateway/dialects/anthropic";
import type { OpenAiChatRequest } from "../../../../central/gateway/dialects/openai";
import {
  anthropicToOpenAi,
  openAiToAnthropic,
  UnsupportedRequest,
} from "../../../../central/gateway/translate/requests";

const tool = {
  type: "function" as const,
  function: {
    name: "lab_get_sample",
    description: "Fetch a sample",
    parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
  },
};

describe("OpenAI chat → Anthropic messages", () => {
  it("moves system and developer prompts to `system`, tool calls to tool_use and results to tool_result", () => {
    const req: OpenAiChatRequest = {
      model: "auto",
      stream: true,
      temperature: 1.4,
      stop: "END",
      max_completion_tokens: 300,
      tools: [tool],
      tool_choice: "required",
      parallel_tool_calls: false,
      user: "lab-notes",
      messages: [
        { role: "system", content: "You are careful." },
        { role: "developer", content: [{ type: "text", text: "Cite sources." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "Mass of S-1?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "lab_get_sample", arguments: '{"id":"S-1"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"mass_g":4.2}' },
        { role: "user", content: "Thanks; in mg?" },
      ],
    };
    expect(openAiToAnthropic(req, "claude-sonnet-4-5", 4096)).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 300,
      stream: true,
      temperature: 1,
      stop_sequences: ["END"],
      system: [
        { type: "text", text: "You are careful." },
        { type: "text", text: "Cite sources." },
      ],
      metadata: { user_id: "lab-notes" },
      tools: [
        {
          name: "lab_get_sample",
          description: "Fetch a sample",
          input_schema: {
            type: "object",
            properties: { id: { type: "string" } },
            required: ["id"],
          },
        },
      ],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Mass of S-1?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "tool_use", id: "call_1", name: "lab_get_sample", input: { id: "S-1" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "call_1", content: '{"mass_g":4.2}' },
            { type: "text", text: "Thanks; in mg?" },
          ],
        },
      ],
    });
  });

  it("keeps every part's cache_control and the system prompt's blocks, so prompt caching survives", () => {
    const mark = { type: "ephemeral" };
    const out = openAiToAnthropic(
      {
        model: "auto",
        messages: [
          {
            role: "system",
            content: [
              { type: "text", text: "You run the lab.", cache_control: mark },
              { type: "text", text: "Today is Sunday." },
            ],
          },
          {
            role: "user",
            content: [{ type: "text", text: "Mass of S-1?", cache_control: mark }],
          },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "c1", type: "function", function: { name: "lab_get", arguments: "{}" } },
            ],
          },
          {
            role: "tool",
            tool_call_id: "c1",
            content: [{ type: "text", text: '{"mass_g":4.2}', cache_control: mark }],
          },
        ],
        tools: [{ ...tool, cache_control: mark }],
      },
      "claude-sonnet-4-5",
      100,
    );
    expect(out.system).toEqual([
      { type: "text", text: "You run the lab.", cache_control: mark },
      { type: "text", text: "Today is Sunday." },
    ]);
    expect(out.messages[0]!.content).toEqual([
      { type: "text", text: "Mass of S-1?", cache_control: mark },
    ]);
    expect(out.messages[2]!.content).toEqual([
      {
        type: "tool_result",
        tool_use_id: "c1",
        content: [{ type: "text", text: '{"mass_g":4.2}', cache_control: mark }],
      },
    ]);
    expect(out.tools?.[0]).toMatchObject({ name: "lab_get_sample", cache_control: mark });
  });

  it("passes reasoning effort as a thinking budget and a json_schema format as structured output", () => {
    const schema = { type: "object", properties: { mass_g: { type: "number" } } };
    const out = openAiToAnthropic(
      {
        model: "auto",
        messages: [{ role: "user", content: "Mass?" }],
        reasoning_effort: "medium",
        temperature: 0.2,
        response_format: { type: "json_schema", json_schema: { name: "mass", schema } },
      },
      "claude-sonnet-4-5",
      20_000,
    );
    expect(out.thinking).toEqual({ type: "enabled", budget_tokens: 8_192 });
    // A thinking Claude takes no temperature.
    expect(out).not.toHaveProperty("temperature");
    expect(out.output_config).toEqual({ format: { type: "json_schema", schema } });
    // The budget stays under the output cap, and a cap too small to think in is refused.
    const capped = openAiToAnthropic(
      { model: "auto", messages: [{ role: "user", content: "Mass?" }], reasoning_effort: "high" },
      "m",
      4_000,
    );
    expect(capped.thinking).toEqual({ type: "enabled", budget_tokens: 3_999 });
    expect(() =>
      openAiToAnthropic(
        { model: "auto", messages: [{ role: "user", content: "Mass?" }], reasoning_effort: "low" },
        "m",
        1_000,
      ),
    ).toThrow(/reasoning_effort/);
    const off = openAiToAnthropic(
      { model: "auto", messages: [{ role: "user", content: "Mass?" }], reasoning_effort: "none" },
      "m",
      10,
    );
    expect(off.thinking).toEqual({ type: "disabled" });
    expect(off).not.toHaveProperty("output_config");
  });

  it("narrows the tool list to an allowed_tools choice, which Anthropic has no field for", () => {
    const other = { type: "function" as const, function: { name: "lab_move_arm" } };
    const out = openAiToAnthropic(
      {
        model: "auto",
        messages: [{ role: "user", content: "Mass?" }],
        tools: [tool, other],
        tool_choice: {
          type: "allowed_tools",
          allowed_tools: {
            mode: "required",
            tools: [{ type: "function", function: { name: "lab_move_arm" } }],
          },
        },
      },
      "m",
      10,
    );
    expect(out.tools?.map((t) => t.name)).toEqual(["lab_move_arm"]);
    expect(out.tool_choice).toEqual({ type: "any" });
  });

  it("gives Anthropic the default output cap when the request has none", () => {
    const out = openAiToAnthropic(
      { model: "x", messages: [{ role: "user", content: "hi" }] },
      "m",
      1234,
    );
    expect(out.max_tokens).toBe(1234);
    expect(out).not.toHaveProperty("stream");
  });

  it("refuses what Anthropic cannot express, naming the field", () => {
    const attempt = (req: Partial<OpenAiChatRequest>) => () =>
      openAiToAnthropic(
        { model: "x", messages: [{ role: "user", content: "hi" }], ...req } as OpenAiChatRequest,
        "m",
        10,
      );
    expect(attempt({ n: 2 })).toThrow(UnsupportedRequest);
    expect(attempt({ response_format: { type: "json_object" } })).toThrow(/response_format/);
    expect(
      attempt({
        tools: [{ type: "custom", custom: { name: "apply_patch" } }],
      }),
    ).toThrow(/tools\[0\]/);
    expect(
      attempt({
        messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }],
      } as never),
    ).toThrow(/messages\[0\]\.content\[0\]/);
    expect(
      attempt({
        messages: [
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "c", type: "function", function: { name: "f", arguments: "{oops" } },
            ],
          },
        ],
      }),
    ).toThrow(/messages\[0\]\.tool_calls\[0\]\.function\.arguments/);
  });
});

describe("Anthropic messages → OpenAI chat", () => {
  it("turns tool_result blocks into tool messages ahead of the turn's text, tool_use into tool_calls", () => {
    const req: AnthropicMessagesRequest = {
      model: "auto",
      max_tokens: 500,
      stream: true,
      system: [{ type: "text", text: "Be brief." }],
      temperature: 0.2,
      stop_sequences: ["##"],
      tools: [
        { name: "lab_get_sample", description: "Fetch a sample", input_schema: { type: "object" } },
      ],
      tool_choice: { type: "tool", name: "lab_get_sample", disable_parallel_tool_use: true },
      metadata: { user_id: "u-1" },
      messages: [
        { role: "user", content: "Mass of S-1?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "…", signature: "s" },
            { type: "text", text: "Let me look." },
            { type: "tool_use", id: "toolu_1", name: "lab_get_sample", input: { id: "S-1" } },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: [{ type: "text", text: "4.2 g" }],
            },
            { type: "text", text: "And in mg?" },
            { type: "image", source: { type: "url", url: "https://lab/x.png" } },
          ],
        },
      ],
    };
    expect(
      anthropicToOpenAi(req, "gpt-4.1-mini", {
        maxTokensField: "max_completion_tokens",
        usageInStream: true,
      }),
    ).toEqual({
      model: "gpt-4.1-mini",
      max_completion_tokens: 500,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      stop: ["##"],
      user: "u-1",
      parallel_tool_calls: false,
      tool_choice: { type: "function", function: { name: "lab_get_sample" } },
      tools: [
        {
          type: "function",
          function: {
            name: "lab_get_sample",
            description: "Fetch a sample",
            parameters: { type: "object" },
          },
        },
      ],
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Mass of S-1?" },
        {
          role: "assistant",
          content: "Let me look.",
          tool_calls: [
            {
              id: "toolu_1",
              type: "function",
              function: { name: "lab_get_sample", arguments: '{"id":"S-1"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "4.2 g" },
        {
          role: "user",
          content: [
            { type: "text", text: "And in mg?" },
            { type: "image_url", image_url: { url: "https://lab/x.png" } },
          ],
        },
      ],
    });
  });

  it("uses max_tokens for servers that want it and leaves out stream usage when the server refuses it", () => {
    const out = anthropicToOpenAi(
      { model: "x", max_tokens: 9, stream: true, messages: [{ role: "user", content: "hi" }] },
      "llama",
      { maxTokensField: "max_tokens", usageInStream: false },
    );
    expect(out).toMatchObject({ max_tokens: 9, stream: true });
    expect(out).not.toHaveProperty("stream_options");
  });

  it("passes system turns, output effort and a structured output format on", () => {
    const schema = { type: "object", properties: { ok: { type: "boolean" } } };
    const out = anthropicToOpenAi(
      {
        model: "claude",
        max_tokens: 50,
        messages: [
          { role: "user", content: "Check S-1." },
          { role: "system", content: [{ type: "text", text: "Answer in JSON." }] },
        ],
        output_config: { effort: "high", format: { type: "json_schema", schema } },
      },
      "gpt-5",
      { maxTokensField: "max_completion_tokens", usageInStream: true },
    );
    expect(out.messages).toEqual([
      { role: "user", content: "Check S-1." },
      { role: "system", content: "Answer in JSON." },
    ]);
    expect(out.reasoning_effort).toBe("high");
    const budgeted = anthropicToOpenAi(
      {
        model: "claude",
        max_tokens: 20_000,
        messages: [{ role: "user", content: "Check S-1." }],
        thinking: { type: "enabled", budget_tokens: 10_000 },
      },
      "gpt-5",
      { maxTokensField: "max_completion_tokens", usageInStream: true },
    );
    expect(budgeted.reasoning_effort).toBe("medium");
    expect(out.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "output", schema, strict: true },
    });
  });

  it("refuses blocks OpenAI cannot take", () => {
    expect(() =>
      anthropicToOpenAi(
        {
          model: "x",
          max_tokens: 9,
          messages: [{ role: "user", content: [{ type: "document", source: {} }] }],
        },
        "m",
        { maxTokensField: "max_tokens", usageInStream: true },
      ),
    ).toThrow(/messages\[0\]\.content\[0\]: OpenAI takes no document blocks/);
  });
});
