import { z } from "zod";

/** Caps that keep one event, request or message from swamping a log or a socket. */
export const LIMITS = {
  /** Longest free text carried in an event (message text, tool output excerpts). */
  textChars: 32_768,
  /** Longest tool argument/result excerpt carried in a tool-call event. */
  toolPayloadChars: 16_384,
  /** Largest serialised intent accepted by central. */
  intentBytes: 256 * 1024,
  /** Most events in one ingest batch. */
  batchEvents: 1_000,
} as const;

const slug = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export const TenantId = z
  .string()
  .regex(slug, "lowercase letters, digits and '-', 1-64 chars, not starting or ending with '-'")
  .meta({ id: "TenantId", description: "A tenant's slug; one central Durable Object per tenant." });

export const AppName = z
  .string()
  .regex(slug, "lowercase letters, digits and '-', 1-64 chars")
  .meta({ id: "AppName", description: "An application an edge agent serves, e.g. `lab-notes`." });

/** Reserved agent id for events central emits itself (dispatch, lease expiry, gateway calls). */
export const CENTRAL_AGENT_ID = "central";

export const AgentId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, "lowercase letters, digits, '.', '_' and '-', 1-128 chars")
  .meta({ id: "AgentId", description: "An edge agent's id, unique within its tenant." });

/**
 * A UUIDv7 as the platform spells it: lower-case hex, as RFC 9562 writes UUIDs and as every id
 * minted here is. Ids are compared as text (central's dedupe, a run's events), while DuckDB's
 * UUID type folds case: an id spelled in upper case would be a second id to central and the same
 * one to memory, which would merge two runs.
 */
const LOWER_CASE_UUIDV7 = /^([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$/;
const uuidv7 = () =>
  z.stringFormat("uuid", LOWER_CASE_UUIDV7, { error: "a UUIDv7 in lower-case hex" });

export const EventId = uuidv7().meta({
  id: "EventId",
  description: "A UUIDv7: unique and sortable by creation time.",
});

/** Ids central mints for intents, runs and plans are UUIDv7 too. */
export const IntentId = uuidv7().meta({ id: "IntentId" });
export const RunId = uuidv7().meta({ id: "RunId" });
export const PlanId = uuidv7().meta({ id: "PlanId" });

export const ToolName = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/,
    "letters, digits, '_', '.', ':' and '-', 1-128 chars",
  )
  .meta({ id: "ToolName" });

export const Timestamp = z.iso.datetime({ offset: false, precision: 3 }).meta({
  id: "Timestamp",
  description: "UTC ISO 8601 with milliseconds, e.g. 2026-11-21T12:00:00.000Z.",
});

/** Now, as a contract Timestamp. */
export function nowTs(now: number = Date.now()): string {
  return new Date(now).toISOString();
}

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Any JSON value; one named recursive schema so JSON Schema and OpenAPI refer to it by id. */
export const JsonValue: z.ZodType<JsonValue> = z
  .lazy(() =>
    z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValue), JsonObject]),
  )
  .meta({ id: "JsonValue" });

export const JsonObject: z.ZodType<{ [key: string]: JsonValue }> = z
  .record(
    z.string(),
    z.lazy(() => JsonValue),
  )
  .meta({ id: "JsonObject" });

export const NonNegInt = z.number().int().nonnegative();

/**
 * A run's attempt, from 1. Retries are few (the retry policy allows at most 20), but the bound
 * is a 32-bit integer's: what every store keeps as it is (memory's columns are INTEGER), so no
 * store reads another number than the one central's fold and the edge's read.
 */
export const MAX_ATTEMPT = 2_147_483_647;
export const Attempt = z.number().int().min(1).max(MAX_ATTEMPT);

/**
 * An integer query parameter, written in plain decimal (`after=16`, never `0x10`, `1e1` or
 * `-0`), between `min` and `max`. What the document publishes (a string of digits) is exactly
 * what central accepts.
 */
export function queryInt(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return (
    z
      .string()
      .regex(/^(?:0|[1-9][0-9]{0,15})$/, "a non-negative decimal integer")
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      // Published as the integer it is: a query parameter is serialised in decimal.
      .meta({ type: "integer", minimum: min, maximum: max })
  );
}

/** `x-request-id`: names a mutating call so a retry replays it (1-200 printable ASCII characters). */
export const RequestId = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, "1-200 printable ASCII characters, no spaces")
  .describe("replaying a mutating call with the same id and body returns the first result, once");
export const NonNegNumber = z.number().nonnegative();

/** Tokens and money consumed, as totals. `cost_usd` is null when some call had no known price. */
export const Usage = z
  .object({
    tokens_in: NonNegInt,
    tokens_out: NonNegInt,
    cache_read_tokens: NonNegInt.default(0),
    cache_write_tokens: NonNegInt.default(0),
    cost_usd: NonNegNumber.nullable().describe("null when at least one call was unpriced"),
    model_calls: NonNegInt.default(0),
    tool_calls: NonNegInt.default(0),
  })
  .meta({ id: "Usage" });
export type Usage = z.infer<typeof Usage>;

export function emptyUsage(): Usage {
  return {
    tokens_in: 0,
    tokens_out: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: 0,
    model_calls: 0,
    tool_calls: 0,
  };
}

/** Adds two usages; an unpriced side makes the sum unpriced (never silently $0). */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    tokens_in: a.tokens_in + b.tokens_in,
    tokens_out: a.tokens_out + b.tokens_out,
    cache_read_tokens: a.cache_read_tokens + b.cache_read_tokens,
    cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
    cost_usd: a.cost_usd === null || b.cost_usd === null ? null : a.cost_usd + b.cost_usd,
    model_calls: a.model_calls + b.model_calls,
    tool_calls: a.tool_calls + b.tool_calls,
  };
}

/** Cuts text to a limit, marking the cut so readers know it is an excerpt. */
export function truncateText(text: string, max: number = LIMITS.textChars): string {
  if (text.length <= max) return text;
  const marker = `…[truncated ${text.length - max} chars]`;
  const end = Math.max(0, max - marker.length);
  return text.slice(0, splitsPair(text, end) ? end - 1 : end) + marker;
}

/** The last `max` characters of text at most, marked as an excerpt. */
export function tailText(text: string, max: number): string {
  if (text.length <= max) return text;
  const start = text.length - max + 1;
  return `…${text.slice(splitsPair(text, start) ? start + 1 : start)}`;
}

/**
 * Whether a cut before `at` falls between the halves of a surrogate pair (an emoji): either
 * half alone has no UTF-8 spelling, so no reader of the log in UTF-8 (the lake's DuckDB) could
 * read an event that holds it.
 */
function splitsPair(text: string, at: number): boolean {
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}
