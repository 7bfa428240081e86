import { appendFileSync, mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
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
        fingerprint: expect.any(String),
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

  it("reads a file replaced by another of its name from the start, once its first line is written", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000000.ndjson");
    writeLog(file, ["old 1", "old 2", "old 3"]);
    const source = new DirectorySource(dir);
    const old = await drain(source);
    // An outbox wiped and opened again: an empty segment, then its first line half written.
    writeLog(file, []);
    expect(await source.next(old.cursors, 10)).toBeNull();
    writeLog(file, [], { tail: '{"new' });
    expect(await source.next(old.cursors, 10)).toBeNull();
    const lines = Array.from({ length: 6 }, (_, i) => `new ${i + 1}`);
    writeLog(file, lines);
    const replaced = await drain(source, old.cursors, 4);
    expect(replaced.texts).toEqual(lines);
    expect(replaced.positions[0]).toBe("000000000000.ndjson:1");
    expect(replaced.notes).toEqual([
      "000000000000.ndjson: its first line changed (a new file by that name); read from its start",
    ]);
  });

  it("skips a compressed segment that is not gzip or fails its checksum, naming it, and reads the rest", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "000000000001.ndjson.gz"), "this is not gzip\n");
    const corrupt = gzipSync("a\nb\n");
    // The CRC-32 in the trailer no longer matches what decompresses.
    corrupt[corrupt.length - 8]! ^= 0xff;
    writeFileSync(join(dir, "000000000002.ndjson.gz"), corrupt);
    writeLog(join(dir, "000000000003.ndjson"), ["c"]);
    const source = new DirectorySource(dir);
    const read = await drain(source);
    expect(read.texts).toEqual(["c"]);
    expect(read.notes).toEqual([
      "000000000001.ndjson.gz: cannot decompress it (incorrect header check); skipped",
      "000000000002.ndjson.gz: cannot decompress it (incorrect data check); skipped",
    ]);
    // Copied in again whole, a skipped segment is read.
    writeFileSync(join(dir, "000000000001.ndjson.gz"), gzipSync("d\n"));
    expect((await drain(source, read.cursors)).texts).toEqual(["d"]);
  });

  it("reads a file replaced by another of its name and of the very size read", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000000.ndjson");
    writeLog(file, ["old 1", "old 2"]);
    const source = new DirectorySource(dir);
    const old = await drain(source);
    expect(await source.next(old.cursors, 10)).toBeNull();
    writeLog(file, ["new 1", "new 2"]);
    const replaced = await drain(source, old.cursors);
    expect(replaced.texts).toEqual(["new 1", "new 2"]);
    expect(replaced.notes).toEqual([
      "000000000000.ndjson: its first line changed (a new file by that name); read from its start",
    ]);
    expect(await source.next(replaced.cursors, 10)).toBeNull();
  });

  it("goes on after the last line read of an appended file, its fingerprint as it was", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000000.ndjson");
    // A first line longer than the fingerprint covers, still being written at the first read.
    const long = `l${"x".repeat(6_000)}`;
    writeLog(file, [], { tail: long.slice(0, 5_000) });
    const source = new DirectorySource(dir);
    expect(await source.next([], 10)).toBeNull();
    appendFileSync(file, `${long.slice(5_000)}\nb\n`);
    const first = await drain(source);
    expect(first.texts).toEqual([long, "b"]);
    const taken = first.cursors[0]!.fingerprint;
    expect(taken).toEqual(expect.any(String));
    appendFileSync(file, "c\nd\n");
    const second = await drain(source, first.cursors);
    expect(second.texts).toEqual(["c", "d"]);
    expect(second.notes).toEqual([]);
    expect(second.cursors[0]!.fingerprint).toBe(taken);
    // A cursor stored before fingerprints goes on where it was, and takes the file's.
    appendFileSync(file, "e\n");
    const old = second.cursors.map((c) => ({ ...c, fingerprint: null }));
    const third = await drain(source, old);
    expect(third.texts).toEqual(["e"]);
    expect(third.cursors[0]!.fingerprint).toBe(taken);
  });

  it("syncs every event of an outbox segment replaced by a longer one of its name", async () => {
    const events = [...syntheticEvents({ events: 30, days: 1, seed: 31 })].map(
      ({ cursor: _c, ...e }) => e,
    );
    const dir = tempDir();
    const file = join(dir, "000000000000.ndjson");
    writeLog(file, events.slice(0, 10));
    await withLake(localLake(), async (lake) => {
      expect(await sync(lake, new DirectorySource(dir), { compact: false })).toMatchObject({
        events: 10,
      });
      writeLog(file, events.slice(10));
      const report = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(report).toMatchObject({ events: 20, quarantined: 0 });
      expect(report.notes).toEqual([
        "000000000000.ndjson: its first line changed (a new file by that name); read from its start",
      ]);
      expect(await count(lake, "SELECT count(DISTINCT event_id) FROM memory.events")).toBe(30);
    });
  });

  it("goes on from a cursor the lake stored before fingerprints, and takes the file's", async () => {
    const events = [...syntheticEvents({ events: 20, days: 1, seed: 32 })];
    const dir = tempDir();
    const file = join(dir, "000000000000.ndjson");
    writeLog(file, events.slice(0, 10));
    const location = localLake();
    await withLake(location, async (lake) => {
      await sync(lake, new DirectorySource(dir), { compact: false });
      // The lake as the version before fingerprints left it.
      await lake.connection.run("ALTER TABLE memory.sync_cursors DROP COLUMN fingerprint");
      await lake.connection.run("ALTER TABLE memory.model_calls DROP COLUMN billed_tries");
      await lake.connection.run("DELETE FROM memory.schema_migrations WHERE version >= 5");
    });
    appendFileSync(
      file,
      events
        .slice(10)
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(""),
    );
    await withLake(location, async (lake) => {
      const report = await sync(lake, new DirectorySource(dir), { compact: false });
      expect(report).toMatchObject({ events: 10, duplicates: 0 });
      expect(
        await count(lake, "SELECT count(*) FROM memory.sync_cursors WHERE fingerprint IS NOT NULL"),
      ).toBe(1);
    });
  });

  it("refuses a file that shrank and a directory that is not there", async () => {
    const dir = tempDir();
    const file = join(dir, "000000000001.ndjson");
    writeLog(file, ["aaaa", "bbbb"]);
    const source = new DirectorySource(dir);
    const { cursors } = await drain(source);
    truncateSync(file, 7);
    await expect(source.next(cursors, 10)).rejects.toThrow(/shrank below what was already read/);
    // Cut within its first line, it could as well be a new file being written: it waits.
    truncateSync(file, 3);
    expect(await source.next(cursors, 10)).toBeNull();
    await expect(new DirectorySource(join(dir, "missing")).next([], 10)).rejects.toBeInstanceOf(
      SourceError,
    );
    mkdirSync(join(dir, "empty"));
    expect(await new DirectorySource(join(dir, "empty")).next([], 10)).toBeNull();
  });
});
