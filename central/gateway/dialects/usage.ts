import type { CreateEmbeddingResponse } from "openai/resources/embeddings";
import type { ResponseUsage } from "openai/resources/responses/responses";
import type { AnthropicUsage } from "./anthropic";
import type { OpenAiUsage } from "./openai";

/** Token counts of one call, whatever the dialect: `input` includes cached input. */
export interface CallUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** Of the cache writes, those to the one-hour cache (priced apart). */
  cacheWrite1h?: number;
}

/**
 * No call reads or writes two billion tokens: an upstream that says so is wrong, and its count
 * taken as is would charge the budget what the event log cannot record (its counts are safe
 * integers), so the ledger and the log would disagree. Test: test/central/gateway/dialects/usage.test.ts.
 */
export const MAX_CALL_TOKENS = 2_147_483_647;

const n = (v: unknown) =>
  typeof v === "number" && Number.isFinite(v) && v > 0
    ? Math.min(Math.round(v), MAX_CALL_TOKENS)
    : 0;

/** OpenAI's prompt_tokens already include the cached ones. */
export function usageFromOpenAi(u: OpenAiUsage): CallUsage {
  return {
    input: n(u.prompt_tokens),
    output: n(u.completion_tokens),
    cacheRead: n(u.prompt_tokens_details?.cached_tokens),
    cacheWrite: 0,
  };
}

/** OpenAI Responses: input_tokens include the cached ones. */
export function usageFromResponses(u: Partial<ResponseUsage>): CallUsage {
  return {
    input: n(u.input_tokens),
    output: n(u.output_tokens),
    cacheRead: n(u.input_tokens_details?.cached_tokens),
    cacheWrite: 0,
  };
}

/** OpenAI Embeddings: input only. */
export function usageFromEmbeddings(u: Partial<CreateEmbeddingResponse.Usage>): CallUsage {
  return { input: n(u.prompt_tokens), output: 0, cacheRead: 0, cacheWrite: 0 };
}

/** What counting tokens spends: nothing. */
export const NO_USAGE: CallUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

/** Anthropic's input_tokens exclude cache reads and writes. */
export function usageFromAnthropic(u: Partial<AnthropicUsage>): CallUsage {
  const cacheRead = n(u.cache_read_input_tokens);
  const cacheWrite = n(u.cache_creation_input_tokens);
  const hour = Math.min(cacheWrite, n(u.cache_creation?.ephemeral_1h_input_tokens));
  return {
    input: n(u.input_tokens) + cacheRead + cacheWrite,
    output: n(u.output_tokens),
    cacheRead,
    cacheWrite,
    ...(hour ? { cacheWrite1h: hour } : {}),
  };
}

export function usageToOpenAi(u: CallUsage): OpenAiUsage {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    ...(u.cacheRead ? { prompt_tokens_details: { cached_tokens: u.cacheRead } } : {}),
  };
}

/** Responses usage: input_tokens include the cached ones (reads and writes). */
export function usageToResponses(u: CallUsage): ResponseUsage {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cacheRead, cache_write_tokens: u.cacheWrite },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input + u.output,
  };
}

export function usageToAnthropic(u: CallUsage): AnthropicUsage {
  return {
    input_tokens: Math.max(0, u.input - u.cacheRead - u.cacheWrite),
    output_tokens: u.output,
    ...(u.cacheRead ? { cache_read_input_tokens: u.cacheRead } : {}),
    ...(u.cacheWrite ? { cache_creation_input_tokens: u.cacheWrite } : {}),
  };
}
