import { appendFileSync, mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  type BatchPart,
  type Cursor,
  DirectorySource,
  type RawRecord,
  type SourceBatch,
  SourceError,
  sync,
} from "../../../lakehouse";
import { completeLines } from "../../../lakehouse/sources/lines";
import { count, LogBuilder, localLake, tempDir, withLake, writeLog } from "../fixture";

function merge(cursors: Cursor[], updates: Cursor[]): Cursor[] {
  const byFile = new Map(cursors.map((c) => [c.file, c]));
  for (const u of updates) byFile.set(u.file, u);
  return [...byFile.values()];
}

/**
 * A batch's entries as records: a span's lines decoded from its bytes, as the validation threads
 * do, after checking the span says what its bytes hold.
 */
function records(batch: SourceBatch): RawRecord[] {
  return batch.parts.flatMap((part: BatchPart) => {
    if (!("span" in part)) return part.records;
    expect(part.bytes.length).toBe(part.span.to - part.span.from);
    const slice = completeLines(part.bytes, 0, part.firstLine, Number.POSITIVE_INFINITY);
    expect(slice.end).toBe(part.bytes.length);
    expect(slice.lines.length).toBe(part.span.records);
    expect(slice.lines.map((l) => l.line)).toEqual(part.numbers);
    return slice.lines.map(({ text, line }) => ({ position: `${part.file}:${line}`, text }));
  });
}

/** Reads the source to its end, `max` lines at a time; returns the texts and the cursors. */
async function drain(source: DirectorySource, cursors: Cursor[] = [], max = 1_000) {
  const texts: string[] = [];
  const positions: string[] = [];
  const notes: string[] = [];
  for (;;) {
    const batch = await source.next(cursors, max);
    if (!batch) break;
    const read = records(batch);
    for (const r of read) {
      texts.push("text" in r ? r.text : JSON.stringify(r.value));
      positions.push(r.position);
    }
    notes.push(...batch.notes);
    cursors = merge(cursors, batch.cursors);
    if (read.length === 0) break;
  }
  return { texts, positions, notes, cursors };
}

