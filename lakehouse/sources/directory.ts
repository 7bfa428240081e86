import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { constants, gunzipSync } from "node:zlib";
import { lineRecord, scanLines } from "./lines";
import {
  type BatchPart,
  type Cursor,
  type EventSource,
  partSize,
  type SourceBatch,
} from "./source";

/** Largest slice of a plain file read at once; lines are a few KB, so this holds thousands. */
const CHUNK_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Longest line a sync reads whole: a longer one is quarantined with its first TOO_LONG_HEAD
 * bytes, so neither it nor the memory it would take stops the sync.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
const TOO_LONG_HEAD = 4096;

/** A fingerprint covers at most this much of a file's start (see `fingerprint`). */
const FINGERPRINT_BYTES = 4096;

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SourceError";
  }
}

/**
 * NDJSON logs in a directory (recursively): central's archive segments (`.ndjson.gz` or
 * `.ndjson` of StoredEvents, e.g. an R2 archive copied down) and edge outboxes (`<seq>.ndjson`
 * of AgentEvents). Files are read in path order, lines in file order; the cursor per file is the
 * byte offset after the last complete line, so appends to an outbox segment are picked up and a
 * line still being written is left for the next read. A compressed segment that decompresses to
 * its end is finished, so its last line counts without a newline. A plain file's cursor carries
 * its fingerprint, so a new file under a read one's name (an outbox wiped and started again) is
 * read from its start rather than from the old file's offset.
 */
export class DirectorySource implements EventSource {
  readonly origin: string;
  readonly dir: string;
  /** Bytes per line of the last lines read. */
  private lineBytes = 0;
  /**
   * Buffers the reads of one call read into, reused by the next call (see SpanPart: its bytes
   * are the caller's until then): fresh memory for every read costs the kernel its pages again.
   */
  private readonly buffers: Buffer[] = [];
  private buffersUsed = 0;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.origin = `dir:${this.dir}`;
  }

  async next(cursors: readonly Cursor[], maxRecords: number): Promise<SourceBatch | null> {
    const known = new Map(cursors.map((c) => [c.file, c]));
    this.buffersUsed = 0;
    const parts: BatchPart[] = [];
    let entries = 0;
    const updated: Cursor[] = [];
    const notes: string[] = [];
    for (const file of this.files()) {
      if (entries >= maxRecords) break;
      const cursor = known.get(file) ?? {
        origin: this.origin,
        file,
        position: 0,
        lines: 0,
        complete: false,
        fingerprint: null,
      };
      if (cursor.complete) continue;
      const path = join(this.dir, file);
      const before = parts.length;
      const read = file.endsWith(".gz")
        ? this.readCompressed(path, file, cursor, maxRecords - entries, parts, notes)
        : this.readPlain(path, file, cursor, entries, maxRecords - entries, parts, notes);
      for (const part of parts.slice(before)) entries += partSize(part);
      if (read) updated.push(read);
    }
    // Buffers this call did not need are let go: a long follower keeps what its last call took.
    this.buffers.length = this.buffersUsed;
    return updated.length ? { parts, cursors: updated, notes } : null;
  }

  /** A directory does not come back by itself: every failure is the operator's to fix. */
  isOutage(): boolean {
    return false;
  }

  /** Log files under the directory, by path (segment names are zero-padded, so path order is log order). */
  files(): string[] {
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory())
      throw new SourceError(`${this.dir} is not a directory`);
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.ndjson(\.gz)?$/.test(entry.name))
          out.push(relative(this.dir, path).split(sep).join("/"));
      }
    };
    walk(this.dir);
    return out.sort();
  }

  /** Reads the file's next lines as spans of its bytes, one per read (see SpanPart). */
  private readPlain(
    path: string,
    file: string,
    cursor: Cursor,
    first: number,
    max: number,
    parts: BatchPart[],
    notes: string[],
  ): Cursor | null {
    const size = statSync(path).size;
    // A file of the size read may still be another one by its name (an outbox wiped and written
    // again to the same length): only a cursor without a fingerprint is taken at its word.
    if (size === cursor.position && cursor.fingerprint === null) return null;
    const fd = openSync(path, "r");
    try {
      const start = resume(fd, size, path, file, cursor, notes);
      if (!start) return null;
      let position = start.position;
      let lines = start.lines;
      // A whole chunk at once only when a guess by the lines so far came short of one line.
      let whole = false;
      // The length of a line longer than a chunk, read alone next.
      let long = 0;
      while (position < size && max > 0) {
        // About what `max` lines take: a batch reads a file in several calls, and reading a
        // whole chunk each time would copy its unused rest again and again.
        const guess = whole || !this.lineBytes ? CHUNK_BYTES : max * this.lineBytes * 1.1 + 2 ** 16;
        const length = long || Math.min(CHUNK_BYTES, size - position, Math.ceil(guess));
        long = 0;
        const buffer = this.buffer(length);
        const got = readSync(fd, buffer, 0, length, position);
        const scan = scanLines(buffer.subarray(0, got), 0, lines + 1, max);
        if (scan.lastLine > lines) this.lineBytes = scan.end / (scan.lastLine - lines);
        if (scan.end === 0 && length < Math.min(CHUNK_BYTES, size - position)) {
          whole = true;
          // The larger read takes this read's buffer's place.
          this.buffersUsed -= 1;
          continue;
        }
        if (scan.end === 0) {
          const end = position + got >= size ? -1 : lineEnd(fd, position + got, size);
          if (end < 0) {
            notes.push(`${file}: ignored ${size - position} bytes after the last complete line`);
            break;
          }
          this.buffersUsed -= 1;
          if (end - position <= MAX_LINE_BYTES) {
            long = end - position;
            continue;
          }
          parts.push({
            records: [
              {
                position: `${file}:${lines + 1}`,
                text: buffer.toString("utf8", 0, TOO_LONG_HEAD),
                bytes: end - position,
              },
            ],
          });
          first += 1;
          max -= 1;
          position = end;
          lines += 1;
          continue;
        }
        parts.push({
          span: {
            path,
            first,
            records: scan.starts.length,
            lines: scan.lastLine - lines,
            from: position,
            to: position + scan.end,
          },
          bytes: buffer.subarray(0, scan.end),
          starts: scan.starts,
          numbers: scan.numbers,
          firstLine: lines + 1,
          file,
        });
        first += scan.starts.length;
        max -= scan.starts.length;
        position += scan.end;
        lines = scan.lastLine;
        if (!scan.more && scan.tail > 0 && position + scan.tail >= size) {
          notes.push(`${file}: ignored ${scan.tail} bytes after the last complete line`);
          break;
        }
      }
      if (position === start.position && lines === start.lines) return null;
      return { ...start, position, lines };
    } finally {
      closeSync(fd);
    }
  }

  /** A buffer of at least `length` bytes that no other read of this call uses. */
  private buffer(length: number): Buffer {
    const i = this.buffersUsed++;
    const have = this.buffers[i];
    if (have && have.length >= length) return have;
    this.buffers[i] = Buffer.allocUnsafeSlow(Math.max(length, have?.length ?? 0));
    return this.buffers[i]!;
  }

  private readCompressed(
    path: string,
    file: string,
    cursor: Cursor,
    max: number,
    parts: BatchPart[],
    notes: string[],
  ): Cursor | null {
    const compressed = readFileSync(path);
    let data: Buffer;
    let whole = true;
    try {
      data = gunzipSync(compressed);
    } catch {
      try {
        // A segment still being copied in: take the complete lines that decompress so far.
        data = gunzipSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH });
      } catch (error) {
        // Not gzip, or corrupt (a bad header or checksum): the other files are synced, and this
        // one is tried again at each sync, so a segment that is mended or copied again is read.
        notes.push(`${file}: cannot decompress it (${(error as Error).message}); skipped`);
        return null;
      }
      whole = false;
      notes.push(`${file}: gzip stream is truncated; read what decompresses so far`);
    }
    const size = data.length;
    // A stream that decompressed to its end was written whole: its last line is finished even
    // without a newline, and is taken (or quarantined) like any other; once the segment is
    // complete it is never read again, so a line left for later would be lost.
    if (whole && size > 0 && data[size - 1] !== NEWLINE)
      data = Buffer.concat([data, Buffer.of(NEWLINE)]);
    const slice = scanLines(data, cursor.position, cursor.lines + 1, max);
    if (slice.starts.length) {
      const utf8 = isUtf8(data.subarray(cursor.position, slice.end));
      parts.push({
        records: slice.starts.map((start, i) =>
          lineRecord(data, start, slice.ends[i]!, `${file}:${slice.numbers[i]}`, utf8),
        ),
      });
    }
    const complete = whole && !slice.more;
    if (slice.end === cursor.position && !complete) return null;
    // The position stays a byte offset into what the segment decompresses to.
    return { ...cursor, position: Math.min(slice.end, size), lines: slice.lastLine, complete };
  }
}

