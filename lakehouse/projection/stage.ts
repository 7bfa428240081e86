import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDBAppender, DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { sqlString } from "../lake/location";
import { completeLines } from "../sources/lines";
import type { FileSpan, SpanPart } from "../sources/source";
import { type QuarantinedRecord, unreadable } from "./validate";

/**
 * The database DuckDB opens for the lake's process (see openDuckDB): native, in memory, shared by
 * the instance's connections.
 */
const SHARED = "auraison";

/** The lake's `events` columns as read_json reads a log line: explicit, so it sniffs nothing. */
const EVENT_LINE_COLUMNS =
  "{event_id: 'UUID', tenant: 'VARCHAR', run_id: 'UUID', agent_id: 'VARCHAR', source: 'VARCHAR', seq: 'BIGINT', attempt: 'INTEGER', kind: 'VARCHAR', ts: 'TIMESTAMPTZ', payload: 'JSON', cursor: 'BIGINT'}";

/** The columns of EVENT_LINE_COLUMNS, in the order of the stage's tables. */
const EVENT_FIELDS =
  "event_id, tenant, run_id, agent_id, source, seq, attempt, kind, ts, payload, cursor";

/** DuckDB's default largest JSON object in read_json: a larger event raises it. */
const MAX_OBJECT_BYTES = 16 * 2 ** 20;

/** Events given to one read_json: files of a group are read on all DuckDB's threads at once. */
const GROUP_EVENTS = 200_000;

/** Bytes copied from a log file at once. */
const COPY_BYTES = 16 * 2 ** 20;

/** A span of a log file, and what names its lines in the quarantine. */
export type NamedSpan = FileSpan & Pick<SpanPart, "file" | "firstLine">;

/** Where in a span the contract refused a line (skipped) or its parser rewrote it. */
export interface SpanExceptions {
  /** Records of the span (0 = its first) quarantined. */
  excluded: ReadonlySet<number>;
  /** Records of the span staged as this text instead of theirs. */
  rewritten: ReadonlyMap<number, string>;
}

/** A file read_json reads into the stage. */
interface Piece {
  path: string;
  events: number;
  /** A file of the stage's own, removed once read. */
  owned: boolean;
  /** Read straight from the log: these bytes of it are what was validated. */
  span?: FileSpan;
  /** Where its lines are in the log, by position, or as lines of a span from its first. */
  positions: readonly string[] | NamedSpan;
}

/**
 * Where a batch waits before its lake transaction. DuckDB reads the events itself, with
 * read_json and the lake's columns, on all its threads: a log file the batch read whole and every
 * line of which passed the contract straight from the log (a sealed segment: the common case);
 * otherwise a file of the stage's own with the lines to stage (the validated bytes of the log
 * copied as they are, or, around refused or rewritten lines, the lines' text). JavaScript never
 * re-serialises an event. Files are read in groups while the validation threads check the next
 * lines, in log order, so a staged table's rowid order is log order (DuckDB preserves insertion
 * order). The lake transaction moves the batch into the lake with one INSERT ... SELECT per
 * table: large batches, never row by row. When the batch is complete, DuckDB drops the repeats of
 * an event_id (keeping the first) and reports the batch's id range.
 *
 * A log file may grow between the validation's read and DuckDB's (an outbox segment being
 * appended to): a group that read more (or other) events than were validated is taken back and
 * read again from copies of exactly the validated bytes.
 *
 * A line the contract accepts may still be one DuckDB cannot read (a number too large for its
 * column, or what the validation did not foresee): rather than fail the batch, and every sync
 * after it on the same line, the group is split until the lines DuckDB refuses are found, and
 * those are quarantined with DuckDB's reason while the rest is staged.
 *
 * Two slots, each with its own tables in DuckDB's in-memory database (shared by the instance's
 * connections, unlike TEMP tables), written through a connection of its own: the next batch is
 * staged into one slot while the lake transaction reads the other. A caller that holds one lake
 * transaction open for many batches (a rebuild) stages through that connection instead, into
 * TEMP tables: a transaction sees no rows another connection commits after it began, and writes
 * to no second database.
 */
export class Stage {
  /** The read_json of the last group, still running. */
  private converting: Promise<unknown> = Promise.resolve();
  /** Files waiting to be read, by slot, in log order. */
  private readonly queued: Piece[][] = [[], []];
  /** The longest line of the slot's batch, in UTF-16 units (for read_json's object limit). */
  private readonly longest = [0, 0];
  /** Lines of the slot's batch DuckDB could not read, quarantined by the stage. */
  private readonly unreadable = [0, 0];
  /** Where lines are tried apart from the stage's own reads (see `readError`). */
  private probe: DuckDBConnection | null = null;

