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
 */
export function checkRecord(record: RawRecord): Checked {
  let value: unknown;
  if ("text" in record) {
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

function refuse(
  record: RawRecord,
  value: unknown,
  reason: string,
  issues: ValidationIssue[],
): Checked {
  const field = (name: string) => {
    const v = (value as Record<string, unknown> | null)?.[name];
    return typeof v === "string" ? v.slice(0, 128) : null;
  };
  return {
    ok: false,
    quarantined: {
      position: record.position,
      event_id: field("event_id"),
      kind: field("kind"),
      reason,
      issues,
      raw: "text" in record ? record.text : (JSON.stringify(record.value) ?? String(record.value)),
    },
  };
}
