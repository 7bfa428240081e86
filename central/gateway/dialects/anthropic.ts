import { z } from "zod";

/**
 * Anthropic Messages, as the gateway accepts it: the fields it reads are checked, every other
 * field is kept and passed on to Anthropic providers unchanged.
 */

const Block = z.looseObject({ type: z.string().min(1) });

export const AnthropicMessage = z.looseObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(Block).max(100_000)]),
});
export type AnthropicMessage = z.infer<typeof AnthropicMessage>;

export const AnthropicTool = z.looseObject({
  name: z.string().min(1).max(256),
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
    metadata: z.looseObject({ user_id: z.string().max(512).optional() }).optional(),
  })
  .meta({ id: "AnthropicMessagesRequest", description: "Anthropic Messages request" });
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequest>;

export type AnthropicBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: string; [key: string]: unknown };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

export interface AnthropicResponse {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicBlock[];
  stop_reason: string | null;
  stop_sequence: string | null;
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
