import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDBAppender, DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { sqlString } from "../lake/location";
import type { QuarantinedRecord } from "./validate";

/**
 * The database DuckDB opens for the lake's process (see openDuckDB): native, in memory, shared by
 * the instance's connections.
 */
const SHARED = "auraison";

/** A staged line: its place in the log (`o`) and the event (`e`), typed as the lake's columns. */
const LINE_COLUMNS =
  "{o: 'INTEGER', e: 'STRUCT(event_id UUID, tenant VARCHAR, run_id UUID, agent_id VARCHAR, source VARCHAR, seq BIGINT, attempt INTEGER, kind VARCHAR, ts TIMESTAMPTZ, payload JSON, cursor BIGINT)'}";

/** DuckDB's default largest JSON object in read_json: a larger event raises it for its slice. */
const MAX_OBJECT_BYTES = 16 * 2 ** 20;

/**
 * Where a batch waits before its lake transaction. Validated events go to DuckDB as their JSON
 * text, a slice at a time: JavaScript writes the slice to a file (one write, where an appender
 * would take a call per event on JavaScript's thread, and a string parameter one thread of
 * DuckDB's to split it) and DuckDB's read_json types it on all its threads while JavaScript
 * validates the next slice; the file goes once it is read. The lake transaction moves the batch
 * into the lake with one INSERT ... SELECT per table: large batches, never row by row. When the
 * batch is complete, DuckDB drops the repeats of an event_id (keeping the first) and reports the
 * batch's id range.
 *
 * Two slots, each with its own tables in DuckDB's in-memory database (shared by the instance's
 * connections, unlike TEMP tables), written through a connection of its own: the next batch is
 * staged into one slot while the lake transaction reads the other. A caller that holds one lake
 * transaction open for many batches (a rebuild) stages through that connection instead, into
 * TEMP tables: a transaction sees no rows another connection commits after it began, and writes
 * to no second database.
 */
export class Stage {
  /** The conversion of the last slice appended, still running. */
  private converting: Promise<unknown> = Promise.resolve();

