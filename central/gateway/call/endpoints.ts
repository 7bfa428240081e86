import type { z } from "zod";
import type { ModelCall } from "../../../contract";
import { CACHE_POLICIES, type CachePolicy } from "../cache/cache-key";
import { AnthropicCountTokensRequest, AnthropicMessagesRequest } from "../dialects/anthropic";
import type { Dialect, Wire } from "../dialects/errors";
import {
  OpenAiChatRequest,
  OpenAiEmbeddingsRequest,
  OpenAiResponsesRequest,
} from "../dialects/openai";

/** The model endpoints the gateway serves, each through the same admission, limits and events. */
export type Endpoint = "chat" | "messages" | "responses" | "embeddings" | "count_tokens";

export interface EndpointSpec {
  /** The caller's dialect: errors are answered in it. */
  dialect: Dialect;
  schema: z.ZodType;
  /** Providers of this dialect take the request as it is; null: either, translated. */
  native: Dialect | null;
  /** How its streams are read and relayed (endpoints that never stream: their dialect). */
  wire: Wire;
  /** The request field with the caller's output cap; null: the call generates no tokens. */
  outputField: "max_tokens" | "max_output_tokens" | null;
  /** What of it the response cache may answer (cache/cache-key.ts); null: nothing. */
  cache: CachePolicy | null;
  operation: ModelCall["operation"];
}

export const ENDPOINTS: Record<Endpoint, EndpointSpec> = {
  chat: {
    dialect: "openai",
    schema: OpenAiChatRequest,
    native: null,
    wire: "openai",
    outputField: "max_tokens",
    cache: CACHE_POLICIES.chat,
    operation: "chat",
  },
  messages: {
    dialect: "anthropic",
    schema: AnthropicMessagesRequest,
    native: null,
    wire: "anthropic",
    outputField: "max_tokens",
    cache: CACHE_POLICIES.messages,
    operation: "chat",
  },
  responses: {
    dialect: "openai",
    schema: OpenAiResponsesRequest,
    // Anthropic providers take a stateless one too, translated (translate/responses-*.ts).
    native: "openai",
    wire: "responses",
    outputField: "max_output_tokens",
    cache: CACHE_POLICIES.responses,
    operation: "chat",
  },
  embeddings: {
    dialect: "openai",
    schema: OpenAiEmbeddingsRequest,
    native: "openai",
    wire: "openai",
    outputField: null,
    cache: CACHE_POLICIES.embeddings,
    operation: "embeddings",
  },
  count_tokens: {
    dialect: "anthropic",
    schema: AnthropicCountTokensRequest,
    native: "anthropic",
    wire: "anthropic",
    outputField: null,
    // Free, and a call the cache may answer goes to the tenant object instead of using a lease.
    cache: null,
    operation: "count_tokens",
  },
};