/** The offset after the first newline at or after `from`, or -1 when none is written yet. */
function lineEnd(fd: number, from: number, size: number): number {
  const buffer = Buffer.allocUnsafe(2 ** 20);
  for (let at = from; at < size; ) {
    const got = readSync(fd, buffer, 0, Math.min(buffer.length, size - at), at);
    if (got === 0) break;
    const nl = buffer.subarray(0, got).indexOf(NEWLINE);
    if (nl >= 0) return at + nl + 1;
    at += got;
  }
  return -1;
}

/**
 * Where to go on reading a plain file: at the cursor while the file starts as it did when the
 * cursor was taken; from its start when it is another file now (its events the lake has already
 * are deduplicated by event_id); null while that cannot be told yet (an empty file, or a first
 * line still being written), since what is read then could be either file's. A cursor stored
 * before fingerprints takes the file's as it is.
 */
function resume(
  fd: number,
  size: number,
  path: string,
  file: string,
  cursor: Cursor,
  notes: string[],
): Cursor | null {
  const now = fingerprint(fd, size);
  if (cursor.fingerprint !== null && now !== cursor.fingerprint) {
    if (now === null) return null;
    notes.push(`${file}: its first line changed (a new file by that name); read from its start`);
    return { ...cursor, position: 0, lines: 0, fingerprint: now };
  }
  if (size < cursor.position)
    throw new SourceError(
      `${path} shrank below what was already read (${size} < ${cursor.position} bytes); log files must be append-only`,
    );
  return { ...cursor, fingerprint: now };
}

/**
 * Tells a log file from another by the same name: a hash of its first line, or of its first
 * FINGERPRINT_BYTES when that line is longer; appends leave both as they are. Null while
 * neither is written whole.
 */
function fingerprint(fd: number, size: number): string | null {
  const head = Buffer.allocUnsafe(Math.min(size, FINGERPRINT_BYTES));
  const got = readSync(fd, head, 0, head.length, 0);
  const newline = head.subarray(0, got).indexOf(NEWLINE);
  if (newline < 0 && got < FINGERPRINT_BYTES) return null;
  const end = newline < 0 ? got : newline + 1;
  return createHash("sha256").update(head.subarray(0, end)).digest("hex").slice(0, 32);
}
