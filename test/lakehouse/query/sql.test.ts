import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { DirectorySource, type LakeLocation, QueryError, runSql, sync } from "../../../lakehouse";
import { localLake, tempDir, withLake, writeLog } from "../fixture";

let location: LakeLocation;
const events = [...syntheticEvents({ events: 1_000, days: 1, seed: 13 })];

beforeAll(async () => {
  const log = tempDir();
  writeLog(join(log, "000000000001-000000001000.ndjson"), events);
  location = localLake();
  await withLake(location, (lake) => sync(lake, new DirectorySource(log)));
});

describe("queries", () => {
  it("runs one read-only statement with the lake as the default catalog", async () => {
    const result = await withLake(
      location,
      (lake) => runSql(lake, "SELECT count(*) AS n FROM events"),
      {
        readOnly: true,
      },
    );
    expect(result).toEqual({ columns: ["n"], types: ["BIGINT"], rows: [{ n: 1_000 }] });
    const views = await withLake(location, (lake) => runSql(lake, "FROM failed_runs LIMIT 1"), {
      readOnly: true,
    });
    expect(views.columns).toContain("error_reason");
  });

  it("refuses writes, several statements and bad SQL with a clear error", async () => {
    await withLake(
      location,
      async (lake) => {
        await expect(runSql(lake, "DELETE FROM runs")).rejects.toThrow(/read-only queries.*DELETE/);
        await expect(runSql(lake, "SELECT 1; SELECT 2")).rejects.toThrow(/one statement, got 2/);
        await expect(runSql(lake, "SELEC 1")).rejects.toBeInstanceOf(QueryError);
        await expect(runSql(lake, "SELECT nope FROM runs")).rejects.toThrow(/nope/);
      },
      { readOnly: true },
    );
  });

  it("refuses what would write or run hidden SQL, however it is wrapped, and runs what reads", async () => {
    const out = tempDir();
    const catalog = (location.catalog as { path: string }).path;
    const parquet = () =>
      readdirSync(location.dataPath, { recursive: true }).filter((f) =>
        String(f).endsWith(".parquet"),
      ).length;
    const before = parquet();
    await withLake(
      location,
      async (lake) => {
        const refused = [
          // EXPLAIN ANALYZE runs what it explains: this overwrote the catalog.
          `EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '${catalog}' (FORMAT csv)`,
          `EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '${out}/x.csv' (FORMAT csv)`,
          "explain  /* a */ analyse INSTALL spatial",
          "EXPLAIN ANALYZE SET threads = 1",
          // DuckLake's maintenance writes Parquet into the data path before the commit fails.
          "CALL ducklake_flush_inlined_data('memory')",
          "SELECT * FROM ducklake_flush_inlined_data('memory')",
          "SELECT * FROM (SELECT 1) JOIN ducklake_merge_adjacent_files('memory') ON true",
          // This one crashed the process.
          "CALL ducklake_set_option('memory', 'data_inlining_row_limit', 5)",
          "SELECT * FROM query('SELECT 1')",
          `SELECT * FROM sqlite_query('${catalog}', 'DROP TABLE ducklake_snapshot')`,
          "WITH a AS (SELECT * FROM checkpoint()) SELECT * FROM a",
          "PRAGMA force_checkpoint",
          "PRAGMA enable_profiling",
          "ATTACH ':memory:' AS other",
        ];
        for (const sql of refused)
          await expect(runSql(lake, sql), sql).rejects.toThrow(/read-only queries .*refused/);
        await expect(runSql(lake, "  ")).rejects.toThrow("no statement given");
        expect(existsSync(join(out, "x.csv"))).toBe(false);
        expect(parquet()).toBe(before);

        const reads = [
          "EXPLAIN SELECT count(*) FROM runs",
          "EXPLAIN ANALYZE SELECT count(*) FROM runs",
          "-- the lake's history\nCALL ducklake_snapshots('memory')",
          "SELECT count(*) FROM ducklake_table_info('memory')",
          "DESCRIBE runs",
          "SHOW TABLES",
          "SUMMARIZE SELECT 1 AS a",
          "PRAGMA table_info('runs')",
          "SELECT count(*) FROM duckdb_tables()",
        ];
        for (const sql of reads)
          expect((await runSql(lake, sql)).rows.length, sql).toBeGreaterThan(0);
      },
      { readOnly: true },
    );
    // The lake is as it was.
    const n = await withLake(location, (lake) => runSql(lake, "SELECT count(*) AS n FROM events"), {
      readOnly: true,
    });
    expect(n.rows).toEqual([{ n: 1_000 }]);
  });
});
