/**
 * What checking every event against the contract costs, on its own, done in JavaScript as the
 * memory sync does (bench/memory-projection.ts) and done in DuckDB's JSON functions: the floor
 * under the sync's check, and whether moving the check into DuckDB (its parse is already paid
 * for by the stage's read_json) would lower it. Same synthetic log as memory-projection.
 *
 *   tsx bench/memory-check-floor.ts                  # 1,000,000 events, 3 rounds
 *   tsx bench/memory-check-floor.ts --events 50000   # a quick run (writes nothing)
 *
 * JavaScript runs on this thread over lines already in memory; DuckDB reads the segment files
 * (in the page cache) on its threads. Figures are CPU seconds of the process, all threads: what a
 * way of checking costs on 2 shared cores, less dependent on the load than wall time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentEvent } from "../contract/events/agent-event";
import { DUCKDB_VERSION, openDuckDB } from "../lakehouse";
import type { JsonSchema } from "../lakehouse/projection/fast-check/compile";
import { fastCheckSchema } from "../lakehouse/projection/fast-check/representable";
import { checkRecord } from "../lakehouse/projection/validate";
import { flag, preparedLog } from "./memory-synthetic";
import { fmt, median } from "./stats";

const here = dirname(fileURLToPath(import.meta.url));

const EVENTS = Number(flag("events", "1000000"));
const ROUNDS = Number(flag("rounds", "3"));

const cpuSeconds = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
};

/** Each line of each file, as its bytes' bounds. */
function lineBounds(buffers: Buffer[]): { buffer: Buffer; starts: number[]; ends: number[] }[] {
  return buffers.map((buffer) => {
    const starts: number[] = [];
    const ends: number[] = [];
    for (let at = 0; at < buffer.length; ) {
      const end = buffer.indexOf(10, at);
      if (end < 0) break;
      starts.push(at);
      ends.push(end);
      at = end + 1;
    }
    return { buffer, starts, ends };
  });
}

/**
 * The envelope of an AgentEvent (the fields every kind has, the payload's keys counted) checked
 * in SQL, compiled from the contract's JSON Schema as the fast check is: each field's JSON type,
 * pattern, enum and range, the keys present, known and not repeated. Four parses of each line
 * (every path of a list-of-paths call is read from one parse). A lower bound of a full check in
 * SQL, which would add each kind's payload fields. Without `rules`, the four reads alone.
 */
