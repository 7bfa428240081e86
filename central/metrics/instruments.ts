/**
 * The metrics central records as they happen (the rest of /metrics is read from state). Names
 * and units follow Prometheus conventions (base units, `_total` on counters); the model calls'
 * are OpenTelemetry's GenAI client metrics as OpenTelemetry's Prometheus translation names them
 * (`gen_ai.client.operation.duration` in seconds → `gen_ai_client_operation_duration_seconds`,
 * `gen_ai.client.token.usage` in `{token}` → `gen_ai_client_token_usage`), with their
 * attributes as labels and their recommended bucket boundaries.
 */

export interface CounterSpec<L extends string = string> {
  kind: "counter";
  name: string;
  help: string;
  labels: readonly L[];
}

export interface HistogramSpec<L extends string = string> {
  kind: "histogram";
  name: string;
  help: string;
  labels: readonly L[];
  bounds: readonly number[];
}

/** OpenTelemetry GenAI's ExplicitBucketBoundaries for durations, in seconds. */
const GEN_AI_SECONDS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** OpenTelemetry GenAI's ExplicitBucketBoundaries for token counts. */
const GEN_AI_TOKENS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** The attributes of a GenAI client metric, as Prometheus labels, plus the configured provider. */
const GEN_AI_LABELS = [
  "gen_ai_operation_name",
  "gen_ai_provider_name",
  "gen_ai_request_model",
  "gen_ai_response_model",
  "provider",
] as const;

export const DISPATCH_LATENCY: HistogramSpec<"app" | "dispatch"> = {
  kind: "histogram",
  name: "auraison_run_dispatch_latency_seconds",
  help: "Time a run waited in central's queue until it was dispatched to an edge agent: a first attempt from its creation, a retry from the end of its backoff.",
  labels: ["app", "dispatch"],
  bounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
};

export const GEN_AI_DURATION: HistogramSpec<(typeof GEN_AI_LABELS)[number] | "error_type"> = {
  kind: "histogram",
  name: "gen_ai_client_operation_duration_seconds",
  help: "GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration): the gateway's model calls, from the first upstream attempt to the last byte.",
  labels: [...GEN_AI_LABELS, "error_type"],
  bounds: GEN_AI_SECONDS,
};

export const GEN_AI_TIME_TO_FIRST_CHUNK: HistogramSpec<(typeof GEN_AI_LABELS)[number]> = {
  kind: "histogram",
  name: "gen_ai_client_operation_time_to_first_chunk_seconds",
  help: "Time to the first chunk of a streamed model call (OpenTelemetry gen_ai.client.operation.time_to_first_chunk).",
  labels: GEN_AI_LABELS,
  bounds: GEN_AI_SECONDS,
};

export const GEN_AI_TOKEN_USAGE: HistogramSpec<
  (typeof GEN_AI_LABELS)[number] | "gen_ai_token_type"
> = {
  kind: "histogram",
  name: "gen_ai_client_token_usage",
  help: "Tokens per model call by type, input or output (OpenTelemetry gen_ai.client.token.usage); the sum is the tokens used.",
  labels: [...GEN_AI_LABELS, "gen_ai_token_type"],
  bounds: GEN_AI_TOKENS,
};

export const GATEWAY_CALLS: CounterSpec<"provider" | "model" | "outcome"> = {
  kind: "counter",
  name: "auraison_gateway_calls_total",
  help: "Calls to the model gateway by the provider and model that answered (empty when none did) and outcome: ok, cache_hit, or the error code.",
  labels: ["provider", "model", "outcome"],
};

export const GATEWAY_COST: CounterSpec<"provider" | "model"> = {
  kind: "counter",
  name: "auraison_gateway_cost_usd_total",
  help: "What the gateway's model calls cost, in US dollars, by the tenant's price table (unpriced calls add nothing).",
  labels: ["provider", "model"],
};
