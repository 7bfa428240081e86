import type { AnthropicResponse, AnthropicUsage } from "../dialects/anthropic";
import type { Dialect } from "../dialects/errors";
import type { OpenAiCompletion, OpenAiUsage } from "../dialects/openai";
import { type CallUsage, usageFromAnthropic, usageFromOpenAi } from "../dialects/usage";
import { anthropicToOpenAiResponse, openAiToAnthropicResponse } from "../translate/responses";

/** A complete (non-streamed) answer, in the caller's dialect, with what the event needs. */
export interface JsonAnswer {
  body: string;
  usage: CallUsage | null;
  responseModel: string | null;
  responseId: string | null;
  finishReasons: string[];
  /** Characters of generated output, to estimate usage a provider left out. */
  outputChars: number;
}

/**
 * The provider's answer for the caller: the same bytes when the dialects match, else
 * translated. Usage is read from the provider's own fields before any translation.
 */
export function jsonAnswer(
  upstream: Dialect,
  client: Dialect,
  text: string,
  json: Record<string, unknown>,
  now: number,
): JsonAnswer {
  const model = typeof json.model === "string" ? json.model : null;
  const id = typeof json.id === "string" ? json.id : null;
  if (upstream === "openai") {
    const completion = json as unknown as OpenAiCompletion;
    const usage = completion.usage ? usageFromOpenAi(completion.usage as OpenAiUsage) : null;
    const finishReasons = (completion.choices ?? []).map((c) => c.finish_reason).filter((r) => !!r);
    const message = completion.choices?.[0]?.message;
    const outputChars =
      (message?.content?.length ?? 0) +
      (message?.tool_calls ?? []).reduce(
        (n, c) => n + (c.type === "custom" ? c.custom.input : c.function.arguments).length,
        0,
      );
    const body =
      client === "openai" ? text : JSON.stringify(openAiToAnthropicResponse(completion).body);
    return { body, usage, responseModel: model, responseId: id, finishReasons, outputChars };
  }
  const message = json as unknown as AnthropicResponse;
  const usage = message.usage ? usageFromAnthropic(message.usage as AnthropicUsage) : null;
  const outputChars = (message.content ?? []).reduce(
    (n, b) =>
      n +
      (b.type === "text"
        ? String(b.text ?? "").length
        : b.type === "tool_use"
          ? JSON.stringify(b.input ?? {}).length
          : 0),
    0,
  );
  const body =
    client === "anthropic" ? text : JSON.stringify(anthropicToOpenAiResponse(message, now).body);
  return {
    body,
    usage,
    responseModel: model,
    responseId: id,
    finishReasons: message.stop_reason ? [message.stop_reason] : [],
    outputChars,
  };
}

/** A rough count for providers that report no usage (about four characters a token). */
export function estimatedUsage(requestBytes: number, outputChars: number): CallUsage {
  return {
    input: Math.ceil(requestBytes / 4),
    output: Math.ceil(outputChars / 4),
    cacheRead: 0,
    cacheWrite: 0,
  };
}