function envelopeCheckSql(files: string[], rules = true): string {
  const schema = fastCheckSchema(AgentEvent);
  const defs = schema.$defs as Record<string, JsonSchema>;
  const resolve = (s: JsonSchema): JsonSchema =>
    typeof s.$ref === "string" ? resolve(defs[s.$ref.replace("#/$defs/", "")]!) : s;
  const options = (defs.AgentEvent!.oneOf as JsonSchema[]).map(resolve);
  const first = options[0]!;
  const properties = first.properties as Record<string, JsonSchema>;
  const fields = Object.keys(properties).filter((k) => k !== "kind" && k !== "payload");
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const paths = [...fields, "kind", "payload", "cursor"].map((f) => q(`$.${f}`));
  const conditions: string[] = [];
  fields.forEach((field, i) => {
    let s = resolve(properties[field]!);
    let nullable = false;
    if (Array.isArray(s.anyOf)) {
      const inner = (s.anyOf as JsonSchema[]).map(resolve);
      nullable = inner.some((o) => o.type === "null");
      s = inner.find((o) => o.type !== "null")!;
    }
    const t = `t[${i + 1}]`;
    const v = `v[${i + 1}]`;
    const checks: string[] = [];
    if (s.type === "string") {
      checks.push(`${t} = 'VARCHAR'`);
      if (typeof s.pattern === "string") checks.push(`regexp_full_match(${v}, ${q(s.pattern)})`);
      if (Array.isArray(s.enum)) checks.push(`${v} IN (${s.enum.map((e) => q(String(e))).join()})`);
    } else if (s.type === "integer") {
      checks.push(`${t} IN ('UBIGINT', 'BIGINT')`);
      checks.push(`TRY_CAST(${v} AS HUGEINT) BETWEEN ${s.minimum} AND ${s.maximum}`);
    } else throw new Error(`envelope field ${field}: type ${String(s.type)}`);
    const rule = checks.join(" AND ");
    const required = (first.required as string[]).includes(field);
    conditions.push(
      nullable || !required ? `(${t} IS NULL OR ${t} = 'NULL' OR (${rule}))` : `(${rule})`,
    );
  });
  const kinds = options.map((o) =>
    q(resolve((o.properties as Record<string, JsonSchema>).kind!).const as string),
  );
  const n = fields.length;
  conditions.push(`t[${n + 1}] = 'VARCHAR' AND v[${n + 1}] IN (${kinds.join()})`);
  conditions.push(`t[${n + 2}] = 'OBJECT' AND len(pk) = len(list_distinct(pk))`);
  conditions.push(
    `(t[${n + 3}] IS NULL OR (t[${n + 3}] = 'UBIGINT' AND TRY_CAST(v[${n + 3}] AS HUGEINT) BETWEEN 1 AND ${Number.MAX_SAFE_INTEGER}))`,
  );
  const known = [...fields, "kind", "payload", "cursor"].map(q);
  const required = (first.required as string[]).map(q);
  conditions.push(
    `len(k) = len(list_distinct(k)) AND list_has_all([${known.join()}], k) AND list_has_all(k, [${required.join()}])`,
  );
  return `SELECT count(*) FILTER (WHERE ${rules ? conditions.join("\n  AND ") : "t IS NOT NULL AND v IS NOT NULL AND k IS NOT NULL AND pk IS NOT NULL"}), count(*)
FROM (SELECT json_type(j, [${paths.join()}]) AS t, json_extract_string(j, [${paths.join()}]) AS v,
  json_keys(j) AS k, json_keys(j, '$.payload') AS pk
  FROM (SELECT json AS j FROM read_ndjson_objects([${files.map(q).join()}])))`;
}

interface Figure {
  label: string;
  what: string;
  cpu: number[];
  accepted: number;
}

