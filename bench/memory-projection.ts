/**
 * Memory projection benchmark: a deterministic synthetic log (bench/memory-synthetic.ts) synced
 * into a fresh local lake (SQLite catalog, Parquet), then compacted, then five typical queries;
 * in the same run, plain DuckDB loads the same NDJSON into a native table, for the ratio.
 *
 *   tsx bench/memory-projection.ts                  # 1,000,000 events, 3 rounds
 *   tsx bench/memory-projection.ts --events 50000   # a quick run
 *   tsx bench/memory-projection.ts --events 10000000 --rounds 1 --out memory-projection-10m.md
 *
 * Each round syncs a fresh lake and then loads the same NDJSON into plain DuckDB, so the ratio
 * of the two is measured under the same load (the machine is shared); the figures are medians of
 * the rounds. The last round's lake is compacted and queried. Prints its figures and writes them
 * to bench/results/memory-projection.md (full size only, unless --write or --out).
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  compact,
  costsSql,
  DERIVED_TABLES,
  DirectorySource,
  DUCKDB_VERSION,
  denialsSql,
  failedRunsSql,
  type Lake,
  lakeFiles,
  openDuckDB,
  openLake,
  readQuery,
  resolveLakeLocation,
  slowToolsSql,
  sync,
} from "../lakehouse";
import { flag, preparedLog } from "./memory-synthetic";
import { fmt, median } from "./stats";

const here = dirname(fileURLToPath(import.meta.url));

const EVENTS = Number(flag("events", "1000000"));
const SEED = Number(flag("seed", "42"));
const DAYS = Number(flag("days", "14"));
const BATCH = Number(flag("batch-size", "1000000"));
const REPEAT = Number(flag("repeat", "5"));
const ROUNDS = Number(flag("rounds", "3"));
const OUT = flag("out", "memory-projection.md");
const data = join(here, ".data");
const lakeDir = join(data, "memory-lake");
const nativeFile = join(data, "memory-native.duckdb");
const floorDir = join(data, "memory-floor-lake");

const seconds = (from: number) => (performance.now() - from) / 1000;
const cpuSeconds = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
};
const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;

function diskUsage(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".parquet")) continue;
    files += 1;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

/** The log's events as plain DuckDB reads them: typed as the lake's columns, nothing checked. */
const readLog = (
  dir: string,
) => `read_json('${dir}/*.ndjson', format = 'newline_delimited', columns = {
  event_id: 'UUID', tenant: 'VARCHAR', run_id: 'UUID', agent_id: 'VARCHAR',
  source: 'VARCHAR', seq: 'BIGINT', attempt: 'INTEGER', kind: 'VARCHAR',
  payload: 'JSON', ts: 'TIMESTAMPTZ', cursor: 'BIGINT'})`;

async function nativeLoad(
  logDir: string,
): Promise<{ seconds: number; bytes: number; rows: number }> {
  rmSync(nativeFile, { force: true });
  rmSync(`${nativeFile}.wal`, { force: true });
  const db = await openDuckDB({ path: nativeFile });
  try {
    const started = performance.now();
    await db.connection.run(`CREATE TABLE events AS SELECT * FROM ${readLog(logDir)}`);
    await db.connection.run("CHECKPOINT");
    const took = seconds(started);
    const rows = Number(
      (await db.connection.runAndReadAll("SELECT count(*) FROM events")).getRows()[0]![0],
    );
    return { seconds: took, bytes: statSync(nativeFile).size, rows };
  } finally {
    db.close();
  }
}

/**
 * What the lake's storage alone costs: the same read_json inserted straight into a fresh lake's
 * `events` table in one transaction (Parquet and a catalog commit), nothing checked, deduplicated
 * or derived. The sync's floor on this machine, were checking and deriving free.
 */
