import type { DuckDBConnection } from "@duckdb/node-api";
import { assertNotCompacting, claimGuard } from "../lake/guard";
import { sqlString } from "../lake/location";
import { withTransaction } from "../lake/retry";
import type { Cursor } from "../sources/source";
import { deriveTouched } from "./derive-touched";
import { type Steps, timed } from "./steps";

/** A batch staged in a slot of the Stage, ready for its lake transaction. */
export interface BatchInput {
  origin: string;
  /**
   * The tables holding the staged batch (events typed as the lake's, no event_id twice;
   * quarantined entries), and how many events are staged.
   */
  staged: { events: string; quarantine: string; count: number };
  /** Valid entries of the batch, repeats included. */
  valid: number;
  quarantined: number;
  /** Lowest and highest staged event_id (lowercase), null for none. */
  low: string | null;
  high: string | null;
  /** Where the source was read up to: written in the same transaction as the rows. */
  cursors: readonly Cursor[];
  /** Names this process in `sync_guard`. */
  writer: string;
}

export interface BatchResult {
  /** New events written to the log. */
  events: number;
  /** Events the lake (or the batch) already had, by event_id. */
  duplicates: number;
  /** New quarantine rows: a line the lake had quarantined already is not counted. */
  quarantined: number;
  /** Runs whose rows were derived (again). */
  runs: number;
  /** Commit attempts it took (more than one when another writer committed first). */
  attempts: number;
  /** Milliseconds in the lake transaction (all attempts): dedupe, derive, write, commit. */
  transactionMs: number;
  /** The same, by step (the last attempt); `commit` is the rest: COMMIT and retries. */
  steps: Steps;
}

export const EVENT_COLUMNS =
  "event_id, tenant, run_id, agent_id, source, seq, attempt, kind, ts, cursor, payload";

/**
 * Writes one batch in one lake transaction: the new events (deduplicated by event_id against
 * the batch and the lake), the quarantined records, every derived row of the runs the batch
 * touched, and the source cursors. A crash before COMMIT leaves the lake as it was, and the
 * re-run reads the same batch again; a conflict with another writer redoes the transaction.
 */
export async function commitBatch(
  connection: DuckDBConnection,
  input: BatchInput,
): Promise<BatchResult> {
  const started = performance.now();
  let attempts = 0;
  let writing = 0;
  let written = 0;
  // Writers serialise on sync_guard, so under contention a batch may lose several races in a row.
  const result = await withTransaction(
    connection,
    async () => {
      attempts += 1;
      writing = performance.now();
      const done = await writeBatch(connection, input);
      written = performance.now();
      return done;
    },
    { attempts: 60 },
  );
  const transactionMs = performance.now() - started;
  // Steps overlap (the events are written while the fold replays), so the rest is timed apart.
  result.steps.commit = transactionMs - (written - writing);
  return { ...result, attempts, transactionMs };
}

/**
 * The statements of `commitBatch` without its transaction, for a caller that holds one open
 * (a rebuild writes the whole log in one transaction).
 */
export async function writeBatch(
  c: DuckDBConnection,
  input: BatchInput,
): Promise<Omit<BatchResult, "attempts" | "transactionMs">> {
  const { low, high } = input;
  const steps: Steps = {};
  await timed(steps, "guard", async () => {
    await assertNotCompacting(c);
    await claimGuard(c, input.writer);
  });
  // The batch repeats no event_id (staging dropped repeats). Only the lake's events in the
  // batch's id range can collide: UUIDv7 ids sort by time, so the range lets DuckLake skip the
  // files whose min/max event_id lie outside it. The batch is read where it was staged, not
  // copied: only the ids the lake already has (usually none) are set aside.
  const range =
    low === null
      ? "false"
      : `e.event_id BETWEEN ${sqlString(low)}::UUID AND ${sqlString(high!)}::UUID`;
  const staged = input.staged.events;
  const duplicates = await timed(steps, "dedupe", async () => {
    await c.run(`CREATE OR REPLACE TEMP TABLE duplicates AS
      SELECT s.event_id FROM ${staged} s
      WHERE EXISTS (SELECT 1 FROM memory.events e WHERE ${range} AND e.event_id = s.event_id)`);
    return count(c, "duplicates");
  });
  await c.run(`CREATE OR REPLACE TEMP VIEW batch AS
    SELECT ${EVENT_COLUMNS}, ${sqlString(input.origin)} AS origin FROM ${staged} s
    ${duplicates ? "WHERE s.event_id NOT IN (SELECT event_id FROM duplicates)" : ""}`);
  const events = input.staged.count - duplicates;

  const touched = performance.now();
  await c.run(`CREATE OR REPLACE TEMP TABLE existing AS
    SELECT run_id, min(created_at) AS created_at FROM memory.runs
    WHERE run_id IN (SELECT run_id FROM batch WHERE run_id IS NOT NULL)
    GROUP BY run_id`);
  // A literal, so DuckLake can skip the files of days before the oldest run touched.
  const oldest = (
    await c.runAndReadAll("SELECT strftime(min(created_at), '%Y-%m-%dT%H:%M:%S.%fZ') FROM existing")
  ).getRows()[0]![0] as string | null;
  const since = oldest === null ? null : `${sqlString(oldest)}::TIMESTAMPTZ`;
  // The lake's events of the touched runs are read (from Parquet) once, before the batch joins them.
  await c.run(`CREATE OR REPLACE TEMP TABLE lake_run_events AS
    SELECT ${EVENT_COLUMNS} FROM memory.events
    WHERE ${since === null ? "false" : `run_id IN (SELECT run_id FROM existing) AND ts >= ${since}`}`);
  await c.run(`CREATE OR REPLACE TEMP VIEW run_events AS
    SELECT ${EVENT_COLUMNS} FROM batch WHERE run_id IS NOT NULL
    UNION ALL SELECT ${EVENT_COLUMNS} FROM lake_run_events`);
  steps["touched runs' events"] = performance.now() - touched;
  const quarantined = await timed(steps, "quarantine", () => writeQuarantine(c, input));
  // The events are written (Parquet, on DuckDB's threads) while the fold replays the runs in
  // JavaScript: nothing derived reads them from the lake.
  const runs = await deriveTouched(c, since, steps, () =>
    timed(steps, "events", () => c.run("INSERT INTO memory.events BY NAME SELECT * FROM batch")),
  );
  await timed(steps, "cursors", () => writeCursors(c, input.cursors));
  return { events, duplicates: input.valid - events, quarantined, runs, steps };
}

