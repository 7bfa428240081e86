import type { z } from "zod";
import type { ModelCall } from "../../../contract";
import { isDeterministic, isReplayableResponse } from "../cache/cache-key";
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
  /** Whether a request's answer may be replayed from the response cache; null: never. */
  replayable: ((body: Record<string, unknown>) => boolean) | null;
  operation: ModelCall["operation"];
}

export const ENDPOINTS: Record<Endpoint, EndpointSpec> = {
  chat: {
    dialect: "openai",
    schema: OpenAiChatRequest,
    native: null,
    wire: "openai",
    outputField: "max_tokens",
    replayable: isDeterministic,
    operation: "chat",
  },
  messages: {
    dialect: "anthropic",
    schema: AnthropicMessagesRequest,
    native: null,
    wire: "anthropic",
    outputField: "max_tokens",
    replayable: isDeterministic,
    operation: "chat",
  },
  responses: {
    dialect: "openai",
    schema: OpenAiResponsesRequest,
    // Anthropic providers take a stateless one too, translated (translate/responses-*.ts).
    native: "openai",
    wire: "responses",
    outputField: "max_output_tokens",
    replayable: isReplayableResponse,
    operation: "chat",
  },
  embeddings: {
    dialect: "openai",
    schema: OpenAiEmbeddingsRequest,
    native: "openai",
    wire: "openai",
    outputField: null,
    // No sampling: the same input always has the same vectors.
    replayable: () => true,
    operation: "embeddings",
  },
  count_tokens: {
    dialect: "anthropic",
    schema: AnthropicCountTokensRequest,
    native: "anthropic",
    wire: "anthropic",
    outputField: null,
    // Free and answered at once: a lookup in the tenant object would cost more than it saves.
    replayable: null,
    operation: "count_tokens",
  },
};
