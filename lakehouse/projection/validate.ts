// The contract's modules, not its index: a validation thread loads these alone (see
// validate-pool.ts: the index brings in what starting a thread need not pay for).
import { type AgentEvent, AgentEvent as AgentEventSchema } from "../../contract/events/agent-event";
import { check, type ValidationIssue } from "../../contract/validation";
import type { RawRecord } from "../sources/source";
import { plainAgentEventKeys } from "./fast-check/agent-event";
import { keysInText } from "./fast-check/json-text";

/** A log entry that passed the contract. */
export interface ValidEvent {
  event: AgentEvent;
  /** Central's cursor, when the entry was a StoredEvent. */
  cursor: number | null;
  /**
   * The event as JSON text (with its cursor, if any), equal as JSON to what the contract's
   * parser returns: the entry's own text when that already is, else the parser's output.
   */
  line: string;
}

/** A log entry that did not, kept with why and where instead of being dropped. */
export interface QuarantinedRecord {
  position: string;
  event_id: string | null;
  kind: string | null;
  reason: string;
  issues: ValidationIssue[];
  raw: string;
}

export type Checked =
  | { ok: true; value: ValidEvent }
  | { ok: false; quarantined: QuarantinedRecord };

/**
 * Validates one entry as an AgentEvent (or a StoredEvent, when it carries a cursor). Most entries
 * are exactly what the contract's parser returns, which a check compiled from the contract's JSON
 * Schema confirms without zod; zod judges the rest, and names the fields of what it refuses.
 * What the contract accepts but no UTF-8 reader (DuckDB) can read is refused too: a lone
 * surrogate.
 */
export function checkRecord(record: RawRecord): Checked {
  let value: unknown;
  if ("text" in record) {
    if (record.bytes !== undefined)
      return refuse(record, null, `longer than a sync reads (${record.bytes} bytes)`, [
        {
          path: "$",
          expected: "a shorter line",
          message: `${record.bytes} bytes`,
          code: "too_big",
        },
      ]);
    if (record.utf8 === false) return refuseNotUtf8(record);
    try {
      value = JSON.parse(record.text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return refuse(record, null, `not JSON: ${message}`, [
        { path: "$", expected: "JSON", message, code: "invalid_json" },
      ]);
    }
  } else {
    value = record.value;
  }
  return refuseLoneSurrogates(record, value, checkValue(record, value));
}

function checkValue(record: RawRecord, value: unknown): Checked {
  // As many keys in the value as the text spells out: no key repeats (DuckDB would read the
  // first of repeated keys, JSON.parse keeps the last), so DuckDB reads the text as zod would.
  const keys = plainAgentEventKeys(value);
  if (keys >= 0 && (!("text" in record) || keysInText(record.text) === keys)) {
    const event = value as AgentEvent & { cursor?: number };
    const line = "text" in record ? record.text : JSON.stringify(value);
    return { ok: true, value: { event, cursor: event.cursor ?? null, line } };
  }
  return checkWithZod(record, value);
}

/**
 * Refuses a valid entry that holds half a surrogate pair (`"\ud83d"` without its low half, as
 * a cut through an emoji leaves): zod takes it, but it has no UTF-8 spelling, so DuckDB refuses
 * the line. Its line spells it as a `\u` escape (text decoded from UTF-8 cannot hold it raw, and
 * JSON.stringify escapes it), and most lines have none.
 */
function refuseLoneSurrogates(record: RawRecord, value: unknown, checked: Checked): Checked {
  if (!checked.ok || !checked.value.line.includes("\\u")) return checked;
  const at = loneSurrogateAt(checked.value.event);
  if (at === null) return checked;
  return refuse(record, value, `half a UTF-16 surrogate pair at ${at}: no UTF-8 for DuckDB`, [
    {
      path: at,
      expected: "well-formed Unicode",
      message: "a lone surrogate",
      code: "invalid_string",
    },
  ]);
}

/** Matches a surrogate that is not half of a pair (the `u` flag reads a pair as one character). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Where the first string (or key) holding a lone surrogate is, or null; any depth, no recursion. */
function loneSurrogateAt(value: unknown): string | null {
  const pending: [unknown, string][] = [[value, "$"]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [v, path] = next;
    if (typeof v === "string") {
      if (LONE_SURROGATE.test(v)) return path;
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) pending.push([item, `${path}[${i}]`]);
    } else if (v !== null && typeof v === "object") {
      for (const [key, item] of Object.entries(v)) {
        if (LONE_SURROGATE.test(key)) return path;
        pending.push([item, path === "$" ? key : `${path}.${key}`]);
      }
    }
  }
  return null;
}

/**
 * A log line whose bytes are not UTF-8, as its text decoded with U+FFFD (which names its id and
 * kind, when it parses): DuckDB reads the bytes, and refuses them.
 */
function refuseNotUtf8(record: { position: string; text: string }): Checked {
  return refuse(record, parsedOrNull(record.text), "not UTF-8", [
    { path: "$", expected: "UTF-8", message: "invalid UTF-8 bytes", code: "invalid_encoding" },
  ]);
}

/**
 * A line that passed the contract but that DuckDB cannot read (see Stage), with DuckDB's reason:
 * kept, so one such line stops neither the sync nor the rest of its batch.
 */
export function unreadable(
  record: { position: string; text: string },
  reason: string,
): QuarantinedRecord {
  return quarantined(record, parsedOrNull(record.text), `DuckDB cannot read it: ${reason}`, [
    { path: "$", expected: "a line DuckDB reads", message: reason, code: "unreadable" },
  ]);
}

/** The contract's zod schema: the reference every fast accept agrees with. */
export function checkWithZod(record: RawRecord, value: unknown): Checked {
  const cursor = (value as { cursor?: unknown } | null)?.cursor;
  if (cursor !== undefined && !(Number.isSafeInteger(cursor) && (cursor as number) > 0))
    return refuse(record, value, "invalid cursor", [
      {
        path: "cursor",
        expected: "integer > 0",
        message: "not a positive integer",
        code: "invalid_type",
      },
    ]);
  const parsed = check(AgentEventSchema, value);
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    return refuse(
      record,
      value,
      `invalid AgentEvent at ${first.path}: ${first.message}`,
      parsed.issues,
    );
  }
  const stored = cursor === undefined ? parsed.value : { ...parsed.value, cursor };
  return {
    ok: true,
    value: {
      event: parsed.value,
      cursor: (cursor as number | undefined) ?? null,
      line: JSON.stringify(stored),
    },
  };
}

/** A refused line's value, to name its id and kind; none when it does not parse. */
function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function refuse(
  record: RawRecord,
  value: unknown,
  reason: string,
  issues: ValidationIssue[],
): Checked {
  return { ok: false, quarantined: quarantined(record, value, reason, issues) };
}

function quarantined(
  record: RawRecord,
  value: unknown,
  reason: string,
  issues: ValidationIssue[],
): QuarantinedRecord {
  const field = (name: string) => {
    const v = (value as Record<string, unknown> | null)?.[name];
    return typeof v === "string" ? v.slice(0, 128) : null;
  };
  return {
    position: record.position,
    event_id: field("event_id"),
    kind: field("kind"),
    reason,
    issues,
    raw: "text" in record ? record.text : (JSON.stringify(record.value) ?? String(record.value)),
  };
}
