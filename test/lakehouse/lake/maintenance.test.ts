import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { compact, DirectorySource, lakeFiles, sync } from "../../../lakehouse";
import { count, localLake, projectionDigest, tempDir, withLake, writeLog } from "../fixture";

function parquetFiles(dir: string): number {
  return readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".parquet")).length;
}

// Nine small batches then a compaction: 10-15 s alone, near 50 s on a loaded 2-core machine.
describe("compaction", { timeout: 120_000 }, () => {
  it("merges many small batches' files and flushes inlined rows, leaving the data as it was", async () => {
    const log = tempDir();
    writeLog(join(log, "000000000001-000000009000.ndjson"), [
      ...syntheticEvents({ events: 9_000, days: 1, seed: 4 }),
    ]);
    const dir = tempDir();
    await withLake(localLake(dir), async (lake) => {
      await sync(lake, new DirectorySource(log), { batchSize: 1_100, compact: false });
      const before = await lakeFiles(lake.connection);
      const eventFiles = () =>
        count(
          lake,
          "SELECT file_count FROM ducklake_table_info('memory') WHERE table_name = 'events'",
        );
      expect(await eventFiles()).toBeGreaterThanOrEqual(8);
      expect(before.inlinedRows).toBeGreaterThan(0);
      const digest = await projectionDigest(lake);

      const report = await compact(lake.connection, { flushInlinedAt: 0 });
      expect(report.before).toEqual(before);
      expect(report.after.inlinedRows).toBe(0);
      expect(report.after.deleteFiles).toBe(0);
      expect(await eventFiles()).toBeLessThanOrEqual(2);
      // At most one file per partition is left: merging works within a partition.
      for (const [table, time] of [
        ["runs", "created_at"],
        ["tool_calls", "started_at"],
        ["model_calls", "ts"],
        ["policy_decisions", "ts"],
      ] as const) {
        const files = await count(
          lake,
          `SELECT file_count FROM ducklake_table_info('memory') WHERE table_name = '${table}'`,
        );
        const partitions = await count(
          lake,
          `SELECT count(DISTINCT (app, date_trunc('month', ${time}))) FROM memory.${table}`,
        );
        expect(files, table).toBeLessThanOrEqual(partitions);
      }
      expect(await projectionDigest(lake)).toEqual(digest);

      const onDisk = parquetFiles(join(dir, "data"));
      const expired = await compact(lake.connection, {
        expireBefore: new Date(Date.now() + 1_000),
      });
      expect(expired.after.files).toBe(report.after.files);
      expect(parquetFiles(join(dir, "data"))).toBeLessThan(onDisk);
      expect(await projectionDigest(lake)).toEqual(digest);
    });
  });

  it("leaves a handful of inlined rows in the catalog rather than turn them into tiny files", async () => {
    const log = tempDir();
    writeLog(join(log, "000000000001-000000000400.ndjson"), [
      ...syntheticEvents({ events: 400, days: 1, seed: 6 }),
    ]);
    await withLake(localLake(), async (lake) => {
      const report = await sync(lake, new DirectorySource(log), { batchSize: 100 });
      const [compaction] = report.compactions;
      expect(compaction!.before.files).toBe(0);
      expect(compaction!.after).toEqual(compaction!.before);
      expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(400);
    });
  });
});
