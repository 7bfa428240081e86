import { describe, expect, it } from "vitest";
import type { OpenAiResponsesRequest } from "../../../../central/gateway/dialects/openai";
import { UnsupportedRequest } from "../../../../central/gateway/translate/requests";
import { responsesToAnthropic } from "../../../../central/gateway/translate/responses-request";
import { packThinking } from "../../../../central/gateway/translate/thinking-items";

const PARAMETERS = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
const EPHEMERAL = { type: "ephemeral" };
const THINKING = {
  type: "thinking" as const,
  thinking: "Look the sample up. ü",
  signature: "sig==",
};

const translate = (req: Partial<OpenAiResponsesRequest>, defaultMaxTokens = 4096) =>
  responsesToAnthropic(
    { model: "auto", ...req } as OpenAiResponsesRequest,
    "claude-x",
    defaultMaxTokens,
  );

/** The field an untranslatable request is refused on. */
function refusedAt(req: Partial<OpenAiResponsesRequest>): string {
  try {
    translate(req);
  } catch (error) {
    if (error instanceof UnsupportedRequest) return error.path;
    throw error;
  }
  throw new Error("translated a request Anthropic cannot take");
}

describe("OpenAI Responses → Anthropic messages", () => {
  it("takes a string input as one user turn, under the default output cap", () => {
    expect(translate({ input: "Mass of S-1?" })).toEqual({
      model: "claude-x",
      // The last block is a cache point, so the next turn reads this one from the cache.
      messages: [
        {
          role: "user",
          content: [{ type: "text", text: "Mass of S-1?", cache_control: EPHEMERAL }],
        },
      ],
      max_tokens: 4096,
    });
  });

  it("keeps a caller's own cache points and adds none", () => {
    const out = translate({
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "A long lab manual.", cache_control: EPHEMERAL },
            { type: "input_text", text: "Mass of S-1?" },
          ],
        },
      ] as never,
    });
    expect(out.messages[0]!.content).toEqual([
      { type: "text", text: "A long lab manual.", cache_control: EPHEMERAL },
      { type: "text", text: "Mass of S-1?" },
    ]);
  });

  it("translates a tool round trip: instructions, messages, images, calls, outputs and Claude's own thinking", () => {
    const out = translate({
      instructions: "You run the lab.",
      stream: true,
      max_output_tokens: 20_000,
      temperature: 1.5,
      input: [
        { role: "developer", content: "Answer in grams." },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "Mass of S-1?" },
            { type: "input_image", image_url: "data:image/png;base64,iVBORw0K", detail: "auto" },
            { type: "input_image", image_url: "https://lab.example/s1.png", detail: "auto" },
          ],
        },
        { type: "reasoning", id: "rs_1", summary: [], encrypted_content: packThinking(THINKING) },
        // OpenAI's own encrypted reasoning is not portable: left out.
        { type: "reasoning", id: "rs_2", summary: [], encrypted_content: "gAAAAB-openai" },
        {
          type: "function_call",
          call_id: "call_1",
          name: "lab_get_sample",
          arguments: '{"id":"S-1"}',
        },
        { type: "function_call_output", call_id: "call_1", output: '{"mass_g":4.2}' },
        {
          type: "function_call_output",
          call_id: "call_2",
          output: [{ type: "input_text", text: "photo:" }],
        },
        { role: "user", content: "And S-2?" },
        {
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: "Looking.", annotations: [] }],
        },
      ] as never,
      tools: [
        {
          type: "function",
          name: "lab_get_sample",
          description: "Fetch",
          parameters: PARAMETERS,
          strict: true,
        },
      ],
      tool_choice: { type: "function", name: "lab_get_sample" },
      parallel_tool_calls: false,
      reasoning: { effort: "high" },
      text: { format: { type: "json_schema", name: "mass", schema: PARAMETERS, strict: true } },
      user: "lab-notes",
    });
    expect(out).toEqual({
      model: "claude-x",
      system: [
        { type: "text", text: "You run the lab." },
        { type: "text", text: "Answer in grams." },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Mass of S-1?" },
            {
              type: "image",
              source: { type: "base64", media_type: "image/png", data: "iVBORw0K" },
            },
            { type: "image", source: { type: "url", url: "https://lab.example/s1.png" } },
          ],
        },
        {
          role: "assistant",
          content: [
            THINKING,
            { type: "tool_use", id: "call_1", name: "lab_get_sample", input: { id: "S-1" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "call_1", content: '{"mass_g":4.2}' },
            {
              type: "tool_result",
              tool_use_id: "call_2",
              content: [{ type: "text", text: "photo:" }],
            },
            { type: "text", text: "And S-2?" },
          ],
        },
        {
          role: "assistant",
          content: [{ type: "text", text: "Looking.", cache_control: EPHEMERAL }],
        },
      ],
      max_tokens: 20_000,
      stream: true,
      // Sampling settings are left out: a thinking Claude takes none.
      thinking: { type: "enabled", budget_tokens: 16_384 },
      tools: [{ name: "lab_get_sample", description: "Fetch", input_schema: PARAMETERS }],
      tool_choice: { type: "tool", name: "lab_get_sample", disable_parallel_tool_use: true },
      metadata: { user_id: "lab-notes" },
      output_config: { format: { type: "json_schema", schema: PARAMETERS } },
    });
  });

  it("maps tool choices and sampling the way chat does", () => {
    const tools = [
      { type: "function", name: "a", parameters: PARAMETERS },
      { type: "function", name: "b", parameters: PARAMETERS },
    ] as OpenAiResponsesRequest["tools"];
    expect(
      translate({ input: "hi", tools, tool_choice: "required", temperature: 0.2, top_p: 0.9 }),
    ).toMatchObject({
      tool_choice: { type: "any" },
      temperature: 0.2,
      top_p: 0.9,
    });
    const narrowed = translate({
      input: "hi",
      tools,
      tool_choice: {
        type: "allowed_tools",
        mode: "auto",
        tools: [{ type: "function", name: "b" }],
      },
    });
    expect(narrowed.tools?.map((t) => t.name)).toEqual(["b"]);
    expect(narrowed.tool_choice).toEqual({ type: "auto" });
    expect(translate({ input: "hi", reasoning: { effort: "none" } }).thinking).toEqual({
      type: "disabled",
    });
    expect(
      translate({ input: "hi", store: false, previous_response_id: null }).messages,
    ).toHaveLength(1);
  });

  it("refuses, naming the field, what only OpenAI keeps or runs", () => {
    expect(refusedAt({ input: "hi", previous_response_id: "resp_1" })).toBe("previous_response_id");
    expect(refusedAt({ input: "hi", store: true })).toBe("store");
    expect(refusedAt({ input: "hi", conversation: "conv_1" } as never)).toBe("conversation");
    expect(refusedAt({ input: "hi", tools: [{ type: "web_search" }] })).toBe("tools[0]");
    expect(
      refusedAt({ input: "hi", tools: [{ type: "function", name: "a" }, { type: "file_search" }] }),
    ).toBe("tools[1]");
    expect(refusedAt({ input: "hi", tool_choice: { type: "web_search_preview" } })).toBe(
      "tool_choice",
    );
    expect(refusedAt({ input: [{ type: "item_reference", id: "msg_1" }] })).toBe("input[0]");
    expect(refusedAt({ input: [{ type: "web_search_call", id: "ws_1" }] })).toBe("input[0]");
    expect(
      refusedAt({
        input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }],
      }),
    ).toBe("input[0].content[0]");
    expect(refusedAt({ input: "hi", text: { format: { type: "json_object" } } })).toBe(
      "text.format",
    );
    expect(refusedAt({ input: "hi", reasoning: { effort: "low" }, max_output_tokens: 1000 })).toBe(
      "reasoning.effort",
    );
    expect(
      refusedAt({
        input: [{ type: "function_call", call_id: "c", name: "a", arguments: "{oops" }],
      }),
    ).toBe("input[0].arguments");
    // Malformed items are refused where they are wrong, never a crash.
    expect(refusedAt({ input: [{ role: "user", content: [null] }] } as never)).toBe(
      "input[0].content[0]",
    );
    expect(refusedAt({ input: [{ type: "function_call_output" }] } as never)).toBe(
      "input[0].call_id",
    );
    expect(refusedAt({ input: [] })).toBe("input");
    expect(
      translate({
        input: "hi",
        tools: [{ type: "function", name: "a" }],
        tool_choice: { type: "allowed_tools", mode: "required", tools: [null] },
      } as never).tool_choice,
    ).toEqual({ type: "any" });
  });
});
