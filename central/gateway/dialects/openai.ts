import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from "openai/resources/chat/completions";
import type { CompletionUsage } from "openai/resources/completions";
import type { EmbeddingCreateParams } from "openai/resources/embeddings";
import type {
  Response,
  ResponseCreateParams,
  ResponseOutputItem,
  ResponseStreamEvent,
} from "openai/resources/responses/responses";
import { z } from "zod";
import type { Fits } from "./sdk-fit";

/**
 * OpenAI Chat Completions, as the gateway accepts it: the fields it reads are checked, every
 * other field is kept and passed on to OpenAI-style providers unchanged.
 */

const TextPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const ImagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({ url: z.string().min(1) }),
});
const OtherPart = z.looseObject({ type: z.string().min(1) });
export const OpenAiContentPart = z.union([TextPart, ImagePart, OtherPart]);

const ToolName = z.string().min(1).max(256);

const FunctionToolCall = z.looseObject({
  id: z.string().min(1).max(256),
  type: z.literal("function").default("function"),
  function: z.looseObject({ name: ToolName, arguments: z.string() }),
});
/** A call of a custom (free-form input) tool. */
const CustomToolCall = z.looseObject({
  id: z.string().min(1).max(256),
  type: z.literal("custom"),
  custom: z.looseObject({ name: ToolName, input: z.string() }),
});
export const OpenAiToolCall = z.union([FunctionToolCall, CustomToolCall]);
export type OpenAiToolCall = z.infer<typeof OpenAiToolCall>;

export const OpenAiMessage = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(OpenAiContentPart), z.null()]).optional(),
  name: z.string().max(256).optional(),
  tool_calls: z.array(OpenAiToolCall).max(1024).optional(),
  tool_call_id: z.string().max(256).optional(),
});
export type OpenAiMessage = z.infer<typeof OpenAiMessage>;

const FunctionTool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: ToolName,
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
/** A tool whose input is free text (optionally held to a grammar): OpenAI providers only. */
const CustomTool = z.looseObject({
  type: z.literal("custom"),
  custom: z.looseObject({
    name: ToolName,
    description: z.string().optional(),
    format: z.looseObject({ type: z.enum(["text", "grammar"]) }).optional(),
  }),
});
export const OpenAiTool = z.union([FunctionTool, CustomTool]);
export type OpenAiTool = z.infer<typeof OpenAiTool>;

export const OpenAiToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: ToolName }) }),
  z.looseObject({ type: z.literal("custom"), custom: z.looseObject({ name: ToolName }) }),
  z.looseObject({
    type: z.literal("allowed_tools"),
    allowed_tools: z.looseObject({
      mode: z.enum(["auto", "required"]),
      tools: z.array(z.record(z.string(), z.unknown())).max(1024),
    }),
  }),
]);
export type OpenAiToolChoice = z.infer<typeof OpenAiToolChoice>;

export const OpenAiResponseFormat = z.union([
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64"),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

export const ReasoningEffort = z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]);
export type ReasoningEffort = z.infer<typeof ReasoningEffort>;

const PositiveInt = z.number().int().min(1);

export const OpenAiChatRequest = z
  .looseObject({
    model: z.string().min(1).max(200),
    messages: z.array(OpenAiMessage).min(1).max(100_000),
    stream: z.boolean().nullable().optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
    max_tokens: PositiveInt.nullable().optional(),
    max_completion_tokens: PositiveInt.nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    n: z.number().int().min(1).max(128).nullable().optional(),
    stop: z
      .union([z.string(), z.array(z.string()).max(16)])
      .nullable()
      .optional(),
    tools: z.array(OpenAiTool).max(1024).optional(),
    tool_choice: OpenAiToolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: OpenAiResponseFormat.optional(),
    reasoning_effort: ReasoningEffort.nullable().optional(),
    user: z.string().max(512).optional(),
  })
  .meta({ id: "OpenAiChatRequest", description: "OpenAI Chat Completions request" });
