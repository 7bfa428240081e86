import { z } from "zod";
import { AppName, NonNegInt, NonNegNumber } from "../primitives";

/**
 * The provider name edge agents give central's gateway. A call through the gateway is observed
 * twice: by the edge (`observer: "edge"`, this provider, the client side: no price) and by the
 * gateway (`observer: "gateway"`, the real provider, model and cost). Cost rollups count the
 * gateway's observation.
 */
export const GATEWAY_PROVIDER = "auraison";

/** The most upstream tries a model call lists (a chain may make more). */
export const MAX_LISTED_ATTEMPTS = 32;

/** One upstream try within a model call: the retry and fallback chain, in order. */
export const ModelAttempt = z.object({
  provider: z.string().min(1).max(100),
  model: z.string().min(1).max(200),
  outcome: z.enum(["ok", "error", "skipped"]),
  error_type: z.string().max(100).nullable().describe("e.g. 429, 500, timeout, circuit_open"),
  http_status: z.number().int().min(100).max(599).nullable(),
  latency_ms: NonNegInt,
  // A try that failed after its provider reported usage (an Anthropic stream reports its input
  // at its start) was billed by the provider, so the call is charged for it too.
  input_tokens: NonNegInt.optional().describe(
    "tokens a failed try's provider reported (and bills) before it failed; absent: none",
  ),
  output_tokens: NonNegInt.optional(),
  cache_read_tokens: NonNegInt.optional(),
  cache_write_tokens: NonNegInt.optional(),
  cost_usd: NonNegNumber.nullable()
    .optional()
    .describe("what a failed try's reported tokens cost; null: unpriced"),
});
export type ModelAttempt = z.infer<typeof ModelAttempt>;

/** A candidate the gateway's router considered, and why it was kept or dropped. */
export const RouteCandidate = z.object({
  provider: z.string().min(1).max(100),
  model: z.string().min(1).max(200),
  kept: z.boolean(),
  reason: z
    .string()
    .max(300)
    .describe("e.g. `circuit open`, `est. $0.0021`, `over the run budget`"),
  est_cost_usd: NonNegNumber.nullable().describe("upper bound for this call; null: unpriced"),
  latency_ms: NonNegNumber.nullable().describe("observed moving average"),
  error_rate: z.number().min(0).max(1).nullable(),
});
export type RouteCandidate = z.infer<typeof RouteCandidate>;

/** How the gateway picked the model: the rule that matched, every candidate, the choice and why. */
export const ModelRoute = z.object({
  requested: z.string().max(200).describe("the model name the caller asked for"),
  rule: z.string().max(64).nullable().describe("the routing rule that matched, if any"),
  alias: z.string().max(100).nullable(),
  strategy: z.enum(["ordered", "cost", "latency", "direct"]),
  candidates: z.array(RouteCandidate).max(32),
  chosen: z.object({ provider: z.string().max(100), model: z.string().max(200) }).nullable(),
  reason: z.string().max(500),
});
export type ModelRoute = z.infer<typeof ModelRoute>;

/**
 * One model invocation, shaped to map 1:1 onto an OpenTelemetry GenAI inference span
 * (see contract/README.md for the attribute mapping).
 */
export const ModelCall = z.object({
  call_id: z.string().min(1).max(128),
  operation: z
    .enum(["chat", "text_completion", "generate_content", "embeddings", "count_tokens"])
    .default("chat"),
  provider: z.string().min(1).max(100),
  request_model: z.string().min(1).max(200),
  response_model: z.string().max(200).nullable(),
  alias: z.string().max(100).nullable().describe("the alias the caller asked for, e.g. `fast`"),
  response_id: z.string().max(200).nullable(),
  finish_reasons: z.array(z.string().max(64)).max(16).default([]),
  stream: z.boolean(),
  input_tokens: NonNegInt.describe(
    "every prompt token, cached ones included; cache_read_tokens and cache_write_tokens say how many of them went through the provider's cache. The four token counts and cost_usd are what the call was charged: a failed try's billed tokens (see attempts) included",
  ),
  output_tokens: NonNegInt,
  cache_read_tokens: NonNegInt.default(0),
  cache_write_tokens: NonNegInt.default(0),
  cost_usd: NonNegNumber.nullable().describe(
    "null: no known price for this model (unpriced, not $0)",
  ),
  latency_ms: NonNegInt,
  ttft_ms: NonNegInt.nullable().describe("time to first token/chunk; null when not streamed"),
  cache_hit: z.boolean().default(false).describe("served from the gateway's response cache"),
  attempts: z.array(ModelAttempt).max(MAX_LISTED_ATTEMPTS).default([]),
  error_type: z.string().max(100).nullable().default(null),
  observer: z
    .enum(["edge", "gateway"])
    .describe("who measured it: the edge harness or central's gateway"),
  scripted: z
    .boolean()
    .default(false)
    .describe("true for the offline scripted model: not a real model"),
  route: ModelRoute.nullable().optional().describe("the gateway's routing decision"),
  price_version: z.string().max(64).nullable().optional().describe("the cost table used"),
  usage_estimated: z
    .boolean()
    .optional()
    .describe("true: the provider reported no usage; tokens are the gateway's estimate"),
  app: AppName.nullable().optional(),
  intent_type: z.string().max(128).nullable().optional(),
  tags: z.array(z.string().max(64)).max(32).optional(),
  key_id: z.string().max(64).nullable().optional().describe("the API key that made the call"),
  gateway_call_id: z
    .string()
    .max(128)
    .nullable()
    .optional()
    .describe(
      "on the edge's observation of a call through central's gateway: the gateway's call_id (its `x-auraison-call-id` answer header), which joins the two observations so the call counts once",
    ),
  gateway_ms: NonNegNumber.nullable()
    .optional()
    .describe("time the gateway itself added (latency minus upstream waits)"),
});
export type ModelCall = z.infer<typeof ModelCall>;
