import {
  type BigIntStats,
  closeSync,
  fstatSync,
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

/** Bytes of each end of a span compared with the file when it is held (see `settledState`). */
const SAMPLE_BYTES = 4096;

/**
 * How far a file's ctime may trail the clock that `since` is read from: the kernel stamps files
 * from its coarse clock (up to a tick, 10 ms at most, behind), and some file systems keep whole
 * seconds only (ext4 with small inodes, FAT, some NFS servers), whose stamps trail by up to 2 s.
 */
const CTIME_SLACK_MS = 100;
const CTIME_SLACK_WHOLE_SECONDS_MS = 2_000;

/**
 * What a file was when the source read a span of it: a write, a truncation or an append changes
 * its ctime and mtime (and maybe its size), a file put in its place by rename has another inode.
 */
export interface FileState {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/**
 * Where the stage finds the bytes of a span the validation threads checked (see `Stage.hold`):
 * the log file while it is still in `log`'s state, or a copy of the bytes of the stage's own.
 */
export type Held = { log: FileState } | { copy: string };

/** A span of a log file, what names its lines in the quarantine, and where its bytes are. */
export type NamedSpan = FileSpan & Pick<SpanPart, "file" | "firstLine"> & { held: Held };

/**
 * A log file changed after the source read a span of it (rewritten, replaced, truncated or
 * appended to), so the file may no longer hold the bytes that were validated: the batch must be
 * read again (see sync's `next`).
 */
export class LogChangedError extends Error {
  constructor(readonly path: string) {
    super(`${path} changed while it was being synced`);
    this.name = "LogChangedError";
  }
}

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
  /** Read straight from the log: these bytes of it are what was validated, while it is held. */
  span?: NamedSpan;
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
 * Only bytes the validation threads checked are staged, yet the stage reads a log file by its
 * path after the source did, and the file may have changed since (an outbox wiped and written
 * again, a segment replaced by rename, copytruncate, an append): see `hold` for how a span is
 * kept to what was checked, cheaply enough that the common case (a sealed segment) is read by
 * DuckDB straight from the log and by nothing else.
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
  /** Copies of spans' bytes made by `hold`, by slot, not yet handed to a piece. */
  private readonly copies: Set<string>[] = [new Set(), new Set()];

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
    // A read that failed failed the batch that staged it, which reported it; a batch read again
    // (see LogChangedError) starts here, and must not fail on it again.
    this.converting = this.converting.catch(() => undefined);
    await this.converting;
    for (const piece of this.queued[slot]!.splice(0)) if (piece.owned) rmSync(piece.path);
    for (const path of this.copies[slot]!) rmSync(path, { force: true });
    this.copies[slot]!.clear();
    this.longest[slot] = 0;
    this.unreadable[slot] = 0;
    await this.connection.run(`TRUNCATE ${this.events(slot)}`);
    await this.connection.run(`TRUNCATE ${this.quarantine(slot)}`);
  }

  /**
   * The span of a log file the source just read, its bytes `bytes` (still the source's: it may
   * reuse them at its next read), as the stage will find it when it stages it: in the log file,
   * as long as the file stays as it is now; else in a copy of `bytes`, which the validation
   * threads check.
   *
   * The file is trusted only if nothing changed it since `since`, a moment before the source
   * began reading (its ctime, which every write, truncation, append and rename sets and no
   * program can set back, is older than that): then the bytes the source read are the file's
   * now, in this state, and any later change gives the file another state (another ctime, newer
   * than this one, or another inode), which the stage checks each time it or DuckDB reads the
   * file, refusing it with LogChangedError. That costs a few stats and 8 KiB of reads per span
   * and nothing per byte, where a hash of what was read would cost about a second a GB on the
   * sync's thread, and as much again to check the file against it before DuckDB reads it. A
   * file changed so recently that this cannot be told (an outbox being appended to), and every
   * file when `copy` is set (a batch read again after a change), is staged from a copy of
   * `bytes`.
   *
   * What it cannot catch: a change stamped older than `since` — a file system whose clock trails
   * this machine's by more than the slack (a network file system's server), the clock set back
   * during the read, or a rename onto the path on a file system that leaves the ctime as it was
   * — unless the file's bytes at either end of the span differ from `bytes`, which are compared.
   */
  hold(
    slot: number,
    span: FileSpan & Pick<SpanPart, "file" | "firstLine">,
    bytes: Buffer,
    options: { since: number; copy: boolean },
  ): NamedSpan {
    const state = options.copy ? null : settledState(span, bytes, options.since);
    if (state) return { ...span, held: { log: state } };
    const path = this.write(bytes);
    this.copies[slot]!.add(path);
    return { ...span, held: { copy: path } };
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
   * Stages the lines of a span of a log file (see `hold`), less those refused and with those
   * rewritten as `exceptions` say: the log file itself when the span is all of it and every line
   * stays as written, else a copy of the bytes, else the lines' text.
   */
  async appendSpan(slot: number, span: NamedSpan, exceptions: SpanExceptions): Promise<void> {
    const { held } = span;
    const copy = "copy" in held ? held.copy : null;
    if (copy) this.copies[slot]!.delete(copy);
    const events = span.records - exceptions.excluded.size;
    if (events > 0 && exceptions.excluded.size === 0 && exceptions.rewritten.size === 0) {
      const whole = "log" in held && span.from === 0 && held.log.size === BigInt(span.to);
      await this.enqueue(
        slot,
        whole
          ? { path: span.path, events, owned: false, span, positions: span }
          : { path: copy ?? this.copy(span), events, owned: true, positions: span },
      );
      return;
    }
    const lines: string[] = [];
    const positions: string[] = [];
    try {
      if (events === 0) return;
      let record = 0;
      readHeld(span, (fd, from, to) =>
        eachLine(fd, span.path, from, to, span.firstLine, (line, number) => {
          if (!exceptions.excluded.has(record)) {
            lines.push(exceptions.rewritten.get(record) ?? line);
            positions.push(`${span.file}:${number}`);
          }
          record += 1;
        }),
      );
      if (record !== span.records)
        throw new Error(`${span.path}: ${record} lines where ${span.records} were validated`);
    } finally {
      // Staged as its lines' text, or not at all: the copy is done with.
      if (copy) rmSync(copy, { force: true });
    }
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
    try {
      await this.converting;
    } catch (error) {
      // Out of the queue, the group's files would outlive a batch read again.
      for (const piece of group) if (piece.owned) rmSync(piece.path, { force: true });
      throw error;
    }
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
    let read: number;
    try {
      read = await this.insert(slot, paths);
    } catch {
      // A log file that changed meanwhile (a torn line appended, say) is no line's fault.
      for (const piece of group) if (piece.span) unchanged(piece.span, statOf(piece.path));
      return this.salvage(slot, group);
    }
    // DuckDB read the log files by path: what it read is what was validated only if each file is
    // still in the state it was held in, now that DuckDB is done with it.
    for (const piece of group) if (piece.span) unchanged(piece.span, statOf(piece.path));
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

  /** A new file of the stage's own with the bytes of a span (see `readHeld`). */
  private copy(span: NamedSpan): string {
    const path = this.write("");
    const out = openSync(path, "w");
    try {
      readHeld(span, (fd, from, to) => {
        const buffer = Buffer.allocUnsafe(Math.min(COPY_BYTES, to - from));
        for (let at = from; at < to; ) {
          const got = readSync(fd, buffer, 0, Math.min(buffer.length, to - at), at);
          if (got === 0) throw new Error(`${span.path} shrank below ${to} bytes`);
          writeSync(out, buffer, 0, got);
          at += got;
        }
      });
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    } finally {
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
 * Calls `fn` with each record of bytes `from` to `to` of an open file (`name`) and its line
 * number (the first line being `firstLine`): its non-blank complete lines.
 */
function eachLine(
  fd: number,
  name: string,
  from: number,
  to: number,
  firstLine: number,
  fn: (line: string, number: number) => void,
): void {
  let at = from;
  let line = firstLine;
  // Validated lines may be longer than a chunk (a source reads a long line whole, and the
  // stage's own files hold whatever it staged): a chunk with no complete line is read again
  // twice as long, until it holds the line.
  let length = COPY_BYTES;
  while (at < to) {
    const want = Math.min(length, to - at);
    const buffer = Buffer.allocUnsafe(want);
    const got = readSync(fd, buffer, 0, want, at);
    const slice = completeLines(buffer.subarray(0, got), 0, line, Number.POSITIVE_INFINITY);
    if (slice.end === 0) {
      // Bytes that end before their line does were not validated as a line.
      if (got < want || at + got >= to) throw new Error(`${name}: no complete line at byte ${at}`);
      length *= 2;
      continue;
    }
    for (const { text, line: number } of slice.lines) fn(text, number);
    line = slice.lastLine + 1;
    at += slice.end;
    length = COPY_BYTES;
  }
}

/** Calls `fn` with each line of a piece (the validated bytes of its span) and its position. */
function eachPieceLine(piece: Piece, fn: (line: string, position: string) => void): void {
  const { positions } = piece;
  if (Array.isArray(positions)) {
    let record = 0;
    readOwn(piece.path, (fd, size) =>
      eachLine(fd, piece.path, 0, size, 1, (line) => {
        fn(line, positions[record++]!);
      }),
    );
    return;
  }
  const span = positions as NamedSpan;
  const named = (line: string, number: number) => fn(line, `${span.file}:${number}`);
  // The log itself (while it is as held), or a copy of the span's bytes.
  if (piece.span)
    readHeld(span, (fd, from, to) => eachLine(fd, span.path, from, to, span.firstLine, named));
  else readOwn(piece.path, (fd, size) => eachLine(fd, piece.path, 0, size, span.firstLine, named));
}

/** Calls `read` with a file of the stage's own, open, and its size. */
function readOwn<T>(path: string, read: (fd: number, size: number) => T): T {
  const fd = openSync(path, "r");
  try {
    return read(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `read` with the file that holds a span's validated bytes, open, and where they are in
 * it: its copy, or the log file, refused (LogChangedError) unless it is in the state it was held
 * in both before and after the read, so a change during the read is caught too. The state is
 * the open file's: one renamed onto the path meanwhile is not the one read.
 */
function readHeld<T>(span: NamedSpan, read: (fd: number, from: number, to: number) => T): T {
  const { held } = span;
  if ("copy" in held) return readOwn(held.copy, (fd) => read(fd, 0, span.to - span.from));
  let fd: number;
  try {
    fd = openSync(span.path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new LogChangedError(span.path);
    throw error;
  }
  try {
    unchanged(span, fstatSync(fd, { bigint: true }));
    let out: T;
    try {
      out = read(fd, span.from, span.to);
    } catch (error) {
      // A file cut short during the read fails it: that is the change to report.
      unchanged(span, fstatSync(fd, { bigint: true }));
      throw error;
    }
    unchanged(span, fstatSync(fd, { bigint: true }));
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A file's state by its path; undefined when it is gone. */
function statOf(path: string): BigIntStats | undefined {
  return statSync(path, { bigint: true, throwIfNoEntry: false });
}

/** Throws LogChangedError unless `stats` (undefined: no file) are those a span was held with. */
function unchanged(span: NamedSpan, stats: BigIntStats | undefined): void {
  const { held } = span;
  if (!("log" in held)) return;
  if (!stats || !sameState(held.log, stats)) throw new LogChangedError(span.path);
}

function sameState(a: FileState, b: FileState): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

/**
 * Whether `next` goes on where `last` stops, in the same file in the same state: a span that
 * grows by it still holds only validated bytes.
 */
export function continues(last: NamedSpan, next: NamedSpan): boolean {
  const [a, b] = [last.held, next.held];
  return (
    last.path === next.path &&
    last.to === next.from &&
    "log" in a &&
    "log" in b &&
    sameState(a.log, b.log)
  );
}

/**
 * The state of the log file of a span just read, if nothing changed the file since `since` (see
 * `Stage.hold`) and it holds `bytes` at the span's ends; else null.
 */
function settledState(span: FileSpan, bytes: Buffer, since: number): FileState | null {
  let fd: number;
  try {
    fd = openSync(span.path, "r");
  } catch {
    return null;
  }
  try {
    const stats = fstatSync(fd, { bigint: true });
    // A stamp in whole seconds is from a file system that keeps no more.
    const slack =
      stats.ctimeNs % 1_000_000_000n === 0n ? CTIME_SLACK_WHOLE_SECONDS_MS : CTIME_SLACK_MS;
    if (stats.ctimeNs >= BigInt(since - slack) * 1_000_000n) return null;
    if (stats.size < BigInt(span.to) || bytes.length !== span.to - span.from) return null;
    const sample = Buffer.allocUnsafe(Math.min(SAMPLE_BYTES, bytes.length));
    for (const at of new Set([0, bytes.length - sample.length])) {
      const got = readSync(fd, sample, 0, sample.length, span.from + at);
      if (got !== sample.length || !sample.equals(bytes.subarray(at, at + got))) return null;
    }
    const { dev, ino, size, mtimeNs, ctimeNs } = stats;
    return { dev, ino, size, mtimeNs, ctimeNs };
  } finally {
    closeSync(fd);
  }
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
