import { z } from "zod";
import { NonNegInt, NonNegNumber } from "../primitives";

/** One upstream try within a model call: the retry and fallback chain, in order. */
export const ModelAttempt = z.object({
  provider: z.string().min(1).max(100),
  model: z.string().min(1).max(200),
  outcome: z.enum(["ok", "error", "skipped"]),
  error_type: z.string().max(100).nullable().describe("e.g. 429, 500, timeout, circuit_open"),
  http_status: z.number().int().min(100).max(599).nullable(),
  latency_ms: NonNegInt,
});
export type ModelAttempt = z.infer<typeof ModelAttempt>;

/**
 * One model invocation, shaped to map 1:1 onto an OpenTelemetry GenAI inference span
 * (see contract/README.md for the attribute mapping).
 */
export const ModelCall = z.object({
  call_id: z.string().min(1).max(128),
  operation: z.enum(["chat", "text_completion", "generate_content", "embeddings"]).default("chat"),
  provider: z.string().min(1).max(100),
  request_model: z.string().min(1).max(200),
  response_model: z.string().max(200).nullable(),
  alias: z.string().max(100).nullable().describe("the alias the caller asked for, e.g. `fast`"),
  response_id: z.string().max(200).nullable(),
  finish_reasons: z.array(z.string().max(64)).max(16).default([]),
  stream: z.boolean(),
  input_tokens: NonNegInt,
  output_tokens: NonNegInt,
  cache_read_tokens: NonNegInt.default(0),
  cache_write_tokens: NonNegInt.default(0),
  cost_usd: NonNegNumber.nullable().describe(
    "null: no known price for this model (unpriced, not $0)",
  ),
  latency_ms: NonNegInt,
  ttft_ms: NonNegInt.nullable().describe("time to first token/chunk; null when not streamed"),
  cache_hit: z.boolean().default(false).describe("served from the gateway's response cache"),
  attempts: z.array(ModelAttempt).max(32).default([]),
  error_type: z.string().max(100).nullable().default(null),
  observer: z
    .enum(["edge", "gateway"])
    .describe("who measured it: the edge harness or central's gateway"),
  scripted: z
    .boolean()
    .default(false)
    .describe("true for the offline scripted model: not a real model"),
});
export type ModelCall = z.infer<typeof ModelCall>;
