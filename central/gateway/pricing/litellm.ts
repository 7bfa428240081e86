import type { ModelPrice, PriceTable } from "../../../contract";

/**
 * Prices from LiteLLM's maintained catalogue (`model_prices_and_context_window.json`): USD per
 * token by model, with long-context tiers (`…_above_200k_tokens`), one-hour cache writes
 * (`…_above_1hr`) and the model's context window and output limit.
 */

type Entry = Record<string, unknown>;

const RATE_FIELDS = {
  input: "input_cost_per_token",
  output: "output_cost_per_token",
  cache_read: "cache_read_input_token_cost",
  cache_write: "cache_creation_input_token_cost",
  cache_write_1h: "cache_creation_input_token_cost_above_1hr",
} as const;

const TIER = /^(.+)_above_(\d+)k_tokens$/;

/** USD per token as USD per million, without float noise (3e-6 is 3, not 2.9999999999999996). */
const perMillion = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0
    ? Number((value * 1_000_000).toPrecision(12))
    : undefined;

const positiveInt = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;

function priceOfEntry(entry: Entry): ModelPrice | null {
  const input = perMillion(entry[RATE_FIELDS.input]);
  const output = perMillion(entry[RATE_FIELDS.output]);
  if (input === undefined || output === undefined) return null;
  const price: ModelPrice = { input, output };
  const cacheRead = perMillion(entry[RATE_FIELDS.cache_read]);
  const cacheWrite = perMillion(entry[RATE_FIELDS.cache_write]);
  const cacheWrite1h = perMillion(entry[RATE_FIELDS.cache_write_1h]);
  if (cacheRead !== undefined) price.cache_read = cacheRead;
  if (cacheWrite !== undefined) price.cache_write = cacheWrite;
  if (cacheWrite1h !== undefined) price.cache_write_1h = cacheWrite1h;
  const tiers = new Map<number, Partial<Record<keyof typeof RATE_FIELDS, number>>>();
  for (const [field, value] of Object.entries(entry)) {
    const match = TIER.exec(field);
    const rate = perMillion(value);
    if (!match || rate === undefined) continue;
    const name = (Object.keys(RATE_FIELDS) as (keyof typeof RATE_FIELDS)[]).find(
      (key) => RATE_FIELDS[key] === match[1],
    );
    if (!name) continue;
    const above = Number(match[2]) * 1_000;
    tiers.set(above, { ...tiers.get(above), [name]: rate });
  }
  const complete = [...tiers]
    .sort(([a], [b]) => a - b)
    // A tier without its own input or output price would leave them unknown: take the base.
    .map(([above, rates]) => ({
      above,
      ...rates,
      input: rates.input ?? input,
      output: rates.output ?? output,
    }))
    .slice(0, 8);
  if (complete.length) price.tiers = complete;
  const window = positiveInt(entry.max_input_tokens);
  const maxOutput = positiveInt(entry.max_output_tokens);
  if (window !== undefined) price.context_window = window;
  if (maxOutput !== undefined) price.max_output_tokens = maxOutput;
  return price;
}

/** A model a tenant's provider serves, which the table should price. */
export interface ServedModel {
  provider: string;
  /** The catalogue's prefix for this provider's models (`anthropic`, `azure`, ...), if any. */
  catalogue: string | null;
  model: string;
}

/**
 * The price table for `version` from a LiteLLM catalogue, for the models the tenant's providers
 * serve: a model found under its bare id is priced by that id (for every provider serving it),
 * one found only under its provider's prefix (`azure/gpt-4o`) by `provider/model`. Entries
 * without an input and an output price (images, audio by the second) are left out.
 */
export function pricesFromLiteLlm(
  catalogue: Record<string, unknown>,
  version: string,
  served: ServedModel[],
): { prices: PriceTable; missing: string[] } {
  const models: Record<string, ModelPrice> = {};
  const missing: string[] = [];
  const entry = (key: string) => {
    const found = catalogue[key];
    return found && typeof found === "object" ? priceOfEntry(found as Entry) : null;
  };
  for (const { provider, catalogue: prefix, model } of served) {
    const bare = entry(model);
    const prefixed = prefix ? entry(`${prefix}/${model}`) : null;
    if (bare) models[model] = bare;
    else if (prefixed) models[`${provider}/${model}`] = prefixed;
    else missing.push(`${provider}/${model}`);
  }
  return { prices: { version, models }, missing };
}
