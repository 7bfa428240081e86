import { MAX_LISTED_ATTEMPTS, type ModelAttempt } from "../../../contract";
import type { ChargedTry } from "./call-charge";

const LISTED = MAX_LISTED_ATTEMPTS;
/** Of them, charged tries: the first and the last try always fit beside them. */
const LISTED_CHARGED = LISTED - 2;

/**
 * A call's attempts as its `model_call` event lists them: each charged try with its tokens and
 * cost. A chain can make more tries than an event lists: the charged ones go first (the event's
 * totals include them; past 30 they are in the totals alone), then the first and the last try
 * (the answering one), then the others in order.
 */
export function listedAttempts(
  attempts: readonly ModelAttempt[],
  tries: readonly ChargedTry[],
  round: (n: number) => number,
): ModelAttempt[] {
  const charged = new Map(tries.map((t) => [t.attempt, t]));
  const keep = new Set([...charged.keys()].slice(0, LISTED_CHARGED));
  const last = attempts.length - 1;
  for (const i of [0, last]) if (i >= 0 && keep.size < LISTED) keep.add(i);
  for (let i = 0; i < attempts.length && keep.size < LISTED; i++) keep.add(i);
  return attempts.flatMap((attempt, i) => {
    if (!keep.has(i)) return [];
    const tried = charged.get(i);
    if (!tried) return [attempt];
    return [
      {
        ...attempt,
        input_tokens: tried.usage.input,
        output_tokens: tried.usage.output,
        cache_read_tokens: tried.usage.cacheRead,
        cache_write_tokens: tried.usage.cacheWrite,
        cost_usd: tried.cost === null ? null : round(tried.cost),
      },
    ];
  });
}
