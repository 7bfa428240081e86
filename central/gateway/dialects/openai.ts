import { z } from "zod";

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

export const OpenAiToolCall = z.looseObject({
  id: z.string().min(1).max(256),
  type: z.literal("function").default("function"),
  function: z.looseObject({ name: z.string().min(1).max(256), arguments: z.string() }),
});

export const OpenAiMessage = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(OpenAiContentPart), z.null()]).optional(),
  name: z.string().max(256).optional(),
  tool_calls: z.array(OpenAiToolCall).max(1024).optional(),
  tool_call_id: z.string().max(256).optional(),
});
export type OpenAiMessage = z.infer<typeof OpenAiMessage>;

export const OpenAiTool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1).max(256),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

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
    tool_choice: z
      .union([
        z.enum(["none", "auto", "required"]),
        z.looseObject({
          type: z.literal("function"),
          function: z.looseObject({ name: z.string().min(1) }),
        }),
      ])
      .optional(),
    parallel_tool_calls: z.boolean().optional(),
    user: z.string().max(512).optional(),
  })
  .meta({ id: "OpenAiChatRequest", description: "OpenAI Chat Completions request" });
export type OpenAiChatRequest = z.infer<typeof OpenAiChatRequest>;

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

export interface OpenAiCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: "assistant";
      content: string | null;
      tool_calls?: {
        id: string;
        type: "function";
        function: { name: string; arguments: string };
      }[];
      refusal?: string | null;
    };
    finish_reason: string | null;
  }[];
  usage?: OpenAiUsage | null;
}

export interface OpenAiChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: {
      role?: "assistant";
      content?: string | null;
      tool_calls?: {
        index: number;
        id?: string;
        type?: "function";
        function?: { name?: string; arguments?: string };
      }[];
    };
    finish_reason: string | null;
  }[];
  usage?: OpenAiUsage | null;
  error?: unknown;
}

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
