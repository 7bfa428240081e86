/** One log entry as a source delivered it, before validation. */
export type RawRecord = TextRecord | { position: string; value: unknown };

/** A log line as text. */
export interface TextRecord {
  position: string;
  text: string;
  /** Set when the line's bytes are not UTF-8: `text` decodes them with U+FFFD (see lineRecord). */
  utf8?: false;
  /** Set, to the line's length, when it is longer than a sync reads: `text` is its start only. */
  bytes?: number;
}

/** How far a source has been read: one row of `sync_cursors`. */
export interface Cursor {
  origin: string;
  /** The file within a directory source; empty for central. */
  file: string;
  /** Central's cursor, or the byte offset (of the decompressed stream) after the last line read. */
  position: number;
  /** Lines read from the file (central: events read). */
  lines: number;
  /** A compressed file read to its end: immutable, never opened again. */
  complete: boolean;
  /**
   * What the plain file started with when it was read (see DirectorySource): null for central, a
   * compressed file, and a cursor stored before the lake kept fingerprints.
   */
  fingerprint: string | null;
}

/**
 * Records `first` to `first + records - 1` of a batch are, in order, the non-blank complete lines
 * of bytes `from` to `to` of the plain (uncompressed) file at `path`, which holds `lines` lines
 * there: a sync lets DuckDB read those bytes from the file itself, not the records' text.
 */
export interface FileSpan {
  path: string;
  first: number;
  records: number;
  lines: number;
  from: number;
  to: number;
}

/**
 * Records that are the lines of a span of a plain file, handed on as the file's bytes: the
 * validation threads decode them (see scanLines), so the sync's thread never builds the lines'
 * strings.
 */
export interface SpanPart {
  span: FileSpan;
  /** Bytes `span.from` to `span.to` of the file; the source may reuse them at its next read. */
  bytes: Buffer;
  /** Per record, its first byte in `bytes`. */
  starts: number[];
  /** Per record, its 1-based line number in the file. */
  numbers: number[];
  /** The line number of the span's first line. */
  firstLine: number;
  /** The file as positions name it (`<file>:<line>`). */
  file: string;
}

/** Entries of a batch, in log order: records, or the lines of a span of a plain file. */
export type BatchPart = { records: RawRecord[] } | SpanPart;

/** A slice of the log and the cursors that mark its end; committed together or not at all. */
export interface SourceBatch {
  parts: BatchPart[];
  cursors: Cursor[];
  /** Things worth telling the operator that are not errors, e.g. an ignored torn line. */
  notes: string[];
}

/** How many entries a part holds. */
export function partSize(part: BatchPart): number {
  return "span" in part ? part.span.records : part.records.length;
}

/**
 * Where events come from: central's log or a directory of NDJSON files. A source resumes from
 * the cursors stored in the lake and hands out batches in log order.
 */
export interface EventSource {
  /** Names the source in `sync_cursors`, `events.origin` and quarantine rows. */
  readonly origin: string;
  /** Reads up to about `maxRecords` entries after `cursors`; null when there is nothing new. */
  next(cursors: readonly Cursor[], maxRecords: number): Promise<SourceBatch | null>;
  /** Whether a failure of `next` means the source is away for now (a follower waits it out). */
  isOutage(error: unknown): boolean;
  /**
   * A follower that caught up waits here, when the source can say that something new arrived
   * (rather than being asked again and again): resolves once there is, after `maxMs`, on
   * abort, or at once on any failure (the next `next` reports it).
   */
  waitForMore?(
    cursors: readonly Cursor[],
    options: { signal?: AbortSignal; maxMs: number },
  ): Promise<void>;
}
