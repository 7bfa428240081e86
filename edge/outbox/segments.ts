import { open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The outbox's on-disk form (contract/README.md "Log file formats"): a directory of append-only
 * NDJSON files named by the outbox position of their first line, zero-padded to 12 digits, so
 * name order is append order. A line without its trailing newline is a torn write and is not
 * part of the log.
 */
const SEGMENT = /^(\d{12})\.ndjson$/;

export interface SegmentRef {
  /** Outbox position of the segment's first line. */
  start: number;
  path: string;
}

export function segmentName(start: number): string {
  return `${String(start).padStart(12, "0")}.ndjson`;
}

export async function listSegments(dir: string): Promise<SegmentRef[]> {
  const names = await readdir(dir);
  return names
    .map((name) => SEGMENT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.start - b.start);
}

/** The complete lines of a segment; a torn last line is left out. */
export async function readSegmentLines(path: string): Promise<string[]> {
  return completeLines(await readFile(path, "utf8"));
}

export function completeLines(text: string): string[] {
  const end = text.lastIndexOf("\n");
  if (end < 0) return [];
  return text.slice(0, end).split("\n");
}

/**
 * Cuts a torn last line off a segment so new appends start on a line boundary. The torn bytes
 * were never acknowledged as durable, so nothing that was promised is lost.
 */
export async function truncateTornTail(path: string): Promise<{ lines: string[]; bytes: number }> {
  const buffer = await readFile(path);
  const end = buffer.lastIndexOf(0x0a);
  const keep = end + 1;
  if (keep < buffer.length) {
    const handle = await open(path, "r+");
    try {
      await handle.truncate(keep);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  const text = buffer.subarray(0, keep).toString("utf8");
  return { lines: completeLines(text), bytes: keep };
}
