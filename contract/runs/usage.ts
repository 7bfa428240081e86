import { GATEWAY_PROVIDER, type ModelCall } from "../events/model-call";
import type { Usage } from "../primitives";

/**
 * What a run consumed, in a form a count can be taken back from: an edge's provisional count of
 * a gateway call is replaced when the gateway's own observation arrives, and an unpriced call
 * must stop making the total unpriced when it is replaced by a priced one.
 */
export interface Consumption {
  tokens_in: number;
  tokens_out: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** Sum over the priced calls. */
  priced_usd: number;
  /** Calls counted without a known price: while there is one, the cost is unknown (null). */
  unpriced_calls: number;
  model_calls: number;
  tool_calls: number;
}

/**
 * A call observed once so far whose other observation may still come: `edge` holds the edge's
 * provisional count (taken back when the gateway's arrives); `gateway` marks a call the gateway
 * counted (the edge's observation of it, arriving later, is not counted again).
 */
export type CountedCall = { observer: "gateway" } | { observer: "edge"; counted: CallCount };

export interface CallCount {
  tokens_in: number;
  tokens_out: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number | null;
}

/** Open observations kept per run; the oldest go first (their twins are long overdue). */
export const MAX_OPEN_CALLS = 256;

export function noConsumption(): Consumption {
  return {
    tokens_in: 0,
    tokens_out: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    priced_usd: 0,
    unpriced_calls: 0,
    model_calls: 0,
    tool_calls: 0,
  };
}

/**
 * A run's usage as reported. Each call's counts are safe integers, but their sum need not be: a
 * total past the largest one (or a cost past the largest finite number) is reported at it, so
 * the usage stays what its schema allows and fits every store's 64-bit integer column (memory's
 * sync failed on such a run for good: test/lakehouse/projection/runs.test.ts).
 */
export function usageOf(c: Consumption): Usage {
  return {
    tokens_in: saturated(c.tokens_in),
    tokens_out: saturated(c.tokens_out),
    cache_read_tokens: saturated(c.cache_read_tokens),
    cache_write_tokens: saturated(c.cache_write_tokens),
    cost_usd: c.unpriced_calls > 0 ? null : Math.min(round(c.priced_usd), Number.MAX_VALUE),
    model_calls: c.model_calls,
    tool_calls: c.tool_calls,
  };
}

function saturated(count: number): number {
  return Math.min(count, Number.MAX_SAFE_INTEGER);
}

type CallPayload = Pick<
  ModelCall,
  | "call_id"
  | "observer"
  | "provider"
  | "input_tokens"
  | "output_tokens"
  | "cache_read_tokens"
  | "cache_write_tokens"
  | "cost_usd"
> & { gateway_call_id?: string | null | undefined };

/**
 * Which model_call counts — the one rule central, the edge and memory share. Each model call
 * counts once. A call an edge makes through central's gateway is observed twice: by the edge
 * (provider `auraison`: tokens, no price) and by the gateway (the real provider, model and
 * price), joined by the gateway's call id, which the gateway answers with (`x-auraison-call-id`)
 * and the edge records as `gateway_call_id`. The gateway's observation counts; the edge's counts
 * only while the gateway's is not (yet) in the log — on the edge itself, or in a lake synced from
 * an outbox alone. An edge observation of a gateway call without `gateway_call_id` (edges before
 * contract 0.5) never counts: the gateway's observation of it does. Every other call is observed
 * once and counts as observed.
 */
export function countModelCall(
  consumption: Consumption,
  open: Record<string, CountedCall>,
  call: CallPayload,
): { consumption: Consumption; open: Record<string, CountedCall> } {
  const count: CallCount = {
    tokens_in: call.input_tokens,
    tokens_out: call.output_tokens,
    cache_read_tokens: call.cache_read_tokens,
    cache_write_tokens: call.cache_write_tokens,
    cost_usd: call.cost_usd,
  };
  if (call.observer === "gateway") {
    const twin = open[call.call_id];
    if (twin?.observer === "edge") {
      const rest = without(open, call.call_id);
      return { consumption: add(take(consumption, twin.counted), count), open: rest };
    }
    if (twin?.observer === "gateway") return { consumption, open };
    return {
      consumption: add(consumption, count),
      open: remember(open, call.call_id, { observer: "gateway" }),
    };
  }
  if (call.provider !== GATEWAY_PROVIDER) return { consumption: add(consumption, count), open };
  const id = call.gateway_call_id;
  if (!id) return { consumption, open };
  const twin = open[id];
  if (twin?.observer === "gateway") return { consumption, open: without(open, id) };
  if (twin?.observer === "edge") return { consumption, open };
  return {
    consumption: add(consumption, count),
    open: remember(open, id, { observer: "edge", counted: count }),
  };
}

/** A tool call counts when it ran: finished ok or with an error, not refused by policy. */
export function countToolCall(consumption: Consumption, status: "ok" | "error" | "blocked") {
  return status === "blocked"
    ? consumption
    : { ...consumption, tool_calls: consumption.tool_calls + 1 };
}

function add(c: Consumption, n: CallCount): Consumption {
  return {
    ...c,
    tokens_in: c.tokens_in + n.tokens_in,
    tokens_out: c.tokens_out + n.tokens_out,
    cache_read_tokens: c.cache_read_tokens + n.cache_read_tokens,
    cache_write_tokens: c.cache_write_tokens + n.cache_write_tokens,
    priced_usd: c.priced_usd + (n.cost_usd ?? 0),
    unpriced_calls: c.unpriced_calls + (n.cost_usd === null ? 1 : 0),
    model_calls: c.model_calls + 1,
  };
}

function take(c: Consumption, n: CallCount): Consumption {
  return {
    ...c,
    tokens_in: c.tokens_in - n.tokens_in,
    tokens_out: c.tokens_out - n.tokens_out,
    cache_read_tokens: c.cache_read_tokens - n.cache_read_tokens,
    cache_write_tokens: c.cache_write_tokens - n.cache_write_tokens,
    priced_usd: c.priced_usd - (n.cost_usd ?? 0),
    unpriced_calls: c.unpriced_calls - (n.cost_usd === null ? 1 : 0),
    model_calls: c.model_calls - 1,
  };
}

function remember(
  open: Record<string, CountedCall>,
  id: string,
  entry: CountedCall,
): Record<string, CountedCall> {
  const next = { ...open, [id]: entry };
  const ids = Object.keys(next);
  if (ids.length <= MAX_OPEN_CALLS) return next;
  // Insertion order is the order the observations arrived.
  for (const old of ids.slice(0, ids.length - MAX_OPEN_CALLS)) delete next[old];
  return next;
}

function without(open: Record<string, CountedCall>, id: string): Record<string, CountedCall> {
  const { [id]: _, ...rest } = open;
  return rest;
}

/** Sums of float prices drift; a cost is reported to a billionth of a dollar. */
function round(usd: number): number {
  const nano = usd * 1e9;
  // Past about 1.8e299 dollars there are no nano-dollars left to round.
  return Number.isFinite(nano) ? Math.round(nano) / 1e9 : usd;
}