/**
 * Inserts the batch's quarantined entries the lake does not have yet, and returns how many: two
 * syncs of one source at once both read its bad lines, and the one that commits second (or a
 * sync behind the other's cursor) must not quarantine them again. A line is its place and its
 * text; the place alone is not enough, since a file replaced by another reuses its places.
 */
async function writeQuarantine(c: DuckDBConnection, input: BatchInput): Promise<number> {
  if (input.quarantined === 0) return 0;
  const inserted = await c.runAndReadAll(
    `INSERT INTO memory.quarantine BY NAME
     SELECT $1 AS origin, position, event_id, kind, reason, issues::JSON AS issues, raw
     FROM ${input.staged.quarantine} s
     WHERE NOT EXISTS (SELECT 1 FROM memory.quarantine q
       WHERE q.origin = $1 AND q.position = s.position AND q.raw = s.raw)`,
    [input.origin],
  );
  return Number(inserted.getRows()[0]![0]);
}

/** The lake's cursors of a source, or of those of its files. */
export async function readCursors(
  connection: DuckDBConnection,
  origin: string,
  files?: readonly string[],
): Promise<Cursor[]> {
  const only = files ? `AND file IN (${files.map(sqlString).join(", ")})` : "";
  const read = await connection.runAndReadAll(
    `SELECT origin, file, position, lines, complete, fingerprint FROM memory.sync_cursors
     WHERE origin = $1 ${only}`,
    [origin],
  );
  return read.getRows().map(([o, file, position, lines, complete, fingerprint]) => ({
    origin: String(o),
    file: String(file),
    position: Number(position),
    lines: Number(lines),
    complete: Boolean(complete),
    fingerprint: fingerprint === null ? null : String(fingerprint),
  }));
}

/**
 * Stores the batch's cursors, except where the lake's is further: a sync that started before
 * another one committed read from behind it, and its cursor must not take the source back.
 */
async function writeCursors(c: DuckDBConnection, cursors: readonly Cursor[]): Promise<void> {
  if (cursors.length === 0) return;
  // A batch comes from one source, so its cursors share one origin.
  const origin = cursors[0]!.origin;
  const files = cursors.map((k) => k.file);
  const stored = new Map((await readCursors(c, origin, files)).map((k) => [k.file, k]));
  const moving = cursors.filter((k) => further(stored.get(k.file), k) === k);
  if (moving.length === 0) return;
  const replaced = moving.map((k) => sqlString(k.file)).join(", ");
  await c.run(
    `DELETE FROM memory.sync_cursors WHERE origin = ${sqlString(origin)} AND file IN (${replaced})`,
  );
  const rows = moving
    .map(
      (k) =>
        `(${sqlString(k.origin)}, ${sqlString(k.file)}, ${k.position}, ${k.lines}, ${k.complete}, now(), ${k.fingerprint === null ? "NULL" : sqlString(k.fingerprint)})`,
    )
    .join(", ");
  await c.run(
    `INSERT INTO memory.sync_cursors (origin, file, position, lines, complete, updated_at, fingerprint) VALUES ${rows}`,
  );
}

/**
 * Of a stored cursor and a new one of the same file, the one read further. Cursors of two
 * different files by one name (their fingerprints differ) are not comparable: the new one wins,
 * since a stale one only makes the next sync read the file again from its start.
 */
function further(stored: Cursor | undefined, next: Cursor): Cursor {
  if (!stored) return next;
  if (
    stored.fingerprint !== null &&
    next.fingerprint !== null &&
    stored.fingerprint !== next.fingerprint
  )
    return next;
  if (stored.complete) return stored;
  return stored.position > next.position ? stored : next;
}

async function count(c: DuckDBConnection, table: string): Promise<number> {
  return Number((await c.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0]![0]);
}
