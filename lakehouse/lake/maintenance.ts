import type { DuckDBConnection } from "@duckdb/node-api";
import { withCompactionLease } from "./guard";
import { sqlString } from "./location";
import { withRetry } from "./retry";

/** Where DuckLake attaches the lake's catalog tables when the lake is attached as `memory`. */
export const LAKE_METADATA = "__ducklake_metadata_memory";

export interface LakeFiles {
  /** Data files in the current snapshot, and their bytes. */
  files: number;
  bytes: number;
  /** Delete files (rows removed when runs were derived again). */
  deleteFiles: number;
  /** Rows still inlined in the catalog, waiting to be flushed to Parquet. */
  inlinedRows: number;
}

export interface CompactionReport {
  before: LakeFiles;
  after: LakeFiles;
  seconds: number;
}

export interface CompactOptions {
  /** Expire snapshots older than this (ends time travel before it) and delete their files. */
  expireBefore?: Date;
  /**
   * Flush inlined rows to Parquet only once there are at least this many (default 20,000):
   * flushing a handful would trade catalog rows for tiny files. 0 always flushes.
   */
  flushInlinedAt?: number;
}

/**
 * The current snapshot's files: what a query has to open. The guard row is left out: every commit
 * rewrites it (compaction too), so it always lives inlined, or leaves a file behind.
 */
export async function lakeFiles(connection: DuckDBConnection): Promise<LakeFiles> {
  const info = await connection.runAndReadAll(`
    SELECT coalesce(sum(file_count), 0)::BIGINT, coalesce(sum(file_size_bytes), 0)::BIGINT,
      coalesce(sum(delete_file_count), 0)::BIGINT
    FROM ducklake_table_info('memory') WHERE table_name <> 'sync_guard'`);
  const [files, bytes, deletes] = info.getRows()[0]!.map(Number) as [number, number, number];
  const inlined = await connection.runAndReadAll(`
    SELECT i.table_name FROM ${LAKE_METADATA}.ducklake_inlined_data_tables i
    JOIN ${LAKE_METADATA}.ducklake_table t
      ON t.table_id = i.table_id AND t.end_snapshot IS NULL
    WHERE t.table_name <> 'sync_guard'`);
  let inlinedRows = 0;
  for (const [table] of inlined.getRows())
    inlinedRows += Number(
      (
        await connection.runAndReadAll(
          `SELECT count(*) FROM ${LAKE_METADATA}.${String(table)} WHERE end_snapshot IS NULL`,
        )
      ).getRows()[0]![0],
    );
  return { files, bytes, deleteFiles: deletes, inlinedRows };
}

/**
 * Keeps a long-running sync from leaving thousands of small files: flushes inlined rows to
 * Parquet once there are enough of them, rewrites the files that carry deleted rows (the rows
 * of runs a later batch derived again: recent files, so rewriting them is cheap) so queries
 * open no delete files, and merges adjacent small files within each partition. Replaced files stay for time travel until their snapshots expire; files no
 * snapshot references (left by a crashed sync) are deleted once they are an hour old.
 */
export async function compact(
  connection: DuckDBConnection,
  options: CompactOptions = {},
): Promise<CompactionReport> {
  const started = performance.now();
  const before = await lakeFiles(connection);
  const step = (sql: string) => withRetry(() => connection.run(sql));
  // Steps that move rows to other files hold the lease, so no batch commits meanwhile.
  await withRetry(() =>
    withCompactionLease(connection, async () => {
      if (before.inlinedRows > 0 && before.inlinedRows >= (options.flushInlinedAt ?? 20_000))
        await step("CALL ducklake_flush_inlined_data('memory')");
      await step("CALL ducklake_rewrite_data_files('memory', delete_threshold => 0)");
      await step("CALL ducklake_merge_adjacent_files('memory')");
    }),
  );
  if (options.expireBefore) {
    const at = sqlString(options.expireBefore.toISOString());
    await step(`CALL ducklake_expire_snapshots('memory', older_than => ${at}::TIMESTAMPTZ)`);
    await step("CALL ducklake_cleanup_old_files('memory', cleanup_all => true)");
  }
  // Only files older than any batch in flight: another writer's uncommitted files look orphaned too.
  await step(
    "CALL ducklake_delete_orphaned_files('memory', older_than => now() - INTERVAL 1 HOUR)",
  );
  return {
    before,
    after: await lakeFiles(connection),
    seconds: (performance.now() - started) / 1000,
  };
}