  /** Where the stage's own files wait for read_json, private to this stage; gone with it. */
  private readonly files = stageDirectory();
  private written = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
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
        event_id UUID, tenant VARCHAR, run_id UUID, agent_id VARCHAR, source VARCHAR, seq BIGINT,
        attempt INTEGER, kind VARCHAR, ts TIMESTAMPTZ, payload JSON, cursor BIGINT)`);
      await connection.run(`${create} ${db}.main.stage_quarantine_${slot} (
        position VARCHAR, event_id VARCHAR, kind VARCHAR, reason VARCHAR, issues VARCHAR,
        raw VARCHAR)`);
    }
    return new Stage(instance, connection, db, !shared);
  }

  close(): void {
    if (this.owned) this.connection.closeSync();
    this.probe?.closeSync();
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
    for (const piece of this.queued[slot]!.splice(0)) if (piece.owned) rmSync(piece.path);
    this.longest[slot] = 0;
    this.unreadable[slot] = 0;
    await this.connection.run(`TRUNCATE ${this.events(slot)}`);
    await this.connection.run(`TRUNCATE ${this.quarantine(slot)}`);
  }

  /** A line of `longest` UTF-16 units is in the slot's batch. */
  noteLongest(slot: number, longest: number): void {
    if (longest > this.longest[slot]!) this.longest[slot] = longest;
  }

  /**
   * Stages valid events' text (each equal as JSON to what the contract's parser returns), found
   * in the log at `positions`.
   */
  async appendText(
    slot: number,
    lines: readonly string[],
    positions: readonly string[],
  ): Promise<void> {
    if (lines.length === 0) return;
    await this.enqueue(slot, {
      path: this.writeLines(lines),
      events: lines.length,
      owned: true,
      positions,
    });
  }

  /**
   * Stages the lines of a span of a log file, less those refused and with those rewritten as
   * `exceptions` say: the log file itself when the span is all of it and every line stays as
   * written, else a copy of the bytes, else the lines' text.
   */
  async appendSpan(slot: number, span: NamedSpan, exceptions: SpanExceptions): Promise<void> {
    const events = span.records - exceptions.excluded.size;
    if (events === 0) return;
    if (exceptions.excluded.size === 0 && exceptions.rewritten.size === 0) {
      const whole = span.from === 0 && statSync(span.path).size === span.to;
      await this.enqueue(
        slot,
        whole
          ? { path: span.path, events, owned: false, span, positions: span }
          : { path: this.copy(span), events, owned: true, positions: span },
      );
      return;
    }
    const lines: string[] = [];
    const positions: string[] = [];
    let record = 0;
    eachLine(span, span.firstLine, (line, number) => {
      if (!exceptions.excluded.has(record)) {
        lines.push(exceptions.rewritten.get(record) ?? line);
        positions.push(`${span.file}:${number}`);
      }
      record += 1;
    });
    if (record !== span.records)
      throw new Error(`${span.path}: ${record} lines where ${span.records} were validated`);
    await this.appendText(slot, lines, positions);
  }

  private async enqueue(slot: number, piece: Piece): Promise<void> {
    const queue = this.queued[slot]!;
    queue.push(piece);
    if (queue.reduce((n, p) => n + p.events, 0) >= GROUP_EVENTS) await this.flush(slot);
  }

  /** Starts reading the queued files (after the group before: one statement at a time). */
  private async flush(slot: number): Promise<void> {
    const group = this.queued[slot]!.splice(0);
    await this.converting;
    if (group.length === 0) return;
    this.converting = this.read(slot, group).finally(() => {
      for (const piece of group) if (piece.owned) rmSync(piece.path, { force: true });
    });
    // Observed here; `finish` (or the next flush) reports a failure.
    this.converting.catch(() => undefined);
  }

  private async read(slot: number, group: Piece[]): Promise<void> {
    const expected = group.reduce((n, p) => n + p.events, 0);
    const paths = group.map((p) => p.path);
    // Inside a caller's transaction a statement that fails aborts the transaction: the group is
    // read apart first.
    if (!this.owned && (await this.readError(slot, paths)) !== null)
      return this.salvage(slot, group);
    if (!group.some((p) => p.span)) {
      let read: number;
      try {
        read = await this.insert(slot, paths);
      } catch {
        return this.salvage(slot, group);
      }
      if (read !== expected) throw new Error(`stage read ${read} events of ${expected}`);
      return;
    }
    const table = this.events(slot);
    const [next] = (
      await this.connection.runAndReadAll(`SELECT coalesce(max(rowid) + 1, 0) FROM ${table}`)
    ).getRows()[0]! as [bigint];
    let read: number | null = null;
    try {
      read = await this.insert(slot, paths);
    } catch {
      // A line still being written at the end of a log file; read again below.
    }
    if (read === expected) return;
    // A log file grew since it was validated: take the group back, read the validated bytes.
    await this.connection.run(`DELETE FROM ${table} WHERE rowid >= ${next}`);
    const copies = group.map((p) => (p.span ? this.copy(p.span) : p.path));
    try {
      read = await this.insert(slot, copies);
    } catch {
      return this.salvage(slot, group);
    } finally {
      copies.forEach((path, i) => {
        if (group[i]!.span) rmSync(path, { force: true });
      });
    }
    if (read !== expected) throw new Error(`stage read ${read} events of ${expected}`);
  }

  /** Reads files of events into a slot's table; returns how many it read. */
  private async insert(slot: number, paths: readonly string[]): Promise<number> {
    return (
      await this.connection.run(`INSERT INTO ${this.events(slot)}
        SELECT ${EVENT_FIELDS} FROM ${this.readJson(slot, paths)}`)
    ).rowsChanged;
  }

  private readJson(slot: number, paths: readonly string[]): string {
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    const maxObject = Math.max(MAX_OBJECT_BYTES, 3 * this.longest[slot]! + 64);
    return `read_json([${paths.map(sqlString).join(", ")}],
      format = 'newline_delimited', maximum_object_size = ${maxObject},
      columns = ${EVENT_LINE_COLUMNS})`;
  }

  /**
   * Why DuckDB cannot read files of events as the lake's columns, or null if it can: read on a
   * connection of the stage's own, whose failures abort no transaction, and typed (every
   * column) into nothing.
   */
  private async readError(slot: number, paths: readonly string[]): Promise<string | null> {
    this.probe ??= await this.instance.connect();
    const counts = EVENT_FIELDS.split(", ").map((c) => `count(${c})`);
    try {
      await this.probe.run(`SELECT ${counts.join(", ")} FROM ${this.readJson(slot, paths)}`);
      return null;
    } catch (error) {
      return String((error as Error)?.message ?? error);
    }
  }

  /**
   * Stages a group DuckDB failed to read, from the validated lines: those it cannot read (each
   * read alone) are quarantined, with its reason, and the rest staged.
   */
  private async salvage(slot: number, group: readonly Piece[]): Promise<void> {
    const lines: string[] = [];
    const positions: string[] = [];
    for (const piece of group)
      eachPieceLine(piece, (line, position) => {
        lines.push(line);
        positions.push(position);
      });
    const refused = await this.unreadableLines(slot, lines);
    await this.writeQuarantine(
      slot,
      [...refused].map(([i, reason]) =>
        unreadable({ position: positions[i]!, text: lines[i]! }, reason),
      ),
    );
    this.unreadable[slot]! += refused.size;
    const readable = lines.filter((_, i) => !refused.has(i));
    if (readable.length === 0) return;
    const path = this.writeLines(readable);
    try {
      const read = await this.insert(slot, [path]);
      if (read !== readable.length)
        throw new Error(`stage read ${read} events of ${readable.length}`);
    } finally {
      rmSync(path, { force: true });
    }
  }

  /**
   * The lines DuckDB cannot read, with why: halves of what it cannot read are tried in turn,
   * down to the lines alone. A failure that names no line (DuckDB out of memory, a full disk)
   * is no line's fault: it fails the sync, which tries again.
   */
  private async unreadableLines(
    slot: number,
    lines: readonly string[],
  ): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    const visit = async (from: number, to: number): Promise<void> => {
      const path = this.writeLines(lines.slice(from, to));
      let error: string | null;
      try {
        error = await this.readError(slot, [path]);
      } finally {
        rmSync(path, { force: true });
      }
      if (error === null) return;
      if (to - from > 1) {
        const middle = (from + to) >>> 1;
        await visit(from, middle);
        await visit(middle, to);
        return;
      }
      const reason = lineError(error);
      if (reason === null) throw new Error(`stage: ${error}`);
      found.set(from, reason);
    };
    if (lines.length) await visit(0, lines.length);
    return found;
  }

  /** A new file of the stage's own with these lines. */
  private writeLines(lines: readonly string[]): string {
    // JSON text holds no raw newline (inside strings it is escaped), so each takes one line.
    return this.write(`${lines.join("\n")}\n`);
  }

  /** A new file of the stage's own with `text`. */
  private write(text: string | Buffer): string {
    const path = join(this.files, `${this.written++}.ndjson`);
    // Another process may have taken an idle stage's directory for a crashed one's.
    mkdirSync(this.files, { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  /** A copy of a span's bytes, exactly those validated even if the file grew since. */
  private copy(span: FileSpan): string {
    const path = this.write("");
    const fd = openSync(span.path, "r");
    const out = openSync(path, "w");
    try {
      const buffer = Buffer.allocUnsafe(Math.min(COPY_BYTES, span.to - span.from));
      for (let at = span.from; at < span.to; ) {
        const got = readSync(fd, buffer, 0, Math.min(buffer.length, span.to - at), at);
        if (got === 0) throw new Error(`${span.path} shrank below ${span.to} bytes`);
        writeSync(out, buffer, 0, got);
        at += got;
      }
    } finally {
      closeSync(fd);
      closeSync(out);
    }
    return path;
  }

  /**
   * Reads the files still queued, drops the repeats of an event_id (the first in log order
   * stays) and returns how many events are staged, their lowest and highest id (lowercase, as
   * DuckDB sorts UUIDs; null for none), and how many valid lines DuckDB could not read (staged
   * as quarantined instead).
   */
  async finish(
    slot: number,
  ): Promise<{ events: number; low: string | null; high: string | null; unreadable: number }> {
    await this.flush(slot);
    await this.converting;
    const table = this.events(slot);
    const [events, distinct, low, high] = (
      await this.connection.runAndReadAll(
        `SELECT count(*)::DOUBLE, count(DISTINCT event_id)::DOUBLE, min(event_id)::VARCHAR,
           max(event_id)::VARCHAR FROM ${table}`,
      )
    ).getRows()[0]! as [number, number, string | null, string | null];
    if (distinct < events)
      await this.connection.run(`DELETE FROM ${table} WHERE rowid IN (
        SELECT rowid FROM ${table}
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY rowid) > 1)`);
    return { events: distinct, low, high, unreadable: this.unreadable[slot]! };
  }

  async appendQuarantine(slot: number, records: readonly QuarantinedRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One statement at a time on the connection: the group being read goes first.
    await this.converting;
    await this.writeQuarantine(slot, records);
  }

  private async writeQuarantine(
    slot: number,
    records: readonly QuarantinedRecord[],
  ): Promise<void> {
    if (records.length === 0) return;
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

/**
 * Calls `fn` with each record of bytes `from` to `to` of a file and its line number (the first
 * line being `firstLine`): its non-blank complete lines, read again from the file.
 */
function eachLine(
  span: Pick<FileSpan, "path" | "from" | "to">,
  firstLine: number,
  fn: (line: string, number: number) => void,
): void {
  const fd = openSync(span.path, "r");
  try {
    let at = span.from;
    let line = firstLine;
    while (at < span.to) {
      const length = Math.min(COPY_BYTES, span.to - at);
      const buffer = Buffer.allocUnsafe(length);
      const got = readSync(fd, buffer, 0, length, at);
      const slice = completeLines(buffer.subarray(0, got), 0, line, Number.POSITIVE_INFINITY);
      for (const { text, line: number } of slice.lines) fn(text, number);
      line = slice.lastLine + 1;
      // The source read no line longer than its own chunk, which is this one.
      if (slice.end === 0) throw new Error(`${span.path}: no complete line at byte ${at}`);
      at += slice.end;
    }
  } finally {
    closeSync(fd);
  }
}

/** Calls `fn` with each line of a piece (the validated bytes of its span) and its position. */
function eachPieceLine(piece: Piece, fn: (line: string, position: string) => void): void {
  const { positions } = piece;
  if (Array.isArray(positions)) {
    let record = 0;
    eachLine({ path: piece.path, from: 0, to: statSync(piece.path).size }, 1, (line) => {
      fn(line, positions[record++]!);
    });
    return;
  }
  const span = positions as NamedSpan;
  // A copy of the span's bytes, or the log itself (which may have grown since).
  const bytes = piece.span ? span : { path: piece.path, from: 0, to: span.to - span.from };
  eachLine(bytes, span.firstLine, (line, number) => fn(line, `${span.file}:${number}`));
}

/**
 * DuckDB's reason for refusing a file of one line, without the stage's file it names; null when
 * it names no line.
 */
function lineError(error: string): string | null {
  const first = error.split("\n")[0]!;
  const match = /^(.*?) in file "[^"]*"(?:, at byte \d+)?,? in line \d+: (.*)$/.exec(first);
  return match ? `${match[1]}: ${match[2]!.trim()}` : null;
}

const STAGE_PREFIX = "auraison-stage-";
/**
 * A stage's directory changes with every file it writes; one untouched this long is left from a
 * crash, or idle (a stage makes its directory again when it next writes).
 */
const STALE_MS = 60 * 60 * 1000;

/** A new directory for a stage's files; those left by processes killed mid-sync go first. */
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
