import { isUtf8 } from "node:buffer";
import type { TextRecord } from "./source";

const NEWLINE = 0x0a;
const CR = 0x0d;

export interface Line {
  text: string;
  /** 1-based line number in the file. */
  line: number;
}

/** Where the complete lines of a buffer are, found without decoding them. */
export interface LineScan {
  /** Per record (a non-blank complete line), its first byte in the buffer. */
  starts: number[];
  /** Per record, the byte after its text (its newline, or a CR before that). */
  ends: number[];
  /** Per record, its 1-based line number in the file. */
  numbers: number[];
  /** Offset just after the last complete line taken. */
  end: number;
  /** Line number of the last complete line taken (or `firstLine - 1`). */
  lastLine: number;
  /** More complete lines follow in the buffer (the `max` limit stopped the scan). */
  more: boolean;
  /** Bytes after the last newline: a line still being written, or torn by a crash. */
  tail: number;
}

export interface LineSlice extends Omit<LineScan, "starts" | "ends" | "numbers"> {
  lines: Line[];
}

/**
 * Finds up to `max` records of `buffer` from `start`: complete (newline-terminated) lines that
 * are not blank. Blank lines (nothing but ASCII whitespace) count as lines but are no records;
 * bytes after the last newline are never taken, so a partially written last line is left for a
 * later read (or ignored, if it stays torn). The one definition of a log line: the sources split
 * by it, and so do the validation threads, which decode what the sources only scanned.
 */
export function scanLines(buffer: Buffer, start: number, firstLine: number, max: number): LineScan {
  const starts: number[] = [];
  const ends: number[] = [];
  const numbers: number[] = [];
  let offset = start;
  let line = firstLine - 1;
  while (starts.length < max) {
    const nl = buffer.indexOf(NEWLINE, offset);
    if (nl < 0) break;
    line += 1;
    const stop = nl > offset && buffer[nl - 1] === CR ? nl - 1 : nl;
    if (!blank(buffer, offset, stop)) {
      starts.push(offset);
      ends.push(stop);
      numbers.push(line);
    }
    offset = nl + 1;
  }
  const more = starts.length >= max && buffer.indexOf(NEWLINE, offset) >= 0;
  return {
    starts,
    ends,
    numbers,
    end: offset,
    lastLine: line,
    more,
    tail: more ? 0 : buffer.length - offset,
  };
}

/** Takes up to `max` records of `buffer` from `start` as text (see scanLines). */
export function completeLines(
  buffer: Buffer,
  start: number,
  firstLine: number,
  max: number,
): LineSlice {
  const { starts, ends, numbers, ...scan } = scanLines(buffer, start, firstLine, max);
  return {
    ...scan,
    lines: starts.map((at, i) => ({
      text: buffer.toString("utf8", at, ends[i]),
      line: numbers[i]!,
    })),
  };
}

/**
 * The record of a line, bytes `start` to `end` of `buffer`, named `position`. Decoding replaces
 * bytes that are not UTF-8 (with U+FFFD), but DuckDB reads the bytes and refuses them, and a
 * replacement would change the event unseen: such a line is marked, for the contract's check to
 * refuse. `bufferIsUtf8` (one check of the whole buffer) spares the check of each line.
 */
export function lineRecord(
  buffer: Buffer,
  start: number,
  end: number,
  position: string,
  bufferIsUtf8: boolean,
): TextRecord {
  const record: TextRecord = { position, text: buffer.toString("utf8", start, end) };
  if (!bufferIsUtf8 && !isUtf8(buffer.subarray(start, end))) record.utf8 = false;
  return record;
}

function blank(buffer: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = buffer[i]!;
    // Space, tab, vertical tab, form feed, carriage return.
    if (b !== 0x20 && (b < 0x09 || b > 0x0d)) return false;
  }
  return true;
}