export type OpenAiChatRequest = z.infer<typeof OpenAiChatRequest>;

// Answers are typed as the official SDK reads them, so a translation that drops a field the SDK
// expects fails to compile.
export type OpenAiUsage = CompletionUsage;
export type OpenAiCompletion = ChatCompletion;
/** A stream chunk; a provider may send an error object in its place. */
export type OpenAiChunk = ChatCompletionChunk & { error?: unknown };
export type OpenAiFinish = ChatCompletion.Choice["finish_reason"];

/** The OpenAI error body: `{ error: { message, type, param, code } }`. */
export function openAiError(
  message: string,
  type: string,
  code: string | null,
  extra: Record<string, unknown> = {},
) {
  return { error: { message, type, param: null, code, ...extra } };
}

/** OpenAI's error `type` for a status. */
export function openAiErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/**
 * Every request the official SDK can build fits the schema's input type: a compile-time check
 * that the gateway refuses nothing the SDK may send (a field the SDK adds must be accepted).
 */
export type OpenAiSdkRequest = Fits<z.input<typeof OpenAiChatRequest>, ChatCompletionCreateParams>;

/**
 * OpenAI Responses (`/v1/responses`), as the gateway accepts it: OpenAI providers take it
 * unchanged, Anthropic ones translated (translate/responses-request.ts). `model` is required,
 * since it is what the gateway routes on. Input items are checked where they are translated,
 * so every item an OpenAI provider takes still reaches it as sent.
 */
export const OpenAiResponsesRequest = z
  .looseObject({
    model: z.string().min(1).max(200),
    input: z.union([z.string(), z.array(z.looseObject({})).max(100_000)]).optional(),
    instructions: z.string().nullable().optional(),
    stream: z.boolean().nullable().optional(),
    max_output_tokens: PositiveInt.nullable().optional(),
    tools: z
      .array(z.looseObject({ type: z.string().min(1) }))
      .max(1024)
      .optional(),
    tool_choice: z.union([z.string(), z.looseObject({ type: z.string().min(1) })]).optional(),
    parallel_tool_calls: z.boolean().nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    reasoning: z
      .looseObject({ effort: ReasoningEffort.nullable().optional() })
      .nullable()
      .optional(),
    text: z
      .looseObject({ format: z.looseObject({ type: z.string().min(1) }).optional() })
      .optional(),
    previous_response_id: z.string().nullable().optional(),
    store: z.boolean().nullable().optional(),
    user: z.string().max(512).optional(),
  })
  .meta({ id: "OpenAiResponsesRequest", description: "OpenAI Responses request" });
export type OpenAiResponsesRequest = z.infer<typeof OpenAiResponsesRequest>;

/** A response object as the API sends it (`output_text` is the SDK's own convenience). */
export type OpenAiResponse = Omit<Response, "output_text">;
export type OpenAiResponseItem = ResponseOutputItem;
export type OpenAiResponseEvent = ResponseStreamEvent;

export type OpenAiSdkResponsesRequest = Fits<
  z.input<typeof OpenAiResponsesRequest>,
  ResponseCreateParams & { model: string }
>;

/** OpenAI Embeddings (`/v1/embeddings`): OpenAI-style providers take it, unchanged. */
export const OpenAiEmbeddingsRequest = z
  .looseObject({
    model: z.string().min(1).max(200),
    input: z.union([
      z.string(),
      z.array(z.string()).min(1).max(2048),
      z.array(z.number().int()).min(1),
      z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
    ]),
    dimensions: PositiveInt.optional(),
    encoding_format: z.enum(["float", "base64"]).optional(),
    user: z.string().max(512).optional(),
  })
  .meta({ id: "OpenAiEmbeddingsRequest", description: "OpenAI Embeddings request" });

export type OpenAiSdkEmbeddingsRequest = Fits<
  z.input<typeof OpenAiEmbeddingsRequest>,
  EmbeddingCreateParams
>;
