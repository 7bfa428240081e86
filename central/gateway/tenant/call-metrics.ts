import type { ProviderKind } from "../../../contract";
import {
  GATEWAY_CALLS,
  GATEWAY_COST,
  GEN_AI_DURATION,
  GEN_AI_TIME_TO_FIRST_CHUNK,
  GEN_AI_TOKEN_USAGE,
} from "../../metrics/instruments";
import type { MetricRecorder } from "../../metrics/recorder";
import type { SettleRequest } from "../admission";
import type { CallCharge } from "./call-charge";

/**
 * OpenTelemetry's `gen_ai.provider.name` for a provider kind: its well-known value where there
 * is one, else the kind itself (the convention's rule for providers it does not list).
 */
const GEN_AI_PROVIDER: Partial<Record<ProviderKind, string>> = {
  openai: "openai",
  anthropic: "anthropic",
};

/** A model the upstream reported is the provider's string: kept, but bounded. */
const MAX_MODEL_LABEL = 128;

/** What the gateway's calls add to the tenant's metrics (metrics/instruments.ts). */
export class CallMetrics {
  constructor(private readonly metrics: MetricRecorder) {}

  /** A call that went out (or was answered from the cache). */
  settled(req: SettleRequest, kind: ProviderKind | null, charge: CallCharge): void {
    const provider = req.provider ?? "";
    const model = req.model ?? "";
    const outcome = req.cacheHit
      ? "cache_hit"
      : req.outcome === "ok"
        ? "ok"
        : (req.errorType ?? req.outcome);
    this.metrics.add(GATEWAY_CALLS, { provider, model, outcome }, 1);
    if (charge.answerCost) this.metrics.add(GATEWAY_COST, { provider, model }, charge.answerCost);
    // A failed try's billed tokens cost its own provider's money.
    for (const tried of charge.tries)
      if (tried.cost)
        this.metrics.add(
          GATEWAY_COST,
          { provider: tried.provider, model: tried.model },
          tried.cost,
        );
    // The GenAI metrics describe operations on a provider: a cache hit or a call no provider
    // took is not one.
    if (req.cacheHit || req.provider === null || req.model === null || kind === null) return;
    const attributes = {
      gen_ai_operation_name: "chat",
      gen_ai_provider_name: GEN_AI_PROVIDER[kind] ?? kind,
      gen_ai_request_model: req.model,
      ...(req.responseModel
        ? { gen_ai_response_model: req.responseModel.slice(0, MAX_MODEL_LABEL) }
        : {}),
      provider,
    };
    this.metrics.observe(
      GEN_AI_DURATION,
      req.outcome === "ok"
        ? attributes
        : { ...attributes, error_type: req.errorType ?? req.outcome },
      req.latencyMs / 1000,
    );
    if (req.stream && req.ttftMs !== null)
      this.metrics.observe(GEN_AI_TIME_TO_FIRST_CHUNK, attributes, req.ttftMs / 1000);
    if (req.usage && req.outcome === "ok")
      for (const [type, tokens] of [
        ["input", req.usage.input],
        ["output", req.usage.output],
      ] as const)
        this.metrics.observe(
          GEN_AI_TOKEN_USAGE,
          { ...attributes, gen_ai_token_type: type },
          tokens,
        );
  }

  /** A call the gateway refused before any provider was asked. */
  refused(provider: string | null, model: string | null, code: string): void {
    this.metrics.add(
      GATEWAY_CALLS,
      { provider: provider ?? "", model: provider === null ? "" : (model ?? ""), outcome: code },
      1,
    );
  }
}
