import { check, GatewayModelList, PATHS } from "../../contract";

/** What pi is told of a gateway model whose limits central does not know. */
export const DEFAULT_LIMITS = { contextWindow: 128_000, maxTokens: 16_384 };

export interface ModelLimits {
  contextWindow: number;
  maxTokens: number;
}

/**
 * The context window and output limit central's gateway reports for a model or alias
 * (`GET /v1/models`, from the tenant's price table), so a run's context is sized to the models
 * the alias may route to; the defaults when the gateway knows none or cannot be asked in time
 * (the run then starts as it would have, and central's absence is handled where it is used).
 */
export async function gatewayLimits(
  gateway: { url: string; key: string },
  model: string,
  timeoutMs = 2_000,
): Promise<ModelLimits> {
  try {
    const response = await fetch(`${gateway.url.replace(/\/+$/, "")}${PATHS.models}`, {
      headers: { authorization: `Bearer ${gateway.key}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return DEFAULT_LIMITS;
    }
    const parsed = check(GatewayModelList, await response.json());
    const found = parsed.ok ? parsed.value.data.find((m) => m.id === model) : undefined;
    return {
      contextWindow: found?.context_window ?? DEFAULT_LIMITS.contextWindow,
      maxTokens: found?.max_output_tokens ?? DEFAULT_LIMITS.maxTokens,
    };
  } catch {
    return DEFAULT_LIMITS;
  }
}
