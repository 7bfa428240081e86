import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AgentEvent, check, EVENT_KINDS, EVENT_PAYLOADS, type EventKind } from "../../../contract";
import {
  costsSql,
  DirectorySource,
  denialsSql,
  failedRunsSql,
  runSql,
  runsSql,
  slowToolsSql,
  sync,
} from "../../../lakehouse";
import { event, PAYLOADS } from "../../contract/fixtures";
import { localLake, tempDir, withLake, writeLog } from "../fixture";

type Schema = Record<string, unknown>;
type Bound = "max" | "min";

/** Schema paths of the numbers moved to their bound, by kind (`payload.usage.tokens_in`). */
const moved = new Map<string, Set<string>>();

/**
 * `value` with every number in it moved to the bound the contract's JSON Schema gives it (its
 * maximum or minimum, else the largest or smallest a JSON number the contract takes can be), an
 * optional number the value leaves out included, as far as the contract still accepts the event
 * (`valid`): a rule across fields (a refinement) keeps the field's value.
 */
function atBound(
  value: unknown,
  schema: Schema,
  at: string,
  context: {
    defs: Record<string, Schema>;
    bound: Bound;
    valid: () => boolean;
    moved: Set<string>;
  },
): unknown {
  const s = resolve(schema, context.defs);
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    for (const option of (s.anyOf ?? s.oneOf) as Schema[]) {
      const o = resolve(option, context.defs);
      if (matches(value, o)) return atBound(value, o, at, context);
    }
    return value;
  }
  if (typeof value === "number" && (s.type === "integer" || s.type === "number"))
    return limitOf(s, context.bound);
  if (Array.isArray(value) && s.items)
    return value.map((item) => atBound(item, s.items as Schema, `${at}[*]`, context));
  if (value !== null && typeof value === "object" && s.properties) {
    const out = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(s.properties as Record<string, Schema>)) {
      const path = `${at}.${key}`;
      const before = out[key];
      const number = numberOf(child, context.defs);
      // An optional or nullable number the value leaves out or null is moved too.
      if (number && (before === undefined || before === null))
        out[key] = limitOf(number, context.bound);
      else if (key in out) out[key] = atBound(before, child, path, context);
      else continue;
      if (context.valid()) {
        if (typeof out[key] === "number") context.moved.add(path);
      } else if (key in out && before === undefined) delete out[key];
      else out[key] = before;
    }
  }
  return value;
}

function limitOf(s: Schema, bound: Bound): number {
  const integer = s.type === "integer";
  if (bound === "max")
    return (
      (s.maximum as number | undefined) ??
      (typeof s.exclusiveMaximum === "number"
        ? s.exclusiveMaximum - (integer ? 1 : Number.EPSILON * s.exclusiveMaximum)
        : integer
          ? Number.MAX_SAFE_INTEGER
          : Number.MAX_VALUE)
    );
  return (
    (s.minimum as number | undefined) ??
    (typeof s.exclusiveMinimum === "number"
      ? s.exclusiveMinimum + (integer ? 1 : Number.MIN_VALUE)
      : integer
        ? Number.MIN_SAFE_INTEGER
        : -Number.MAX_VALUE)
  );
}

/** The number a schema holds, when it holds a number or null and nothing else. */
function numberOf(schema: Schema, defs: Record<string, Schema>): Schema | null {
  const s = resolve(schema, defs);
  const options = Array.isArray(s.anyOf) ? (s.anyOf as Schema[]).map((o) => resolve(o, defs)) : [s];
  const number = options.find((o) => o.type === "integer" || o.type === "number");
  return number && options.every((o) => o === number || o.type === "null") ? number : null;
}

/**
 * Every path in a schema that holds a number, through objects, arrays and nullable options; not
 * into any-JSON values (`JsonValue`), which name no fields.
 */
function numericPaths(schema: Schema, defs: Record<string, Schema>, at: string, out: Set<string>) {
  if (typeof schema.$ref === "string" && /JsonValue|JsonObject/.test(schema.$ref)) return out;
  const s = resolve(schema, defs);
  if (s.type === "integer" || s.type === "number") out.add(at);
  for (const option of (s.anyOf ?? s.oneOf ?? []) as Schema[]) numericPaths(option, defs, at, out);
  if (s.items) numericPaths(s.items as Schema, defs, `${at}[*]`, out);
  for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, Schema>))
    numericPaths(child, defs, `${at}.${key}`, out);
  return out;
}

function resolve(schema: Schema, defs: Record<string, Schema>): Schema {
  let s = schema;
  while (typeof s.$ref === "string") s = defs[s.$ref.replace("#/$defs/", "")]!;
  return s;
}

