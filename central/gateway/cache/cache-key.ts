import { toHex } from "../../bytes";
import type { OpenAiResponsesRequest } from "../dialects/openai";
import { keptAtOpenAi } from "../translate/responses-request";

type Body = Record<string, unknown>;

/** Which of an endpoint's requests the response cache may answer, and what its key leaves out. */
export interface CachePolicy {
  /** The request has one answer worth replaying. */
  replayable(body: Body): boolean;
  /** Fields that change how an answer is delivered or billed, not what it says. */
  delivery: readonly string[];
}

/** Only a request that asks for no randomness has one right answer worth replaying. */
export function isDeterministic(body: Body): boolean {
  return body.temperature === 0 && (body.n === undefined || body.n === null || body.n === 1);
}

/**
 * A Responses request has one answer worth replaying when it is deterministic and nothing of it
 * lives at OpenAI (no stored state, no tool OpenAI runs itself). It must say `store: false`: a
 * stored response (OpenAI's default) is one a later call may chain to by id, and a replayed
 * answer carries the id of the response it was cached from, which is stored only if that was.
 */
export function isReplayableResponse(body: Body): boolean {
  return (
    isDeterministic(body) &&
    body.store === false &&
    keptAtOpenAi(body as OpenAiResponsesRequest) === null
  );
}

/**
 * A chat completion is replayed when deterministic and not to be stored at OpenAI: a caller who
 * asks for `store: true` (for evals or distillation) wants its own completion stored there, and
 * a replay would store nothing.
 */
export function isReplayableCompletion(body: Body): boolean {
  return isDeterministic(body) && body.store !== true;
}

export const CACHE_POLICIES = {
  chat: {
    replayable: isReplayableCompletion,
    delivery: [
      "stream",
      "stream_options",
      "user",
      "metadata",
      "store",
      "service_tier",
      "prompt_cache_key",
      "prompt_cache_retention",
      "safety_identifier",
    ],
  },
  messages: { replayable: isDeterministic, delivery: ["stream", "metadata"] },
  // A response object repeats the request's metadata, user, safety_identifier, service tier and
  // prompt cache key: they are part of what it says, and one caller's never go to another.
  responses: { replayable: isReplayableResponse, delivery: ["stream", "stream_options", "store"] },
  // No sampling: the same input to the same model always has the same vectors.
  embeddings: { replayable: () => true, delivery: ["user"] },
} satisfies Record<string, CachePolicy>;

/** JSON with object keys sorted at every level, so key order never changes the hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * The form an answer is replayed in: JSON, or a stream, which ends with a usage chunk only for a
 * caller who asked for one (a chat caller without it gets none, and one who asked must).
 */
function answerForm(stream: boolean, body: Body): string {
  if (!stream) return "json";
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  return options?.include_usage === true ? "stream+usage" : "stream";
}

/**
 * The exact-match cache key of a request: SHA-256 of its normalised body (delivery-only fields
 * dropped, keys sorted) together with its endpoint (a chat request and a Responses or embeddings
 * one may have the same fields), the form of its answer (answerForm), since a cached answer is
 * replayed in the form it was given, and the caller's Anthropic beta features.
 */
export async function requestHash(
  endpoint: string,
  policy: CachePolicy,
  stream: boolean,
  body: Body,
  anthropicBeta: string | null = null,
): Promise<string> {
  const kept: Body = {};
  for (const [key, value] of Object.entries(body))
    if (!policy.delivery.includes(key)) kept[key] = value;
  // The beta features a caller asks Anthropic for (its `anthropic-beta` header) can change the
  // answer as much as a field of the body.
  const text = `${endpoint}\u0000${answerForm(stream, body)}\u0000${anthropicBeta ?? ""}\u0000${canonicalJson(kept)}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}
