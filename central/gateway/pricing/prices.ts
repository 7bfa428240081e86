import { type ModelPrice, own, type PriceTable } from "../../../contract";
import type { CallUsage } from "../dialects/usage";

export type Prices = PriceTable;

/** A model's price: by `provider/model` first, then by its bare id; null when unpriced. */
export function priceOf(prices: Prices | null, provider: string, model: string): ModelPrice | null {
  if (!prices) return null;
  return own(prices.models, `${provider}/${model}`) ?? own(prices.models, model) ?? null;
}

type Rates = Omit<ModelPrice, "tiers" | "context_window" | "max_output_tokens">;

/** The rates of a call with this many input tokens: the highest tier it is above, else the base. */
function ratesFor(price: ModelPrice, inputTokens: number): Rates {
  let rates: Rates = price;
  let floor = 0;
  for (const tier of price.tiers ?? [])
    if (inputTokens > tier.above && tier.above >= floor) {
      rates = tier;
      floor = tier.above;
    }
  return rates;
}

/**
 * USD for a call's usage, or null when the model has no known price (unpriced, never $0).
 * Prices are per million tokens, at the long-context tier the call's input reaches; cached
 * input is charged at the cache prices (one-hour writes at theirs), which default to the input
 * price when the table gives none.
 */
export function costOf(
  prices: Prices | null,
  provider: string,
  model: string,
  usage: CallUsage,
): number | null {
  const price = priceOf(prices, provider, model);
  if (!price) return null;
  const rates = ratesFor(price, usage.input);
  const uncached = Math.max(0, usage.input - usage.cacheRead - usage.cacheWrite);
  const hour = Math.min(usage.cacheWrite1h ?? 0, usage.cacheWrite);
  const write = rates.cache_write ?? rates.input;
  const micro =
    uncached * rates.input +
    usage.cacheRead * (rates.cache_read ?? rates.input) +
    (usage.cacheWrite - hour) * write +
    hour * (rates.cache_write_1h ?? write) +
    usage.output * rates.output;
  return micro / 1_000_000;
}

/**
 * The most a call of this size can cost on this model: every input token at the dearest input
 * price (a cache write can cost more than plain input), every output token at the output price,
 * both at the tier its input reaches (a smaller real input can only reach a cheaper one).
 */
export function estimateCost(
  prices: Prices | null,
  provider: string,
  model: string,
  tokens: { input: number; output: number },
): number | null {
  const price = priceOf(prices, provider, model);
  if (!price) return null;
  const rates = ratesFor(price, tokens.input);
  const input = Math.max(
    rates.input,
    rates.cache_read ?? 0,
    rates.cache_write ?? 0,
    rates.cache_write_1h ?? 0,
  );
  return (tokens.input * input + tokens.output * rates.output) / 1_000_000;
}
