import { appendFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { Stage } from "../../../lakehouse/projection/stage";
import { localLake, tempDir, withLake, writeLog } from "../fixture";

const none = { excluded: new Set<number>(), rewritten: new Map<number, string>() };

describe("the stage", () => {
  it.each([
    ["a complete line", (next: string) => `${next}\n`],
    ["a torn line", (next: string) => next.slice(0, 30)],
  ])(
    "stages exactly the validated lines of a log file that grew by %s meanwhile",
    async (_, grown) => {
      const events = [...syntheticEvents({ events: 12, seed: 3, days: 1 })];
      const file = join(tempDir(), "000000000001.ndjson");
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
      await withLake(localLake(), async (lake) => {
        const stage = await Stage.open(lake.db.instance);
        try {
          await stage.clear(0);
          await stage.appendSpan(0, span, none);
          // An outbox segment being appended to after the validation threads read it.
          appendFileSync(file, grown(JSON.stringify(events[10])));
          const staged = await stage.finish(0);
          expect(staged.events).toBe(10);
          const read = await lake.connection.runAndReadAll(
            `SELECT event_id::VARCHAR FROM ${stage.events(0)} ORDER BY rowid`,
          );
          expect(read.getRows().map(([id]) => id)).toEqual(
            events.slice(0, 10).map((e) => e.event_id),
          );
        } finally {
          stage.close();
        }
      });
    },
  );
});
