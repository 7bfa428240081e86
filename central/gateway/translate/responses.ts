import type { StopReason } from "@anthropic-ai/sdk/resources/messages";
import { own } from "../../../contract";
import type { AnthropicBlock, AnthropicResponse } from "../dialects/anthropic";
import type { OpenAiCompletion, OpenAiFinish } from "../dialects/openai";
import {
  type CallUsage,
  usageFromAnthropic,
  usageFromOpenAi,
  usageToAnthropic,
  usageToOpenAi,
} from "../dialects/usage";

const TO_OPENAI_FINISH: Record<string, OpenAiFinish> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
  pause_turn: "stop",
};

const TO_ANTHROPIC_STOP: Record<string, StopReason> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

export const toOpenAiFinish = (reason: string | null | undefined): OpenAiFinish | null =>
  reason ? (own(TO_OPENAI_FINISH, reason) ?? "stop") : null;
export const toAnthropicStop = (reason: string | null | undefined): StopReason | null =>
  reason ? (own(TO_ANTHROPIC_STOP, reason) ?? "end_turn") : null;

/** Anthropic message → OpenAI chat completion (text joined, tool_use blocks as tool_calls). */
export function anthropicToOpenAiResponse(
  message: AnthropicResponse,
  now: number,
): { body: OpenAiCompletion; usage: CallUsage } {
  const text = message.content
    .filter((b): b is { type: "text"; text: string } => b.type === "text")
    .map((b) => b.text)
    .join("");
  const calls = message.content
    .filter(
      (b): b is { type: "tool_use"; id: string; name: string; input: unknown } =>
        b.type === "tool_use",
    )
    .map((b) => ({
      id: b.id,
      type: "function" as const,
      function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
    }));
  const usage = usageFromAnthropic(message.usage ?? {});
  return {
    usage,
    body: {
      id: message.id,
      object: "chat.completion",
      created: Math.floor(now / 1000),
      model: message.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: text || (calls.length ? null : ""),
            refusal: null,
            ...(calls.length ? { tool_calls: calls } : {}),
          },
          logprobs: null,
          finish_reason: toOpenAiFinish(message.stop_reason) ?? "stop",
        },
      ],
      usage: usageToOpenAi(usage),
    },
  };
}

/** OpenAI chat completion → Anthropic message (the first choice). */
export function openAiToAnthropicResponse(completion: OpenAiCompletion): {
  body: AnthropicResponse;
  usage: CallUsage;
} {
  const choice = completion.choices?.[0];
  const content: AnthropicBlock[] = [];
  if (choice?.message?.content) content.push({ type: "text", text: choice.message.content });
  for (const call of choice?.message?.tool_calls ?? []) {
    // Custom tools exist only in OpenAI's dialect: a translated request never offers them.
    if (call.type !== "function") continue;
    let input: unknown = {};
    try {
      input = call.function.arguments ? JSON.parse(call.function.arguments) : {};
    } catch {
      // A model that emitted broken JSON arguments: hand them over as a string, visibly.
      input = { _raw_arguments: call.function.arguments };
    }
    content.push({ type: "tool_use", id: call.id, name: call.function.name, input });
  }
  const usage = completion.usage ? usageFromOpenAi(completion.usage) : null;
  const known = usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  return {
    usage: known,
    body: {
      id: completion.id?.startsWith("msg_") ? completion.id : `msg_${completion.id ?? "gateway"}`,
      type: "message",
      role: "assistant",
      model: completion.model,
      content,
      stop_reason: toAnthropicStop(choice?.finish_reason),
      stop_sequence: null,
      usage: usageToAnthropic(known),
    },
  };
}
