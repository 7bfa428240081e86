import { describe, expect, it } from "vitest";
import { z } from "zod";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { JsonValue } from "../../../contract";
import { checkRecord, checkWithZod, openDuckDB } from "../../../lakehouse";
import { plainAgentEventKeys } from "../../../lakehouse/projection/fast-check/agent-event";
import { compileFastCheck } from "../../../lakehouse/projection/fast-check/compile";
import { keysInText } from "../../../lakehouse/projection/fast-check/json-text";
import {
  assertRepresentable,
  fastCheckSchema,
} from "../../../lakehouse/projection/fast-check/representable";
import { LogBuilder } from "../fixture";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Events of every kind, including the rarer shapes the synthetic log has few of. */
function corpus(): Json[] {
  const log = new LogBuilder();
  const run = log.id();
  const intent = log.id();
  const at = { run_id: run, attempt: 1 };
  log.add(
    "run_started",
    {
      intent_id: intent,
      intent_type: "task",
      app: "lab-notes",
      attempt: 1,
      model: null,
      tree_ref: { session_file: "s.jsonl", entry_id: null },
      resumed: true,
      forked_from: { run_id: log.id(), entry_id: "e1" },
    },
    at,
  );
  log.add(
    "model_call",
    {
      call_id: "c1",
      operation: "chat",
      provider: "anthropic",
      request_model: "claude",
      response_model: null,
      alias: "smart",
      response_id: null,
      finish_reasons: ["stop", "length"],
      stream: false,
      input_tokens: 10,
      output_tokens: 2,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0.000123,
      latency_ms: 5,
      ttft_ms: null,
      cache_hit: false,
      attempts: [
        {
          provider: "openai",
          model: "gpt",
          outcome: "error",
          error_type: "429",
          http_status: 429,
          latency_ms: 3,
        },
      ],
      error_type: null,
      observer: "gateway",
      scripted: false,
      route: {
        requested: "smart",
        rule: null,
        alias: "smart",
        strategy: "cost",
        candidates: [
          {
            provider: "anthropic",
            model: "claude",
            kept: true,
            reason: "est. $0.01 \u00e9\u{1F600}",
            est_cost_usd: 0.01,
            latency_ms: null,
            error_rate: 0.5,
          },
        ],
        chosen: { provider: "anthropic", model: "claude" },
        reason: "cheapest",
      },
      tags: ["a", "b"],
      app: "lab-notes",
    },
    at,
  );
  log.add(
    "error",
    { category: "tool", code: "x", message: "m", fatal: false, detail: { a: [1, { b: null }] } },
    at,
  );
  log.add(
    "policy_decision",
    {
      hook: "tool_call",
      decision: { effect: "modify", rule_id: "r", reason: "why", modified_input: { path: "/x" } },
      tool: "bash",
      tool_call_id: "t1",
      subject: 'say "hi"\n\\',
    },
    at,
  );
  log.add("heartbeat", {
    status: "online",
    running: [run],
    outbox_pending: 0,
    load: { cpu: 0.5, rss_mb: null },
  });
  log.add("plan_version", {
    plan_id: log.id(),
    version: 2,
    round: "repair",
    planner: "pddl",
    steps: [
      {
        id: "survey",
        type: "task",
        targets: ["app lab-notes", "agent lab-notes-1"],
        depends_on: [],
        action: "(survey lab)",
        requires_approval: true,
      },
    ],
  });
  log.add("plan_version", {
    plan_id: log.id(),
    version: 1,
    round: "initial",
    planner: "given",
    steps: [],
  });
  const rare = log.events.map((e) => JSON.parse(JSON.stringify(e)) as Json);
  const synthetic = [...syntheticEvents({ events: 3_000, days: 1, seed: 5 })] as unknown as Json[];
  return [...rare, ...synthetic];
}

/** Every path to a value inside `value`, as keys and indices. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...prefix, i]));
  } else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

const REPLACEMENTS: Json[] = [
  null,
  "",
  "X".repeat(40_000),
  "Lab Notes",
  "2026-02-30T00:00:00.000Z",
  1.5,
  -1,
  0,
  2 ** 53,
  true,
  [],
  {},
];

/** The value with one thing changed at `path`: removed, replaced, or an unknown key added. */
function mutations(value: Json, path: (string | number)[]): Json[] {
  const out: Json[] = [];
  const edit = (change: (parent: Record<string, Json> | Json[], key: string | number) => void) => {
    const copy = structuredClone(value);
    let parent: Json = copy;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string, Json>)[key]!;
    change(parent as Record<string, Json>, path[path.length - 1]!);
    out.push(copy);
  };
  if (path.length === 0) return [{ ...(value as object), extra: 1 }];
  edit((p, k) => {
    if (Array.isArray(p)) p.splice(k as number, 1);
    else delete p[k as string];
  });
  for (const r of REPLACEMENTS) edit((p, k) => ((p as Record<string, Json>)[k] = r));
  edit((p, k) => {
    const v = (p as Record<string, Json>)[k];
    if (v && typeof v === "object" && !Array.isArray(v)) v.unknown_key = "x";
  });
  return out;
}

/** The keys a parsed JSON value holds, at every depth. */
function keysOf(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + keysOf(v), 0);
  if (value && typeof value === "object")
    return Object.values(value).reduce((n: number, v) => n + 1 + keysOf(v), 0);
  return 0;
}

