import type { SettleRequest } from "../admission";
import { type CallUsage, NO_USAGE } from "../dialects/usage";
import { costOf, type Prices } from "../pricing/prices";

/** A failed try the call is charged for: where it is in `attempts`, its tokens and its cost. */
export interface ChargedTry {
  attempt: number;
  provider: string;
  model: string;
  usage: CallUsage;
  /** null: its model has no price (unpriced, not $0). */
  cost: number | null;
}

/** What a settled call is charged. */
export interface CallCharge {
  /** The answer's tokens and the billed tries', summed. */
  usage: CallUsage;
  /** Input and output tokens: what token budgets and rate limits count. */
  tokens: number;
  /** USD of the parts that have a price. */
  usd: number;
  /** Some charged part has no price: the call's cost is not known (not $0). */
  unpriced: boolean;
  /** Of `usd`, the answer's (null: unpriced). */
  answerCost: number | null;
  tries: ChargedTry[];
}

/**
 * What a call is charged: the answer's usage at its provider's price, and every try that failed
 * after its provider reported usage (billed by that provider) at that try's price. A cache hit
 * is charged nothing.
 */
export function chargeOf(prices: Prices | null, req: SettleRequest): CallCharge {
  if (req.cacheHit)
    return {
      usage: req.usage ?? NO_USAGE,
      tokens: 0,
      usd: 0,
      unpriced: false,
      answerCost: 0,
      tries: [],
    };
  const tries = (req.billed ?? []).flatMap(({ attempt, usage }): ChargedTry[] => {
    const tried = req.attempts[attempt];
    if (!tried) return [];
    const { provider, model } = tried;
    return [{ attempt, provider, model, usage, cost: costOf(prices, provider, model, usage) }];
  });
  // A call nothing answered costs nothing, or is unpriced: a model without a price is never $0.
  const answerCost =
    req.provider === null || req.model === null
      ? 0
      : costOf(prices, req.provider, req.model, req.usage ?? NO_USAGE);
  let usage = req.usage ?? NO_USAGE;
  for (const tried of tries)
    usage = {
      input: usage.input + tried.usage.input,
      output: usage.output + tried.usage.output,
      cacheRead: usage.cacheRead + tried.usage.cacheRead,
      cacheWrite: usage.cacheWrite + tried.usage.cacheWrite,
    };
  const costs = [answerCost, ...tries.map((t) => t.cost)];
  return {
    usage,
    tokens: usage.input + usage.output,
    usd: costs.reduce<number>((sum, cost) => sum + (cost ?? 0), 0),
    unpriced: costs.includes(null),
    answerCost,
    tries,
  };
}
