import {
  appendFileSync,
  copyFileSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { type Cursor, DirectorySource, type SourceBatch, sync } from "../../../lakehouse";
import { LogChangedError, Stage } from "../../../lakehouse/projection/stage";
import { count, LogBuilder, localLake, tableRows, tempDir, withLake, writeLog } from "../fixture";

/** DuckDB's reason for an attempt past INTEGER, as the quarantine gives it. */
const REFUSED = /^DuckDB cannot read it: .*3000000000/;

const none = { excluded: new Set<number>(), rewritten: new Map<number, string>() };

/** Ways a log file is changed under a reader, from `before` to `after` (lines, written whole). */
const changes: [string, (file: string, after: string) => void][] = [
  ["wiped and written again", (file, after) => writeFileSync(file, after)],
  [
    "replaced by rename",
    (file, after) => {
      writeFileSync(`${file}.new`, after);
      renameSync(`${file}.new`, file);
    },
  ],
  [
    "copied and truncated (copytruncate), then written to",
    (file, after) => {
      copyFileSync(file, `${file}.1`);
      truncateSync(file, 0);
      appendFileSync(file, after);
    },
  ],
];

/** Waits until a file's last change is old enough for a read to trust it (see Stage.hold). */
async function settle(file: string): Promise<void> {
  const ctime = statSync(file, { bigint: true }).ctimeNs;
  const slack = ctime % 1_000_000_000n === 0n ? 2_100 : 200;
  const wait = Number(ctime / 1_000_000n) + slack - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

describe("the stage", () => {
  /** Ten events in a log file, the span of all of them, and the next two events. */
  function tenEvents() {
    const events = [...syntheticEvents({ events: 12, seed: 3, days: 1 })];
    const file = join(tempDir(), "000000000001.ndjson");
    const written = Date.now();
    writeLog(file, events.slice(0, 10));
    const span = {
      path: file,
      file: "000000000001.ndjson",
      firstLine: 1,
      first: 0,
      records: 10,
      lines: 10,
      from: 0,
      to: statSync(file).size,
    };
    return { events, file, span, bytes: readFileSync(file), written };
  }

  async function staged(stage: Stage, lake: Parameters<Parameters<typeof withLake>[1]>[0]) {
    const read = await lake.connection.runAndReadAll(
      `SELECT event_id::VARCHAR FROM ${stage.events(0)} ORDER BY rowid`,
    );
    return read.getRows().map(([id]) => id);
  }

  it.each([
    ["a complete line", (next: string) => `${next}\n`],
    ["a torn line", (next: string) => next.slice(0, 30)],
  ])(
    "stages exactly the validated lines of a log file just written that grew by %s meanwhile",
    async (_, grown) => {
      const { events, file, span, bytes, written } = tenEvents();
      await withLake(localLake(), async (lake) => {
        const stage = await Stage.open(lake.db.instance);
        try {
          await stage.clear(0);
          // Read while it was written: staged from a copy of what was read.
          const held = stage.hold(0, span, bytes, { since: written, copy: false });
          expect(held.held).toHaveProperty("copy");
          await stage.appendSpan(0, held, none);
          // An outbox segment being appended to after the validation threads read it.
          appendFileSync(file, grown(JSON.stringify(events[10])));
          expect((await stage.finish(0)).events).toBe(10);
          expect(await staged(stage, lake)).toEqual(events.slice(0, 10).map((e) => e.event_id));
        } finally {
          stage.close();
        }
      });
    },
  );

  // The contract refuses every line DuckDB is known not to read (an attempt past INTEGER was the
  // last: contract/primitives.ts, Attempt); these pin the stage's own guard, for whatever the
  // contract and the lake's columns disagree on next. Staged by a sync (its own connection) and
  // by a rebuild (the lake's, in the rebuild's transaction).
  it.each([
    ["a sync", false],
    ["a rebuild", true],
  ])(
    "finds each line DuckDB cannot read in a large log, staged straight from it or as text, in %s",
    async (_, shared) => {
      const events = [...syntheticEvents({ events: 3_000, days: 1, seed: 5 })];
      const unreadable = new Set([10, 1_717, 2_999]);
      const lines = events.map((e, i) =>
        unreadable.has(i) ? JSON.stringify({ ...e, attempt: 3_000_000_000 }) : JSON.stringify(e),
      );
      const file = join(tempDir(), "000000000001.ndjson");
      writeFileSync(file, `${lines.slice(0, 1_500).join("\n")}\n`);
      await settle(file);
      const span = {
        path: file,
        file: "000000000001.ndjson",
        firstLine: 1,
        first: 0,
        records: 1_500,
        lines: 1_500,
        from: 0,
        to: statSync(file).size,
      };
      await withLake(localLake(), async (lake) => {
        if (shared) await lake.connection.run("BEGIN TRANSACTION");
        const stage = await Stage.open(lake.db.instance, shared ? lake.connection : undefined);
        try {
          await stage.clear(0);
          const held = stage.hold(0, span, readFileSync(file), { since: Date.now(), copy: false });
          expect(held.held).toHaveProperty("log");
          await stage.appendSpan(0, held, none);
          await stage.appendText(
            0,
            lines.slice(1_500),
            lines.slice(1_500).map((_, i) => `000000000002.ndjson:${i + 1}`),
          );
          expect(await stage.finish(0)).toMatchObject({ events: 2_997, unreadable: 3 });
          const read = await lake.connection.runAndReadAll(
            `SELECT count(*), count(DISTINCT event_id) FROM ${stage.events(0)}`,
          );
          expect(read.getRows()).toEqual([[2_997n, 2_997n]]);
          const quarantined = await lake.connection.runAndReadAll(
            `SELECT position, event_id, reason FROM ${stage.quarantine(0)} ORDER BY position`,
          );
          expect(quarantined.getRows()).toEqual([
            ["000000000001.ndjson:11", events[10]!.event_id, expect.stringMatching(REFUSED)],
            ["000000000002.ndjson:1500", events[2_999]!.event_id, expect.stringMatching(REFUSED)],
            ["000000000002.ndjson:218", events[1_717]!.event_id, expect.stringMatching(REFUSED)],
          ]);
        } finally {
          stage.close();
          if (shared) await lake.connection.run("ROLLBACK");
        }
      });
    },
  );

  it("quarantines a line DuckDB cannot read next to an event larger than 16 MiB", async () => {
    const log = new LogBuilder();
    const big = log.add(
      "error",
      {
        category: "tool",
        code: "x",
        message: "m",
        fatal: false,
        detail: { blob: "x".repeat(17 * 2 ** 20) },
      },
      {},
    );
    const run = log.id();
    const t = log.add("turn_started", { turn: 1 }, { run_id: run, attempt: 1 });
    const bad = JSON.stringify(t).replace('"attempt":1', '"attempt":3000000000');
    const ok = log.add("turn_started", { turn: 2 }, { run_id: run, attempt: 1 });
    await withLake(localLake(), async (lake) => {
      const stage = await Stage.open(lake.db.instance);
      try {
        await stage.clear(0);
        // As a gzipped segment's lines are staged: as text. The stage splits the group to find it.
        await stage.appendText(
          0,
          [JSON.stringify(big), bad, JSON.stringify(ok)],
          ["g:1", "g:2", "g:3"],
        );
        expect(await stage.finish(0)).toMatchObject({ events: 2, unreadable: 1 });
        expect(await staged(stage, lake)).toEqual([big.event_id, ok.event_id]);
        const quarantined = await lake.connection.runAndReadAll(
          `SELECT position, event_id, reason FROM ${stage.quarantine(0)}`,
        );
        expect(quarantined.getRows()).toEqual([
          ["g:2", t.event_id, expect.stringMatching(REFUSED)],
        ]);
      } finally {
        stage.close();
      }
    });
  }, 120_000);

  it("stages a log file that nothing changed since it was read from the file itself", async () => {
    const { events, file, span, bytes } = tenEvents();
    await settle(file);
    await withLake(localLake(), async (lake) => {
      const stage = await Stage.open(lake.db.instance);
      try {
        await stage.clear(0);
        const held = stage.hold(0, span, bytes, { since: Date.now(), copy: false });
        expect(held.held).toHaveProperty("log");
        await stage.appendSpan(0, held, none);
        expect((await stage.finish(0)).events).toBe(10);
        expect(await staged(stage, lake)).toEqual(events.slice(0, 10).map((e) => e.event_id));
      } finally {
        stage.close();
      }
    });
  });

  // The stage reads a log file by its path after the source read it: the file as it is then may
  // hold bytes nobody checked. Each way it is read: DuckDB (all of the file), a copy (part of
  // it), the lines' text (around a refused line).
  const reads: [string, (bytes: Buffer) => object][] = [
    ["by DuckDB", () => ({})],
    // All lines but the last: not all of the file.
    ["copied", (bytes) => ({ records: 9, lines: 9, to: bytes.lastIndexOf(10, -2) + 1 })],
    ["as text", () => ({ exceptions: { excluded: new Set([3]), rewritten: new Map() } })],
  ];
  it.each([
    ...changes,
    ["appended to", (file: string) => appendFileSync(file, "{}\n")],
    ["removed", (file: string) => rmSync(file)],
  ] as [string, (file: string, after: string) => void][])(
    "refuses a log file %s after it was read, however the stage reads it",
    async (_, change) => {
      await withLake(localLake(), async (lake) => {
        const stage = await Stage.open(lake.db.instance);
        try {
          for (const [how, shape] of reads) {
            const { file, span, bytes } = tenEvents();
            await settle(file);
            await stage.clear(0);
            const { exceptions = none, ...reshaped } = shape(bytes) as {
              exceptions?: typeof none;
            };
            const part = { ...span, ...reshaped };
            const held = stage.hold(0, part, bytes.subarray(0, part.to), {
              since: Date.now(),
              copy: false,
            });
            expect(held.held, how).toHaveProperty("log");
            // The same bytes with one changed: what the contract refuses, the same size.
            const text = bytes.toString();
            change(
              file,
              text.replace(/"tenant":"([a-z-]+)"/, (_m, t) => `"tenant":"${t.toUpperCase()}"`),
            );
            await expect(
              (async () => {
                await stage.appendSpan(0, held, exceptions);
                await stage.finish(0);
              })(),
              how,
            ).rejects.toThrow(LogChangedError);
          }
        } finally {
          stage.close();
        }
      });
    },
  );
});

describe("memory sync of a log file changed under it", () => {
  it.each(changes)(
    "stages only what was validated of a log file %s after the source read it",
    async (_, change) => {
      const log = new LogBuilder();
      const run = log.id();
      const good = log.add("turn_started", { turn: 1 }, { run_id: run, attempt: 1 });
      const dir = tempDir();
      const file = join(dir, "000000000000.ndjson");
      writeLog(file, [good]);
      await settle(file);
      const bad = JSON.stringify(good).replace('"tenant":"lab"', '"tenant":"LAB"');
      // Between the source's read and the stage's: the contract refuses a tenant in capitals.
      class Replacing extends DirectorySource {
        done = false;
        override async next(c: readonly Cursor[], max: number): Promise<SourceBatch | null> {
          const batch = await super.next(c, max);
          if (batch && !this.done) {
            this.done = true;
            change(file, `${bad}\n`);
          }
          return batch;
        }
      }
      await withLake(localLake(), async (lake) => {
        const report = await sync(lake, new Replacing(dir), { compact: false });
        expect(report.events).toBe(1);
        const rows = await tableRows(lake, "events");
        expect(rows.map((r) => [r.event_id, r.tenant])).toEqual([[good.event_id, "lab"]]);
        // The file as it is now, read again as a new file by its name (its fingerprint changed,
        // whatever its size), is checked like any.
        expect(await tableRows(lake, "quarantine")).toEqual([
          expect.objectContaining({ position: "000000000000.ndjson:1", raw: bad }),
        ]);
      });
    },
  );

  it("reads a batch again when a log file it read changes before it is staged", async () => {
    const log = new LogBuilder();
    const run = log.id();
    // A first read of exactly a read's worth of entries: the batch reads on.
    const first = Array.from({ length: 20_000 }, (_, i) =>
      log.add("turn_started", { turn: i + 1 }, { run_id: run, attempt: 1 }),
    );
    const second = log.add("turn_started", { turn: 20_001 }, { run_id: run, attempt: 1 });
    const dir = tempDir();
    const file = join(dir, "000000000001.ndjson");
    writeLog(file, first);
    writeLog(join(dir, "000000000002.ndjson"), [second]);
    await settle(file);
    // Its fifth line rewritten in place, the same size: the contract refuses a tenant in
    // capitals. The file's first line stays, so the source reads on after what it read.
    const changed = readFileSync(file, "utf8").split("\n");
    changed[4] = changed[4]!.replace('"tenant":"lab"', '"tenant":"LAB"');
    class Rewriting extends DirectorySource {
      calls = 0;
      override async next(c: readonly Cursor[], max: number): Promise<SourceBatch | null> {
        if (++this.calls === 2) writeFileSync(file, changed.join("\n"));
        return super.next(c, max);
      }
    }
    await withLake(localLake(), async (lake) => {
      const source = new Rewriting(dir);
      const report = await sync(lake, source, { compact: false });
      expect(report).toMatchObject({ events: 20_000, quarantined: 1 });
      expect(report.notes).toContain(
        `${file} changed while it was being synced; its batch was read again`,
      );
      expect(await count(lake, "SELECT count(*) FROM memory.events WHERE tenant <> 'lab'")).toBe(0);
      const [quarantined] = await tableRows(lake, "quarantine");
      expect(quarantined).toMatchObject({
        position: "000000000001.ndjson:5",
        event_id: first[4]!.event_id,
      });
    });
  }, 60_000);
});