describe("the fast check compiled from the contract's JSON Schema", () => {
  it("accepts only what zod accepts, as zod returns it; zod judges everything else", async () => {
    const base = corpus();
    // Events as emitters write them are what zod returns: all of them skip zod.
    expect(base.filter((e) => plainAgentEventKeys(e) < 0)).toEqual([]);
    let accepted = 0;
    let tried = 0;
    const staged: { line: string; payload: unknown }[] = [];
    for (const [i, event] of base.entries()) {
      // Mutate a sample of the synthetic events, and all of the rare ones.
      const candidates =
        i < 5 || i % 40 === 0 ? paths(event).flatMap((p) => mutations(event, p)) : [];
      for (const value of [event, ...candidates]) {
        const text = JSON.stringify(value);
        for (const record of [
          { position: `#${tried}`, text },
          // The same with a key repeated: JSON.parse keeps the last, DuckDB the first.
          { position: `#${tried} repeated`, text: text.replace(/^\{/, '{"kind":"heartbeat",') },
        ]) {
          tried += 1;
          // The reference: the cursor rule and the contract's zod schema, nothing compiled.
          const zod = checkWithZod(record, JSON.parse(record.text));
          const result = checkRecord(record);
          expect(result.ok, record.text).toBe(zod.ok);
          if (!result.ok || !zod.ok) {
            if (!result.ok && !zod.ok) expect(result.quarantined).toEqual(zod.quarantined);
            continue;
          }
          accepted += 1;
          // The staged text repeats no key, and reads as what zod returned.
          const line = JSON.parse(result.value.line) as Record<string, unknown>;
          expect(keysInText(result.value.line)).toBe(keysOf(line));
          const { cursor, ...event } = line;
          expect(event).toEqual(zod.value.event);
          expect(cursor ?? null).toBe(zod.value.cursor);
          staged.push({ line: result.value.line, payload: zod.value.event.payload });
        }
      }
    }
    expect(tried).toBeGreaterThan(20_000);
    expect(accepted).toBeGreaterThan(3_000);

    // DuckDB reads each staged text's payload as the JSON zod returned.
    const db = await openDuckDB();
    try {
      await db.connection.run("CREATE TABLE lines (i INTEGER, line VARCHAR)");
      const appender = await db.connection.createAppender("lines");
      staged.forEach(({ line }, i) => {
        appender.appendInteger(i);
        appender.appendVarchar(line);
        appender.endRow();
      });
      appender.closeSync();
      const read = await db.connection.runAndReadAll(
        `SELECT i, from_json(line, '{"payload":"JSON"}').payload::VARCHAR FROM lines ORDER BY i`,
      );
      for (const [i, payload] of read.getRows())
        expect(JSON.parse(String(payload))).toEqual(staged[Number(i)]!.payload);
    } finally {
      db.close();
    }
  }, 120_000);

  it("drops a free-form object's __proto__ key, as zod does on both runtimes", () => {
    const event = corpus().find((e) => JSON.stringify(e).includes('"modified_input":{'))!;
    const text = JSON.stringify(event).replace(
      '"modified_input":{',
      '"modified_input":{"__proto__":{"polluted":1},',
    );
    const record = { position: "#proto", text };
    const zod = checkWithZod(record, JSON.parse(text));
    const result = checkRecord(record);
    expect(zod.ok && result.ok).toBe(true);
    if (!zod.ok || !result.ok) return;
    expect(result.value.line).not.toContain("__proto__");
    const { cursor: _, ...staged } = JSON.parse(result.value.line) as Record<string, unknown>;
    expect(staged).toEqual(zod.value.event);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("counts the keys a JSON text spells out, not quotes and colons inside strings", () => {
    expect(keysInText('{"a":1,"b":{"c":"x\\":y","d":[{"e":null}]},"f":"\\\\"}')).toBe(6);
    expect(keysInText('{"a" : "b:", "c":"\\"d\\":"}')).toBe(2);
    expect(keysInText('["a:", "b"]')).toBe(0);
  });

  it("leaves to zod what JSON Schema cannot say: refinements and unions other than any JSON", () => {
    const compiled = (schema: z.ZodType) => compileFastCheck(fastCheckSchema(schema));
    const refined = compiled(
      z.object({
        a: z
          .string()
          .refine((s) => s !== "x")
          .optional(),
        b: z.number().optional(),
      }),
    );
    expect(refined({ a: "y" })).toBe(-1);
    expect(refined({ b: 1 })).toBe(1);
    const union = compiled(
      z.object({ t: z.union([z.object({ a: z.string() }), z.object({ a: z.number() })]) }),
    );
    expect(union({ t: { a: "x" } })).toBe(-1);
    const json = compiled(z.object({ d: JsonValue }));
    expect(json({ d: { x: [1, { y: null }] } })).toBe(3);
    expect(json({ d: Number.POSITIVE_INFINITY })).toBe(-1);
  });

  it("refuses schemas whose rules JSON Schema cannot carry, and keywords it does not know", () => {
    expect(() =>
      assertRepresentable(z.object({ a: z.string().transform((s) => s.length) })),
    ).toThrow(/pipe/);
    expect(() => compileFastCheck({ type: "string", contentEncoding: "base64" })).toThrow(
      /unknown keyword 'contentEncoding'/,
    );
  });
});