async function lakeFloor(logDir: string): Promise<number> {
  rmSync(floorDir, { recursive: true, force: true });
  const lake = await openLake(resolveLakeLocation({ dir: floorDir }, floorDir, {}), { env: {} });
  try {
    const started = performance.now();
    await lake.connection.run("BEGIN");
    await lake.connection.run(
      `INSERT INTO memory.events BY NAME SELECT *, 'floor' AS origin FROM ${readLog(logDir)}`,
    );
    await lake.connection.run("COMMIT");
    return seconds(started);
  } finally {
    lake.close();
    rmSync(floorDir, { recursive: true, force: true });
  }
}

interface QueryFigure {
  name: string;
  sql: string;
  rows: number;
  medianMs: number;
  maxMs: number;
}

async function typicalQueries(lake: Lake): Promise<QueryFigure[]> {
  const c = lake.connection;
  const end = new Date(
    String((await readQuery(c, "SELECT max(ts) AS t FROM memory.events")).rows[0]!.t),
  );
  const day = new Date(end.getTime() - 86_400_000);
  const week = new Date(end.getTime() - 7 * 86_400_000);
  const run = (
    await readQuery(
      c,
      `SELECT run_id FROM memory.runs WHERE status = 'failed' ORDER BY created_at DESC LIMIT 1`,
    )
  ).rows[0]!.run_id as string;
  const queries = [
    {
      name: "failed runs, last day (`memory runs --failed --since 1d`)",
      sql: failedRunsSql({ since: day }),
    },
    { name: "cost by app and model, all time (`memory costs`)", sql: costsSql({}) },
    {
      name: "slowest tools, last 7 days (`memory slow-tools --since 7d`)",
      sql: slowToolsSql({ since: week }),
    },
    {
      name: "policy denials of one app, last day (`memory denials`)",
      sql: denialsSql({ since: day, app: "dea" }),
    },
    {
      name: "one run's events in order (a failed run's timeline)",
      sql: `SELECT ts, kind, agent_id, payload FROM memory.events WHERE run_id = '${run}' ORDER BY ts, seq`,
    },
  ];
  const out: QueryFigure[] = [];
  for (const q of queries) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < REPEAT; i++) {
      const started = performance.now();
      rows = (await readQuery(c, q.sql)).rows.length;
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    out.push({
      ...q,
      rows,
      medianMs: times[Math.floor(times.length / 2)]!,
      maxMs: times[times.length - 1]!,
    });
  }
  return out;
}

interface Round {
  sync: number;
  native: number;
  ratio: number;
  /** CPU seconds of the whole process (every thread: validation, DuckDB) in each. */
  syncCpu: number;
  nativeCpu: number;
  /** Seconds DuckDB takes to write the log alone into a lake (see lakeFloor). */
  floor: number;
  report: Awaited<ReturnType<typeof sync>>;
  load: number;
}