describe("DirectorySource", () => {
  it("reads segments in path order, recursively, skipping other files", async () => {
    const dir = tempDir();
    writeLog(join(dir, "events/lab/000000000003-000000000004.ndjson.gz"), ["c", "d"], {
      gzip: true,
    });
    writeLog(join(dir, "events/lab/000000000001-000000000002.ndjson"), ["a", "b"]);
    // Longer than the next file: a read that reused its buffer would overwrite its lines.
    writeLog(join(dir, "000000000000.ndjson"), ["0a", "0b"]);
    writeFileSync(join(dir, "README.md"), "not a log\n");
    const source = new DirectorySource(dir);
    expect(source.origin).toBe(`dir:${dir}`);
    const { texts, positions } = await drain(source);
    expect(texts).toEqual(["0a", "0b", "a", "b", "c", "d"]);
    expect(positions[2]).toBe("events/lab/000000000001-000000000002.ndjson:1");
  });

  it("resumes after the last line read, in batches of at most `max` lines", async () => {
    const dir = tempDir();
    writeLog(join(dir, "000000000001.ndjson"), ["1", "2", "3", "", "4", "5"]);
    const source = new DirectorySource(dir);
    const first = await source.next([], 2);
    expect(records(first!).map((r) => r.position)).toEqual([
      "000000000001.ndjson:1",
      "000000000001.ndjson:2",
    ]);
    expect(first!.cursors).toEqual([
      {
        origin: source.origin,
        file: "000000000001.ndjson",
        position: 4,
        lines: 2,
        complete: false,
      },
    ]);
    const rest = await drain(source, first!.cursors, 2);
    expect(rest.texts).toEqual(["3", "4", "5"]);
    expect(rest.positions.at(-1)).toBe("000000000001.ndjson:6");
    expect(await source.next(rest.cursors, 2)).toBeNull();
  });

  it("leaves a line still being written for the next read, then picks it up", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000001.ndjson");
    writeLog(file, ["one"], { tail: '{"half' });
    const source = new DirectorySource(dir);
    const first = await drain(source);
    expect(first.texts).toEqual(["one"]);
    expect(first.notes).toEqual([
      "000000000001.ndjson: ignored 6 bytes after the last complete line",
    ]);
    appendFileSync(file, ' line"}\ntwo\n');
    const second = await drain(source, first.cursors);
    expect(second.texts).toEqual(['{"half line"}', "two"]);
    expect(second.notes).toEqual([]);
  });

  it("reads a line far longer than those before it whole, and a torn tail after it", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000001.ndjson");
    // Short lines set the size of the next read; the long one does not fit that guess.
    const short = Array.from({ length: 50 }, (_, i) => `s${i}`);
    const long = `l${"x".repeat(300_000)}`;
    const after = ["é1", "é2"];
    writeLog(file, [...short, long, ...after], { tail: '{"torn' });
    const source = new DirectorySource(dir);
    const { texts, positions, notes, cursors } = await drain(source, [], 7);
    expect(texts).toEqual([...short, long, ...after]);
    expect(positions.at(-1)).toBe("000000000001.ndjson:53");
    expect(notes.at(-1)).toBe("000000000001.ndjson: ignored 6 bytes after the last complete line");
    expect(cursors[0]!.position).toBe(
      Buffer.byteLength(`${[...short, long, ...after].join("\n")}\n`),
    );
  });
  it("reads a compressed archive segment once, and what decompresses of one still being copied", async () => {
    const dir = tempDir();
    const whole = gzipSync(`${Array.from({ length: 500 }, (_, i) => `line ${i}`).join("\n")}\n`);
    const file = join(dir, "000000000001-000000000500.ndjson.gz");
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const source = new DirectorySource(dir);
    const partial = await drain(source);
    expect(partial.notes[0]).toContain("gzip stream is truncated");
    expect(partial.cursors[0]!.complete).toBe(false);
    const got = partial.texts.length;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(500);
    writeFileSync(file, whole);
    const rest = await drain(source, partial.cursors);
    expect([...partial.texts, ...rest.texts]).toEqual(
      Array.from({ length: 500 }, (_, i) => `line ${i}`),
    );
    expect(rest.cursors[0]).toMatchObject({ complete: true, lines: 500 });
    expect(await source.next(rest.cursors, 1_000)).toBeNull();
  });

  it("takes the last line of a compressed segment that decompresses whole, newline or not", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000001-000000000003.ndjson.gz");
    writeLog(file, ["line 1", "line 2"], { gzip: true, tail: "line 3\r" });
    const source = new DirectorySource(dir);
    const first = await drain(source, [], 2);
    expect(first.texts).toEqual(["line 1", "line 2", "line 3"]);
    expect(first.positions.at(-1)).toBe("000000000001-000000000003.ndjson.gz:3");
    expect(first.notes).toEqual([]);
    expect(first.cursors[0]).toMatchObject({
      complete: true,
      lines: 3,
      position: Buffer.byteLength("line 1\nline 2\nline 3\r"),
    });
    expect(await source.next(first.cursors, 1_000)).toBeNull();
    // A blank remainder is a blank line: no record.
    writeLog(join(dir, "000000000004-000000000004.ndjson.gz"), ["line 4"], {
      gzip: true,
      tail: " \t",
    });
    const second = await drain(source, first.cursors);
    expect(second.texts).toEqual(["line 4"]);
    expect(second.cursors.at(-1)).toMatchObject({ complete: true, lines: 2 });
  });

  it("syncs a compressed segment without a final newline once, its last line checked like any", async () => {
    const log = new LogBuilder();
    const run = log.id();
    const hello = log.add(
      "message",
      { role: "user", text: "hello", entry_id: null, turn: 1 },
      {
        run_id: run,
        attempt: 1,
      },
    );
    const bye = log.add(
      "message",
      { role: "user", text: "bye", entry_id: null, turn: 2 },
      {
        run_id: run,
        attempt: 1,
      },
    );
    const dir = tempDir();
    // As `printf '<event>' | gzip` writes it: one line, no newline.
    writeFileSync(join(dir, "000000000001.ndjson.gz"), gzipSync(JSON.stringify(hello)));
    writeLog(join(dir, "000000000002.ndjson.gz"), [bye], { gzip: true, tail: '{"not json' });
    const truncated = gzipSync(JSON.stringify({ ...bye, event_id: log.id(), seq: 2 }));
    const torn = join(dir, "000000000003.ndjson.gz");
    writeFileSync(torn, truncated.subarray(0, truncated.length - 8));
    await withLake(localLake(), async (lake) => {
      const report = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(report).toMatchObject({ events: 2, quarantined: 1 });
      expect(report.notes).toEqual([
        "000000000003.ndjson.gz: gzip stream is truncated; read what decompresses so far",
      ]);
      expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(2);
      expect(
        await count(
          lake,
          `SELECT count(*) FROM memory.events WHERE event_id = '${hello.event_id}'`,
        ),
      ).toBe(1);
      expect(
        await count(
          lake,
          "SELECT count(*) FROM memory.quarantine WHERE position = '000000000002.ndjson.gz:2' AND raw = '{\"not json'",
        ),
      ).toBe(1);
      const again = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(again).toMatchObject({ events: 0, quarantined: 0 });
      expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(2);
      expect(await count(lake, "SELECT count(*) FROM memory.quarantine")).toBe(1);
      // The truncated segment stays open and is read once it is whole.
      writeFileSync(torn, truncated);
      const copied = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(copied).toMatchObject({ events: 1, quarantined: 0 });
    });
  });

  it("refuses a file that shrank and a directory that is not there", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000001.ndjson");
    writeLog(file, ["aaaa", "bbbb"]);
    const source = new DirectorySource(dir);
    const { cursors } = await drain(source);
    truncateSync(file, 3);
    await expect(source.next(cursors, 10)).rejects.toThrow(/shrank below what was already read/);
    await expect(new DirectorySource(join(dir, "missing")).next([], 10)).rejects.toBeInstanceOf(
      SourceError,
    );
    mkdirSync(join(dir, "empty"));
    expect(await new DirectorySource(join(dir, "empty")).next([], 10)).toBeNull();
  });
});
