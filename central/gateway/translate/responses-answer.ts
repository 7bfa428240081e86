import type { AnthropicResponse } from "../dialects/anthropic";
import type {
  OpenAiResponse,
  OpenAiResponseItem,
  OpenAiResponsesRequest,
} from "../dialects/openai";
import { type CallUsage, usageFromAnthropic, usageToResponses } from "../dialects/usage";
import { packThinking, type ThinkingBlock } from "./thinking-items";

/** What names a translated response and its items: taken from the Anthropic message's id. */
export interface ResponseIds {
  id: string;
  /** The id of the output item at this index of the Anthropic message's content. */
  item(kind: "msg" | "rs", index: number): string;
}

export function responseIds(messageId: string | null | undefined): ResponseIds {
  const base = (messageId ?? "gateway").replace(/^msg_/, "");
  return { id: `resp_${base}`, item: (kind, index) => `${kind}_${base}_${index}` };
}

/** A function call's id, from its Anthropic tool_use id (the call id itself). */
export const functionCallId = (callId: string) => `fc_${callId}`;

/** How an Anthropic stop reason ends a response: `incomplete` when the answer was cut short. */
export function endOf(
  stopReason: string | null | undefined,
): Pick<OpenAiResponse, "status" | "incomplete_details"> {
  if (stopReason === "max_tokens" || stopReason === "model_context_window_exceeded")
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (stopReason === "refusal")
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

/**
 * A response object: the request's settings echoed as OpenAI does (so a client sees what its
 * answer was made under), the output items and, once known, the usage.
 */
export function responseObject(
  request: OpenAiResponsesRequest,
  head: { id: string; model: string; createdAt: number },
  output: OpenAiResponseItem[],
  end: Pick<OpenAiResponse, "status" | "incomplete_details">,
  usage: CallUsage | null,
): OpenAiResponse {
  const text = (request.text ?? { format: { type: "text" } }) as OpenAiResponse["text"];
  return {
    id: head.id,
    object: "response",
    created_at: Math.floor(head.createdAt / 1000),
    model: head.model,
    ...end,
    error: null,
    access_programs: null,
    instructions: request.instructions ?? null,
    metadata: (request.metadata ?? {}) as OpenAiResponse["metadata"],
    output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    temperature: request.temperature ?? null,
    top_p: request.top_p ?? null,
    tool_choice: (request.tool_choice ?? "auto") as OpenAiResponse["tool_choice"],
    tools: (request.tools ?? []) as OpenAiResponse["tools"],
    max_output_tokens: request.max_output_tokens ?? null,
    previous_response_id: null,
    reasoning: (request.reasoning ?? null) as OpenAiResponse["reasoning"],
    text,
    truncation: "disabled",
    ...(request.user ? { user: request.user } : {}),
    ...(usage ? { usage: usageToResponses(usage) } : {}),
  };
}

/** A thinking block as a reasoning item: its text as the summary, the block packed whole. */
export function reasoningItem(
  id: string,
  block: ThinkingBlock,
  status: "in_progress" | "completed",
): OpenAiResponseItem {
  return {
    type: "reasoning",
    id,
    summary:
      block.type === "thinking" && block.thinking
        ? [{ type: "summary_text", text: block.thinking }]
        : [],
    ...(status === "completed" ? { encrypted_content: packThinking(block) } : {}),
    status,
  };
}

/**
 * Anthropic message → OpenAI response: consecutive text blocks as one assistant message (one
 * output_text part each), tool_use blocks as function_call items, thinking blocks as reasoning
 * items; `max_tokens` makes it `incomplete` (`max_output_tokens`). Usage counts cached input in
 * `input_tokens`, as OpenAI does.
 */
export function anthropicToResponse(
  message: AnthropicResponse,
  request: OpenAiResponsesRequest,
  now: number,
): OpenAiResponse {
  const ids = responseIds(message.id);
  const end = endOf(message.stop_reason);
  const itemStatus = end.status === "completed" ? "completed" : "incomplete";
  const output: OpenAiResponseItem[] = [];
  let open: Extract<OpenAiResponseItem, { type: "message" }> | null = null;
  (message.content ?? []).forEach((block, index) => {
    if (block.type === "text") {
      if (!open) {
        open = {
          type: "message",
          id: ids.item("msg", index),
          role: "assistant",
          status: itemStatus,
          content: [],
        };
        output.push(open);
      }
      open.content.push({ type: "output_text", text: String(block.text ?? ""), annotations: [] });
      return;
    }
    open = null;
    if (block.type === "tool_use")
      output.push({
        type: "function_call",
        id: functionCallId(String(block.id)),
        call_id: String(block.id),
        name: String(block.name),
        arguments: JSON.stringify(block.input ?? {}),
        status: "completed",
      });
    else if (block.type === "thinking" || block.type === "redacted_thinking")
      output.push(reasoningItem(ids.item("rs", index), block as ThinkingBlock, "completed"));
  });
  return responseObject(
    request,
    { id: ids.id, model: message.model, createdAt: now },
    output,
    end,
    usageFromAnthropic(message.usage ?? {}),
  );
}
