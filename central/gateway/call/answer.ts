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
import { inputTokenEstimate, roughTokens } from "./estimate";
import type { Inbound } from "./inbound";

type SizedRequest = Pick<Inbound, "bodyBytes" | "body">;

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
  const usage = answerUsage(endpoint, upstream, json);
  if (isNative(endpoint, upstream))
    return {
      body: text,
      ...nativeAnswer(endpoint, json),
      usage,
      responseModel: model,
      responseId: id,
    };
  const client = ENDPOINTS[endpoint].wire;
  if (upstream === "openai") {
    const completion = json as unknown as OpenAiCompletion;
    const finishReasons = (completion.choices ?? [])
      .map((c) => c.finish_reason as unknown)
      .filter((r): r is string => typeof r === "string" && r !== "");
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
    finishReasons:
      typeof message.stop_reason === "string" && message.stop_reason ? [message.stop_reason] : [],
    outputChars,
  };
}

/**
 * The usage a provider's answer reports, read from its own fields (before any translation), or
 * null when it reports none. Never throws: an answer whose other fields are malformed still says
 * what it cost (handle-call.ts charges it to the failed call).
 */
export function answerUsage(
  endpoint: Endpoint,
  upstream: Dialect,
  json: Record<string, unknown>,
): CallUsage | null {
  if (endpoint === "count_tokens") return NO_USAGE;
  const usage = json.usage;
  if (!usage || typeof usage !== "object") return null;
  try {
    if (endpoint === "embeddings") return usageFromEmbeddings(usage);
    if (isNative(endpoint, upstream)) return usageFromResponses(usage);
    return upstream === "openai"
      ? usageFromOpenAi(usage as OpenAiUsage)
      : usageFromAnthropic(usage as AnthropicUsage);
  } catch {
    return null;
  }
}

/** An endpoint the provider serves in the caller's own dialect: its answer goes as it came. */
function isNative(
  endpoint: Endpoint,
  upstream: Dialect,
): endpoint is "responses" | "embeddings" | "count_tokens" {
  return (
    (endpoint === "responses" && upstream === "openai") ||
    endpoint === "embeddings" ||
    endpoint === "count_tokens"
  );
}

/** What an answer of an endpoint only its own dialect serves says about its end. */
function nativeAnswer(
  endpoint: "responses" | "embeddings" | "count_tokens",
  json: Record<string, unknown>,
): Pick<JsonAnswer, "finishReasons" | "outputChars"> {
  if (endpoint !== "responses") return { finishReasons: [], outputChars: 0 };
  const status = typeof json.status === "string" ? [json.status] : [];
  return { finishReasons: status, outputChars: JSON.stringify(json.output ?? []).length };
}

/**
 * A rough count for providers that report no usage: the input as `inputTokenEstimate` makes
 * it, the output at about four characters a token.
 */
export function estimatedUsage(request: SizedRequest, outputChars: number): CallUsage {
  return {
    input: inputTokenEstimate(request.bodyBytes, request.body),
    output: roughTokens(outputChars),
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
  request: SizedRequest,
): { usage: CallUsage; estimated: boolean } {
  if (!end.usage) return { usage: estimatedUsage(request, end.outputChars), estimated: true };
  const output = roughTokens(end.outputChars);
  if (end.outcome === "ok" || end.usage.output >= output)
    return { usage: end.usage, estimated: false };
  return { usage: { ...end.usage, output }, estimated: true };
}
