import type {
  Message,
  MessageCountTokensParams,
  MessageCreateParams,
  TextBlock,
  ToolUseBlock,
  Usage,
} from "@anthropic-ai/sdk/resources/messages";
import { z } from "zod";
import type { Fits } from "./sdk-fit";

/**
 * Anthropic Messages, as the gateway accepts it: the fields it reads are checked, every other
 * field is kept and passed on to Anthropic providers unchanged.
 */

const Block = z.looseObject({ type: z.string().min(1) });

export const AnthropicMessage = z.looseObject({
  // System turns may come between the others (the SDK's SystemMessageParam).
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(Block).max(100_000)]),
});
export type AnthropicMessage = z.infer<typeof AnthropicMessage>;

/** A client tool (`custom`, the default) or one of Anthropic's server tools and toolsets. */
export const AnthropicTool = z.looseObject({
  type: z.string().min(1).nullable().optional(),
  name: z.string().min(1).max(256).optional(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

export const AnthropicMessagesRequest = z
  .looseObject({
    model: z.string().min(1).max(200),
    messages: z.array(AnthropicMessage).min(1).max(100_000),
    max_tokens: z.number().int().min(1),
    system: z.union([z.string(), z.array(Block)]).optional(),
    stream: z.boolean().optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    stop_sequences: z.array(z.string()).max(64).optional(),
    tools: z.array(AnthropicTool).max(1024).optional(),
    tool_choice: z
      .looseObject({
        type: z.enum(["auto", "any", "tool", "none"]),
        name: z.string().optional(),
        disable_parallel_tool_use: z.boolean().optional(),
      })
      .optional(),
    metadata: z.looseObject({ user_id: z.string().max(512).nullable().optional() }).optional(),
    thinking: z.looseObject({ type: z.string().min(1) }).optional(),
    output_config: z
      .looseObject({
        effort: z.enum(["low", "medium", "high", "xhigh", "max"]).nullable().optional(),
        format: z
          .looseObject({
            type: z.literal("json_schema"),
            schema: z.record(z.string(), z.unknown()),
          })
          .nullable()
          .optional(),
      })
      .optional(),
  })
  .meta({ id: "AnthropicMessagesRequest", description: "Anthropic Messages request" });
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequest>;

// Answers are typed from the official SDK's own types: the fields the gateway reads and writes,
// so a name or a value the SDK does not know fails to compile. (The SDK's full types also list
// fields only Anthropic's servers fill in, such as citations and inference_geo.)
export type AnthropicUsage = Pick<Usage, "input_tokens" | "output_tokens"> &
  Partial<
    Pick<Usage, "cache_read_input_tokens" | "cache_creation_input_tokens" | "cache_creation">
  >;
export type AnthropicBlock =
  | Pick<TextBlock, "type" | "text">
  | Pick<ToolUseBlock, "type" | "id" | "name" | "input">
  | { type: Exclude<string, "text" | "tool_use">; [key: string]: unknown };

export interface AnthropicResponse
  extends Pick<Message, "id" | "type" | "role" | "model" | "stop_reason" | "stop_sequence"> {
  content: AnthropicBlock[];
  usage: AnthropicUsage;
}

/** The Anthropic error body: `{ type: "error", error: { type, message } }`. */
export function anthropicError(message: string, type: string, extra: Record<string, unknown> = {}) {
  return { type: "error", error: { type, message, ...extra } };
}

/** Anthropic's error `type` for a status. */
export function anthropicErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 529 || status === 503) return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** Every request the official SDK can build fits the schema's input type (checked at compile time). */
export type AnthropicSdkRequest = Fits<
  z.input<typeof AnthropicMessagesRequest>,
  MessageCreateParams
>;

/**
 * Anthropic's token count (`/v1/messages/count_tokens`, which Claude Code calls): a Messages
 * request without the fields that shape generation. Only Anthropic providers take it.
 */
export const AnthropicCountTokensRequest = AnthropicMessagesRequest.omit({
  max_tokens: true,
  stream: true,
  temperature: true,
  top_p: true,
  top_k: true,
  stop_sequences: true,
  metadata: true,
}).meta({ id: "AnthropicCountTokensRequest", description: "Anthropic token count request" });

export type AnthropicSdkCountTokensRequest = Fits<
  z.input<typeof AnthropicCountTokensRequest>,
  MessageCountTokensParams
>;
