import type { ModelPrice, PriceTable } from "../../../contract";
import type { CallUsage } from "../dialects/usage";

export type Prices = PriceTable;

/** A model's price: by `provider/model` first, then by its bare id; null when unpriced. */
export function priceOf(prices: Prices | null, provider: string, model: string): ModelPrice | null {
  if (!prices) return null;
  return prices.models[`${provider}/${model}`] ?? prices.models[model] ?? null;
}

/**
 * USD for a call's usage, or null when the model has no known price (unpriced, never $0).
 * Prices are per million tokens; cached input is charged at the cache prices, which default to
 * the input price when the table gives none.
 */
export function costOf(
  prices: Prices | null,
  provider: string,
  model: string,
  usage: CallUsage,
): number | null {
  const price = priceOf(prices, provider, model);
  if (!price) return null;
  const uncached = Math.max(0, usage.input - usage.cacheRead - usage.cacheWrite);
  const micro =
    uncached * price.input +
    usage.cacheRead * (price.cache_read ?? price.input) +
    usage.cacheWrite * (price.cache_write ?? price.input) +
    usage.output * price.output;
  return micro / 1_000_000;
}

/**
 * The most a call of this size can cost on this model: every input token at the dearest input
 * price (a cache write can cost more than plain input), every output token at the output price.
 */
export function estimateCost(
  prices: Prices | null,
  provider: string,
  model: string,
  tokens: { input: number; output: number },
): number | null {
  const price = priceOf(prices, provider, model);
  if (!price) return null;
  const input = Math.max(price.input, price.cache_read ?? 0, price.cache_write ?? 0);
  return (tokens.input * input + tokens.output * price.output) / 1_000_000;
}