async function main() {
  mkdirSync(data, { recursive: true });
  const loadBefore = loadavg()[0]!;
  console.log(
    `memory-projection: ${EVENTS} events, seed ${SEED}, ${DAYS} days, batches of ${BATCH}, ${ROUNDS} rounds`,
  );
  const log = preparedLog(data, { events: EVENTS, seed: SEED, days: DAYS });
  console.log(
    `log: ${log.files.length} NDJSON segments, ${mib(log.bytes)} (ready in ${fmt(log.seconds)} s)`,
  );
  const location = resolveLakeLocation({ dir: lakeDir }, lakeDir, {});
  const rounds: Round[] = [];
  let native: Awaited<ReturnType<typeof nativeLoad>> | undefined;
  for (let round = 1; round <= ROUNDS; round++) {
    rmSync(lakeDir, { recursive: true, force: true });
    const lake = await openLake(location, { env: {} });
    let report: Awaited<ReturnType<typeof sync>>;
    let took: number;
    let syncCpu: number;
    try {
      const started = performance.now();
      const cpu = process.cpuUsage();
      report = await sync(lake, new DirectorySource(log.dir), { batchSize: BATCH, compact: false });
      took = seconds(started);
      syncCpu = cpuSeconds(cpu);
    } finally {
      lake.close();
    }
    if (report.events !== EVENTS) throw new Error(`synced ${report.events} of ${EVENTS} events`);
    const cpu = process.cpuUsage();
    native = await nativeLoad(log.dir);
    const nativeCpu = cpuSeconds(cpu);
    const floor = await lakeFloor(log.dir);
    const t = report.timings;
    rounds.push({
      sync: took,
      native: native.seconds,
      ratio: took / native.seconds,
      syncCpu,
      nativeCpu,
      floor,
      report,
      load: loadavg()[0]!,
    });
    console.log(
      `round ${round}: sync ${fmt(took)} s (${fmt(EVENTS / took, 0)} events/s, CPU ${fmt(syncCpu)} s), plain DuckDB ${fmt(native.seconds)} s (CPU ${fmt(nativeCpu)} s), into a lake alone ${fmt(floor)} s, ratio ${fmt(took / native.seconds, 2)}x; ` +
        `busy: read ${fmt(t.read / 1000)} s, validate ${fmt(t.validate / 1000)} s, stage ${fmt(t.stage / 1000)} s, transactions ${fmt(t.transaction / 1000)} s ` +
        `(${Object.entries(t.steps)
          .map(([step, ms]) => `${step} ${fmt(ms / 1000, 2)}`)
          .join(", ")})`,
    );
  }
  const syncSeconds = median(rounds.map((r) => r.sync));
  const nativeSeconds = median(rounds.map((r) => r.native));
  const ratio = median(rounds.map((r) => r.ratio));
  const floorSeconds = median(rounds.map((r) => r.floor));
  const busy = (key: Exclude<keyof Round["report"]["timings"], "steps">) =>
    median(rounds.map((r) => r.report.timings[key] / 1000));
  const step = (name: string) =>
    median(rounds.map((r) => (r.report.timings.steps[name] ?? 0) / 1000));
  const steps = Object.keys(rounds[0]!.report.timings.steps);

  const lake = await openLake(location, { env: {} });
  let compactSeconds: number;
  let afterSync: Awaited<ReturnType<typeof lakeFiles>>;
  let afterCompaction: Awaited<ReturnType<typeof lakeFiles>>;
  const diskAfterSync = diskUsage(join(lakeDir, "data"));
  try {
    afterSync = await lakeFiles(lake.connection);
    const compaction = await compact(lake.connection, { flushInlinedAt: 0 });
    compactSeconds = compaction.seconds;
    afterCompaction = compaction.after;
    console.log(
      `compaction: ${fmt(compactSeconds)} s; ${afterCompaction.files} files, ${mib(afterCompaction.bytes)}`,
    );
  } finally {
    lake.close();
  }
  const reader = await openLake(location, { readOnly: true, env: {} });
  let queries: QueryFigure[];
  const rowCounts: Record<string, number> = {};
  try {
    queries = await typicalQueries(reader);
    for (const q of queries)
      console.log(
        `query: ${q.name}: median ${fmt(q.medianMs)} ms, max ${fmt(q.maxMs)} ms, ${q.rows} rows`,
      );
    for (const table of ["events", ...DERIVED_TABLES, "quarantine"])
      rowCounts[table] = Number(
        (
          await reader.connection.runAndReadAll(`SELECT count(*) FROM memory.${table}`)
        ).getRows()[0]![0],
      );
  } finally {
    reader.close();
  }
  const diskAfterCompaction = diskUsage(join(lakeDir, "data"));
  const total = syncSeconds + compactSeconds;
  console.log(
    `median of ${ROUNDS}: sync ${fmt(syncSeconds)} s, plain DuckDB ${fmt(nativeSeconds)} s, ratio ${fmt(ratio, 2)}x (target 3x, then 1.5x)`,
  );
  const loadAfter = loadavg()[0]!;
  console.log(`load average (1 min): ${fmt(loadBefore, 2)} before, ${fmt(loadAfter, 2)} after`);
  if (EVENTS === 1_000_000 || process.argv.includes("--write") || process.argv.includes("--out")) {
    const cpu = cpus();
    const machine = `${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version.slice(1)}, DuckDB ${DUCKDB_VERSION}, ${process.platform}`;
    const table = (rows: string[][]) => rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
    const body = `
Log: ${EVENTS.toLocaleString("en-US")} synthetic events (\`bench/memory-synthetic.ts\`, seed ${SEED}, ${DAYS} days, ${rowCounts.runs?.toLocaleString("en-US")} runs over 5 apps and 12 agents), ${log.files.length} NDJSON segments of central's archive format, ${mib(log.bytes)}.
Lake: SQLite catalog, local Parquet, synced with \`sync()\` (what \`auraison memory sync --from-dir\` runs) in batches of ${BATCH.toLocaleString("en-US")} events.

## Projection (median of ${ROUNDS} rounds)

Each round syncs a fresh lake, then plain DuckDB loads the same NDJSON, so both run under the
same load; the ratio is the median of the rounds' ratios.

${table([
  ["figure", "value"],
  ["---", "---"],
  [
    "sync (validate, stage, derive, commit)",
    `${fmt(syncSeconds)} s = **${fmt(EVENTS / syncSeconds, 0)} events/s**`,
  ],
  [
    "plain DuckDB: `read_json` into a native table",
    `${fmt(nativeSeconds)} s (${fmt(EVENTS / nativeSeconds, 0)} events/s), ${mib(native!.bytes)}`,
  ],
  ["**ratio** lake sync / plain DuckDB load", `**${fmt(ratio, 2)}x** (target 3x, then 1.5x)`],
  [
    "DuckDB alone into a lake: the same `read_json` into the lake's `events` (Parquet, one commit; nothing checked or derived)",
    `${fmt(floorSeconds)} s (${fmt(floorSeconds / nativeSeconds, 2)}x plain DuckDB)`,
  ],
  ["compaction (flush inlined rows, rewrite, merge), last round", `${fmt(compactSeconds)} s`],
  ["sync + compaction", `${fmt(total)} s`],
  ["lake size after compaction (Parquet, current snapshot)", mib(afterCompaction.bytes)],
])}

${table([
  [
    "round",
    "sync",
    "plain DuckDB",
    "DuckDB alone into a lake",
    "ratio",
    "CPU: sync",
    "CPU: plain DuckDB",
    "load average after",
  ],
  ["---", "---", "---", "---", "---", "---", "---", "---"],
  ...rounds.map((r, i) => [
    String(i + 1),
    `${fmt(r.sync)} s`,
    `${fmt(r.native)} s`,
    `${fmt(r.floor)} s`,
    `${fmt(r.ratio, 2)}x`,
    `${fmt(r.syncCpu)} s`,
    `${fmt(r.nativeCpu)} s`,
    fmt(r.load, 2),
  ]),
])}

DuckDB alone into a lake is the sync's storage floor on this machine: it writes the same events
as Parquet into a fresh lake in one commit (columnar Parquet writes faster than DuckDB's own
file), checking, deduplicating and deriving nothing. Everything above it is the contract's check
of every event, the fold and the six derived tables.

CPU is the process's time on all its threads (the validation threads and DuckDB's included):
on 2 shared cores it is what the sync costs, less dependent on the load than wall time. Round 1
is the process's first sync, as a one-shot \`auraison memory sync\` is: it starts the validation
threads and compiles the checks; later rounds reuse them, as \`memory sync --follow\` does.

## Where the time goes

Time per phase of the sync on its own thread (median of the rounds). Validation threads (two,
started from the built module) get a log file's lines as its bytes (copied once and moved to the
thread: the sync's thread decodes no line), decode and check them against the contract while the
sync's thread reads on, and report only the lines that are not staged as written; DuckDB's read_json reads the segment files themselves (a copy of the
bytes, or the lines' text, only around a refused or rewritten line) while the next lines are
checked, and while DuckDB commits a batch the next one is read and staged, so the phases
overlap. Plain DuckDB only parses the NDJSON into one table; the projection also checks every
event against the contract, derives six tables from it, and writes Parquet (the log
unpartitioned, in row groups of 32,768 events; the derived tables by app and month) and a
catalog commit per batch.

${table([
  ["phase", "time", "what it is"],
  ["---", "---", "---"],
  [
    "read",
    `${fmt(busy("read"))} s`,
    "read segment files, find the complete lines (JS; their text is decoded on the validation threads)",
  ],
  [
    "validate",
    `${fmt(busy("validate"))} s`,
    "waiting for the validation threads (JS, two): JSON.parse and the check compiled from the contract's JSON Schema (zod only for what it does not accept), per event",
  ],
  [
    "stage",
    `${fmt(busy("stage"))} s`,
    "hand checked segments to DuckDB (read_json of the segment files, 200,000 events a statement) and wait while it types the group before",
  ],
  [
    "transactions",
    `${fmt(busy("transaction"))} s`,
    "per batch: dedupe against the lake, fold touched runs through the run machine, derive the tables in SQL, write Parquet, commit the catalog",
  ],
])}

The transactions by step (median busy time; \`fold\` replays every touched run through the
contract's fold, \`replayRun\`: reading the events it needs, replaying in JavaScript; payloads are
parsed, by group of kinds into that group's fields, within the statements that read them (the
fold's read and the tables'); the table names are their INSERTs, Parquet writes included;
\`events\` runs on DuckDB's threads while \`fold: replay\` runs in JavaScript, so the two overlap):

${table([
  ["step", "busy time"],
  ["---", "---"],
  ...steps.map((name) => [name, `${fmt(step(name), 2)} s`]),
])}

## Files and bytes

${table([
  [
    "",
    "data files (current snapshot)",
    "bytes (current snapshot)",
    "Parquet files on disk",
    "bytes on disk",
    "rows inlined in the catalog",
  ],
  ["---", "---", "---", "---", "---", "---"],
  [
    "after sync",
    String(afterSync.files),
    mib(afterSync.bytes),
    String(diskAfterSync.files),
    mib(diskAfterSync.bytes),
    String(afterSync.inlinedRows),
  ],
  [
    "after compaction",
    String(afterCompaction.files),
    mib(afterCompaction.bytes),
    String(diskAfterCompaction.files),
    mib(diskAfterCompaction.bytes),
    String(afterCompaction.inlinedRows),
  ],
])}

Files replaced by compaction stay on disk for time travel until their snapshots expire (\`auraison memory compact --expire-older-than <duration>\`). Rows: ${Object.entries(
      rowCounts,
    )
      .map(([t, n]) => `${t} ${n.toLocaleString("en-US")}`)
      .join(", ")}.

## Typical queries (compacted lake, read-only attach, median of ${REPEAT})

${table([
  ["query", "median", "max", "rows"],
  ["---", "---", "---", "---"],
  ...queries.map((q) => [q.name, `${fmt(q.medianMs)} ms`, `${fmt(q.maxMs)} ms`, String(q.rows)]),
])}
`;
    const shared = `The machine is shared: the 1-minute load average was ${fmt(loadBefore, 2)} when the run began and ${fmt(loadAfter, 2)} when it ended (other work on the same 2 cores), so wall times are upper bounds.\n`;
    const file = join(here, "results", OUT);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      `# Memory projection\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}.\n${shared}${body}`,
    );
    console.log(`wrote ${file}`);
  }
  if (!process.argv.includes("--keep")) rmSync(lakeDir, { recursive: true, force: true });
}

await main();