async function main() {
  const log = preparedLog(join(here, ".data"), { events: EVENTS, seed: 42, days: 14 });
  const loadBefore = loadavg()[0]!;
  const lines = lineBounds(log.files.map((f) => readFileSync(f)));
  const total = lines.reduce((n, f) => n + f.starts.length, 0);
  console.log(
    `memory-check-floor: ${total} events in ${log.files.length} segments, ${ROUNDS} rounds`,
  );

  const js = (label: string, what: string, accept: (text: string) => boolean): Figure => {
    const figure: Figure = { label, what, cpu: [], accepted: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const cpu = process.cpuUsage();
      let accepted = 0;
      for (const { buffer, starts, ends } of lines)
        for (let i = 0; i < starts.length; i++)
          if (accept(buffer.toString("utf8", starts[i], ends[i]))) accepted += 1;
      figure.cpu.push(cpuSeconds(cpu));
      figure.accepted = accepted;
    }
    return figure;
  };
  const figures: Figure[] = [
    js("JavaScript: decode", "each line's UTF-8 into a string", (text) => text.length > 0),
    js(
      "JavaScript: decode + JSON.parse",
      "no check: the least a check in JavaScript costs",
      (text) => JSON.parse(text) !== null,
    ),
    js(
      "JavaScript: the sync's check",
      "`checkRecord` as a validation thread runs it: decode, JSON.parse, the check compiled from the contract's JSON Schema, the keys the text spells out; zod for what that check does not accept",
      (text) => checkRecord({ position: "", text }).ok,
    ),
  ];

  // Lines the contract's parser rewrites (a defaulted field left out): zod's share of the check.
  let rewritten = 0;
  for (const { buffer, starts, ends } of lines)
    for (let i = 0; i < starts.length; i++) {
      const text = buffer.toString("utf8", starts[i], ends[i]);
      const checked = checkRecord({ position: "", text });
      if (checked.ok && checked.value.line !== text) rewritten += 1;
    }

  const db = await openDuckDB({ config: { threads: "2" } });
  try {
    const sql = async (label: string, what: string, query: string): Promise<Figure> => {
      const figure: Figure = { label, what, cpu: [], accepted: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const cpu = process.cpuUsage();
        const row = (await db.connection.runAndReadAll(query)).getRows()[0]!;
        figure.cpu.push(cpuSeconds(cpu));
        figure.accepted = Number(row[0]);
      }
      return figure;
    };
    const files = `[${log.files.map((f) => `'${f}'`).join()}]`;
    figures.push(
      await sql(
        "DuckDB: parse",
        "`read_ndjson_objects`, counted: each line parsed once",
        `SELECT count(*) FROM read_ndjson_objects(${files})`,
      ),
      await sql(
        "DuckDB: typed read",
        "the stage's (and plain DuckDB's) `read_json` with the lake's 11 columns, nothing checked",
        `SELECT count(payload) FROM read_json(${files}, format = 'newline_delimited', columns = {event_id: 'UUID', tenant: 'VARCHAR', run_id: 'UUID', agent_id: 'VARCHAR', source: 'VARCHAR', seq: 'BIGINT', attempt: 'INTEGER', kind: 'VARCHAR', ts: 'TIMESTAMPTZ', payload: 'JSON', cursor: 'BIGINT'})`,
      ),
      await sql(
        "DuckDB: the envelope checked in SQL",
        "compiled from the contract's JSON Schema: every field's JSON type, pattern (RE2), enum and range, the keys known and not repeated (top level and payload); no payload field checked",
        envelopeCheckSql(log.files),
      ),
      await sql(
        "DuckDB: the envelope check's reads alone",
        "the same four parses of each line (types, values, keys, payload keys), no rule applied",
        envelopeCheckSql(log.files, false),
      ),
    );
  } finally {
    db.close();
  }
  const loadAfter = loadavg()[0]!;

  const perMillion = (cpu: number[]) => (median(cpu) * 1_000_000) / total;
  for (const f of figures)
    console.log(
      `${f.label}: ${fmt(perMillion(f.cpu), 2)} CPU s per million (${f.cpu.map((c) => fmt(c, 2)).join(", ")}), ${f.accepted} accepted`,
    );
  console.log(`load average (1 min): ${fmt(loadBefore, 2)} before, ${fmt(loadAfter, 2)} after`);
  if (EVENTS !== 1_000_000) return;
  const cpu = cpus();
  const rows = figures.map((f) => [
    f.label,
    `**${fmt(perMillion(f.cpu), 2)}**`,
    f.cpu.map((c) => fmt(c, 2)).join(", "),
    f.accepted.toLocaleString("en-US"),
    f.what,
  ]);
  const table = [
    ["way", "CPU s per million events (median)", "rounds", "lines accepted", "what it does"],
    ["---", "---", "---", "---", "---"],
    ...rows,
  ]
    .map((r) => `| ${r.join(" | ")} |`)
    .join("\n");
  writeFileSync(
    join(here, "results", "memory-check-floor.md"),
    `# What checking the contract costs

Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version.slice(1)}, DuckDB ${DUCKDB_VERSION}, ${process.platform}; load average ${fmt(loadBefore, 2)} before, ${fmt(loadAfter, 2)} after (the machine is shared).
Command: \`npx tsx bench/memory-check-floor.ts\`.

Log: ${total.toLocaleString("en-US")} synthetic events (the memory projection's, \`bench/memory-synthetic.ts\`, seed 42, 14 days), ${log.files.length} NDJSON segments. JavaScript runs on one thread over lines in memory; DuckDB (2 threads) reads the segment files from the page cache. CPU seconds are the process's, all threads, median of ${ROUNDS} rounds.

${table}

Lines the contract's parser rewrote (a field it defaults left out, which only zod fills in):
${rewritten.toLocaleString("en-US")}. What this means for the memory sync's 1.5x target:
bench/results/memory-projection.md, "What 1.5x would take".
`,
  );
  console.log("wrote bench/results/memory-check-floor.md");
}

await main();