  /** Where the slices wait for read_json, private to this stage; gone with it. */
  private readonly files = stageDirectory();
  private slices = 0;

  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly db: string,
    private readonly owned: boolean,
  ) {}

  /** A stage with a connection of its own, or on `shared` (its TEMP tables). */
  static async open(instance: DuckDBInstance, shared?: DuckDBConnection): Promise<Stage> {
    const connection = shared ?? (await instance.connect());
    const db = shared ? "temp" : SHARED;
    const create = shared ? "CREATE OR REPLACE TEMP TABLE" : "CREATE OR REPLACE TABLE";
    for (const slot of [0, 1]) {
      await connection.run(`${create} ${db}.main.stage_events_${slot} (
        ord INTEGER, cursor BIGINT, event_id UUID, tenant VARCHAR, run_id UUID, agent_id VARCHAR,
        source VARCHAR, seq BIGINT, attempt INTEGER, kind VARCHAR, ts TIMESTAMPTZ, payload JSON)`);
      await connection.run(`${create} ${db}.main.stage_quarantine_${slot} (
        position VARCHAR, event_id VARCHAR, kind VARCHAR, reason VARCHAR, issues VARCHAR,
        raw VARCHAR)`);
    }
    return new Stage(connection, db, !shared);
  }

  close(): void {
    if (this.owned) this.connection.closeSync();
    rmSync(this.files, { recursive: true, force: true });
  }

  /** Where a slot's staged events are, typed as the lake's `events` columns. */
  events(slot: number): string {
    return `${this.db}.main.stage_events_${slot}`;
  }

  quarantine(slot: number): string {
    return `${this.db}.main.stage_quarantine_${slot}`;
  }

  async clear(slot: number): Promise<void> {
    await this.converting;
    await this.connection.run(`TRUNCATE ${this.events(slot)}`);
    await this.connection.run(`TRUNCATE ${this.quarantine(slot)}`);
  }

  /** Appends a slice of events (see `stagedText`) and starts typing them; `finish` waits. */
  async appendEvents(slot: number, slice: StagedText): Promise<void> {
    await this.converting;
    if (slice.count === 0) return;
    const file = join(this.files, `${slot}-${this.slices++}.ndjson`);
    // Another process may have taken an idle stage's directory for a crashed one's.
    mkdirSync(this.files, { recursive: true });
    writeFileSync(file, slice.text);
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    const maxObject = Math.max(MAX_OBJECT_BYTES, 3 * slice.longest + 64);
    this.converting = this.connection
      .run(
        `INSERT INTO ${this.events(slot)}
         SELECT o, e.cursor, e.event_id, e.tenant, e.run_id, e.agent_id, e.source, e.seq,
           e.attempt, e.kind, e.ts, e.payload
         FROM read_json(${sqlString(file)}, format = 'newline_delimited',
           maximum_object_size = ${maxObject}, columns = ${LINE_COLUMNS})`,
      )
      .finally(() => rmSync(file, { force: true }));
    // Observed here; `finish` (or the next append) reports a failure.
    this.converting.catch(() => undefined);
  }

  /**
   * Waits until every slice appended is typed, drops the repeats of an event_id (the first in
   * log order stays) and returns how many events are staged and their lowest and highest id
   * (lowercase, as DuckDB sorts UUIDs), null for none.
   */
  async finish(slot: number): Promise<{ events: number; low: string | null; high: string | null }> {
    await this.converting;
    const table = this.events(slot);
    const [events, distinct, low, high] = (
      await this.connection.runAndReadAll(
        `SELECT count(*)::DOUBLE, count(DISTINCT event_id)::DOUBLE, min(event_id)::VARCHAR,
           max(event_id)::VARCHAR FROM ${table}`,
      )
    ).getRows()[0]! as [number, number, string | null, string | null];
    if (distinct < events)
      await this.connection.run(`DELETE FROM ${table} WHERE ord IN (
        SELECT ord FROM ${table} QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ord) > 1)`);
    return { events: distinct, low, high };
  }

  async appendQuarantine(slot: number, records: readonly QuarantinedRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One statement at a time on the connection: the slice being typed goes first.
    await this.converting;
    const a = await this.connection.createAppender(`stage_quarantine_${slot}`, "main", this.db);
    try {
      for (const q of records) {
        a.appendVarchar(q.position);
        text(a, q.event_id);
        text(a, q.kind);
        a.appendVarchar(q.reason);
        a.appendVarchar(JSON.stringify(q.issues));
        a.appendVarchar(q.raw);
        a.endRow();
      }
    } finally {
      a.closeSync();
    }
  }
}

function text(appender: DuckDBAppender, value: string | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}

/** A slice of valid events as the stage reads it: one line per event, with its place in the log. */
export interface StagedText {
  text: string;
  count: number;
  /** The longest event's text, in UTF-16 units. */
  longest: number;
}

/**
 * Valid events' JSON text (`lines`, each equal as JSON to what the contract's parser returns)
 * as the stage reads them, each with its place in the log (`ords`). JSON text holds no raw
 * newline (inside strings it is escaped), so each takes one line.
 */
export function stagedText(lines: readonly string[], ords: readonly number[]): StagedText {
  let longest = 0;
  const text = lines
    .map((line, i) => {
      if (line.length > longest) longest = line.length;
      return `{"o":${ords[i]},"e":${line}}`;
    })
    .join("\n");
  return { text, count: lines.length, longest };
}

/** Slices as one, in order. */
export function joinStaged(slices: readonly StagedText[]): StagedText {
  if (slices.length === 1) return slices[0]!;
  const filled = slices.filter((s) => s.count > 0);
  return {
    text: filled.map((s) => s.text).join("\n"),
    count: filled.reduce((n, s) => n + s.count, 0),
    longest: Math.max(0, ...filled.map((s) => s.longest)),
  };
}

const STAGE_PREFIX = "auraison-stage-";
/** A stage's directory changes with every slice; one untouched this long is left from a crash. */
const STALE_MS = 60 * 60 * 1000;

/** A new directory for a stage's slices; those left by processes killed mid-sync go first. */
function stageDirectory(): string {
  const root = tmpdir();
  for (const name of readdirSync(root)) {
    if (!name.startsWith(STAGE_PREFIX)) continue;
    const path = join(root, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by its own process meanwhile.
    }
  }
  return mkdtempSync(join(root, STAGE_PREFIX));
}
