import { toHex } from "../../bytes";
import type { Dialect } from "../dialects/errors";

/** Fields that change how an answer is delivered or billed, not what it says. */
const DELIVERY_FIELDS: Record<Dialect, readonly string[]> = {
  openai: [
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
  anthropic: ["stream", "metadata"],
};

type Body = Record<string, unknown>;

/** Only a request that asks for no randomness has one right answer worth replaying. */
export function isDeterministic(body: Body): boolean {
  return body.temperature === 0 && (body.n === undefined || body.n === null || body.n === 1);
}

/** What makes a Responses answer depend on more than the request: state kept at the provider. */
const RESPONSE_STATE = ["previous_response_id", "conversation", "prompt", "background"] as const;

/**
 * A Responses request has one answer worth replaying when it is deterministic and stateless. It
 * must say `store: false`: a stored response (OpenAI's default) is one a later call may chain to
 * by id, and a replayed answer carries the id of the response it was cached from, which is not
 * stored unless that one was.
 */
export function isReplayableResponse(body: Body): boolean {
  return (
    isDeterministic(body) &&
    body.store === false &&
    RESPONSE_STATE.every(
      (field) => body[field] === undefined || body[field] === null || body[field] === false,
    )
  );
}

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
 * The exact-match cache key of a request: SHA-256 of its normalised body (delivery-only fields
 * dropped, keys sorted) together with its endpoint (a chat request and a Responses or embeddings
 * one may have the same fields) and whether it streams, since a cached answer is replayed in the
 * form it was given.
 */
export async function requestHash(
  endpoint: string,
  dialect: Dialect,
  stream: boolean,
  body: Body,
): Promise<string> {
  const kept: Body = {};
  for (const [key, value] of Object.entries(body))
    if (!DELIVERY_FIELDS[dialect].includes(key)) kept[key] = value;
  const text = `${endpoint}\u0000${stream ? "stream" : "json"}\u0000${canonicalJson(kept)}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}
