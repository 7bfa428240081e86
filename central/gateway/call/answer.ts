import type { AnthropicResponse, AnthropicUsage } from "../dialects/anthropic";
import type { Dialect } from "../dialects/errors";
import type { OpenAiCompletion, OpenAiResponsesRequest, OpenAiUsage } from "../dialects/openai";
import {
  type CallUsage,
  NO_USAGE,
  usageFromAnthropic,
  usageFromEmbeddings,
  usageFromOpenAi,
  usageFromResponses,
} from "../dialects/usage";
import { anthropicToOpenAiResponse, openAiToAnthropicResponse } from "../translate/responses";
import { anthropicToResponse } from "../translate/responses-answer";
import { ENDPOINTS, type Endpoint } from "./endpoints";

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
  endpoint: Endpoint,
  upstream: Dialect,
  text: string,
  json: Record<string, unknown>,
  now: number,
  /** The caller's request (a translated response echoes its settings). */
  request: Record<string, unknown>,
): JsonAnswer {
  const model = typeof json.model === "string" ? json.model : null;
  const id = typeof json.id === "string" ? json.id : null;
  if (
    (endpoint === "responses" && upstream === "openai") ||
    endpoint === "embeddings" ||
    endpoint === "count_tokens"
  )
    return { body: text, ...nativeAnswer(endpoint, json), responseModel: model, responseId: id };
  const client = ENDPOINTS[endpoint].wire;
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
    client === "anthropic"
      ? text
      : JSON.stringify(
          client === "responses"
            ? anthropicToResponse(message, request as OpenAiResponsesRequest, now)
            : anthropicToOpenAiResponse(message, now).body,
        );
  return {
    body,
    usage,
    responseModel: model,
    responseId: id,
    finishReasons: message.stop_reason ? [message.stop_reason] : [],
    outputChars,
  };
}

/** What an answer of an endpoint only its own dialect serves says about usage and its end. */
function nativeAnswer(
  endpoint: "responses" | "embeddings" | "count_tokens",
  json: Record<string, unknown>,
): Pick<JsonAnswer, "usage" | "finishReasons" | "outputChars"> {
  const usage = json.usage as Record<string, never> | undefined;
  if (endpoint === "count_tokens") return { usage: NO_USAGE, finishReasons: [], outputChars: 0 };
  if (endpoint === "embeddings")
    return { usage: usage ? usageFromEmbeddings(usage) : null, finishReasons: [], outputChars: 0 };
  const status = typeof json.status === "string" ? [json.status] : [];
  return {
    usage: usage ? usageFromResponses(usage) : null,
    finishReasons: status,
    outputChars: JSON.stringify(json.output ?? []).length,
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

/**
 * What a relayed stream used, and whether that is an estimate. A stream cut short (the provider
 * broke off, or the caller hung up) ended before the provider's last count, yet the provider
 * bills every token it generated: Anthropic's first event already counts 1 output token, and
 * the real count comes only in its last `message_delta`. Such a stream's output is at least
 * what the relayed characters make (test: streaming.node.test.ts "ends a stream that drops
 * mid-answer").
 */
export function streamUsage(
  end: { outcome: "ok" | "error" | "cancelled"; usage: CallUsage | null; outputChars: number },
  requestBytes: number,
): { usage: CallUsage; estimated: boolean } {
  const guess = estimatedUsage(requestBytes, end.outputChars);
  if (!end.usage) return { usage: guess, estimated: true };
  if (end.outcome === "ok" || end.usage.output >= guess.output)
    return { usage: end.usage, estimated: false };
  return { usage: { ...end.usage, output: guess.output }, estimated: true };
}