function matches(value: unknown, s: Schema): boolean {
  switch (s.type) {
    case "null":
      return value === null;
    case "integer":
    case "number":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    default:
      return false;
  }
}

/**
 * The contract tests' valid payloads, with what they leave out that holds numbers: the gateway's
 * route, its candidates' figures.
 */
const FIXTURES: Record<EventKind, unknown> = {
  ...PAYLOADS,
  model_call: {
    ...(PAYLOADS.model_call as object),
    route: {
      requested: "smart",
      rule: null,
      alias: "smart",
      strategy: "ordered",
      candidates: [
        {
          provider: "openai",
          model: "gpt-4.1",
          kept: true,
          reason: "first",
          est_cost_usd: 0.01,
          latency_ms: 120,
          error_rate: 0,
        },
      ],
      chosen: { provider: "openai", model: "gpt-4.1" },
      reason: "first candidate",
    },
  },
};

/** An event of `kind` with its envelope's and its payload's numbers at `bound`. */
function extreme(kind: EventKind, bound: Bound, seq: number): Record<string, unknown> {
  const schema = z.toJSONSchema(EVENT_PAYLOADS[kind], { io: "input", unrepresentable: "any" });
  const defs = (schema.$defs ?? {}) as Record<string, Schema>;
  const e = event(kind, structuredClone(FIXTURES[kind]), seq) as Record<string, unknown>;
  e.attempt = bound === "max" ? 2 ** 31 - 1 : 1;
  const valid = () => check(AgentEvent, e).ok;
  const kindMoved = moved.get(kind) ?? new Set<string>();
  moved.set(kind, kindMoved);
  e.payload = atBound(e.payload, schema as Schema, "payload", {
    defs,
    bound,
    valid,
    moved: kindMoved,
  });
  expect(valid(), kind).toBe(true);
  return e;
}

describe("memory sync of events at the contract's bounds", () => {
  // A number the contract takes but a column of the lake cannot hold failed the lake transaction,
  // and so every sync after it (a run's tokens past a 64-bit integer, an attempt past INTEGER):
  // every kind, every number at its bound, through the sync, the derived tables and the queries.
  it.each(["max", "min"] as const)(
    "projects every kind with its numbers at their %s, and answers every named query",
    async (bound) => {
      const kinds = [
        ...EVENT_KINDS,
        // Enough calls at their bound that a run's, an app's or a tool's sums pass a 64-bit
        // integer and the largest double.
        ...Array.from({ length: 1_100 }, () => "model_call" as const),
        ...Array.from({ length: 1_100 }, () => "tool_call_finished" as const),
      ];
      const events = kinds.map((kind, i) => {
        const e = extreme(kind, bound, bound === "max" ? Number.MAX_SAFE_INTEGER - 5_000 + i : i);
        // Each call its own: the fold counts a call once, by its id.
        const payload = e.payload as Record<string, unknown>;
        for (const id of ["call_id", "tool_call_id"])
          if (typeof payload[id] === "string") payload[id] = `${payload[id]}-${i}`;
        return e;
      });
      const dir = tempDir();
      writeLog(join(dir, "000000000001.ndjson"), events);
      await withLake(localLake(), async (lake) => {
        const report = await sync(lake, new DirectorySource(dir), { compact: false });
        expect(report).toMatchObject({ events: events.length, quarantined: 0 });
        for (const table of [
          "events",
          "runs",
          "intents",
          "tool_calls",
          "model_calls",
          "policy_decisions",
        ]) {
          const rows = await runSql(lake, `SELECT count(*) AS n FROM ${table}`);
          expect(rows.rows[0]!.n, table).toBeGreaterThan(0);
        }
        for (const sql of [
          failedRunsSql({}),
          runsSql({}),
          costsSql({}),
          slowToolsSql({}),
          denialsSql({}),
        ])
          await runSql(lake, sql);
        const again = await sync(lake, new DirectorySource(dir), { compact: false });
        expect(again).toMatchObject({ batches: 0, events: 0 });
      });
    },
    60_000,
  );

  it("moves every number the contract's payloads hold, so a field added later is covered", () => {
    for (const bound of ["max", "min"] as const)
      for (const kind of EVENT_KINDS) extreme(kind, bound, 0);
    const missed: string[] = [];
    for (const kind of EVENT_KINDS) {
      const schema = z.toJSONSchema(EVENT_PAYLOADS[kind], { io: "input", unrepresentable: "any" });
      const defs = (schema.$defs ?? {}) as Record<string, Schema>;
      for (const path of numericPaths(schema as Schema, defs, "payload", new Set()))
        if (!moved.get(kind)?.has(path)) missed.push(`${kind}: ${path}`);
    }
    expect(missed).toEqual([]);
  });
});
