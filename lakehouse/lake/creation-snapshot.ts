import type { DuckDBConnection } from "@duckdb/node-api";
import { LAKE_METADATA } from "./maintenance";

/** Tables the lake fills for itself when it is created or migrated: not data. */
const BOOKKEEPING = new Set(["schema_migrations", "sync_guard"]);

/**
 * The lake as it was created: the last snapshot before any data arrived, with every table
 * and view and no rows. What a query "as of" a time before the lake existed should see.
 * Null when the lake has no tables yet.
 */
export async function creationSnapshot(
  connection: DuckDBConnection,
): Promise<{ id: number; time: Date } | null> {
  const names = new Map(
    (
      await connection.runAndReadAll(
        `SELECT table_id, table_name FROM ${LAKE_METADATA}.ducklake_table`,
      )
    )
      .getRowsJS()
      .map(([id, name]) => [String(id), String(name)]),
  );
  const snapshots = (
    await connection.runAndReadAll(
      "SELECT snapshot_id, snapshot_time, changes FROM ducklake_snapshots('memory') ORDER BY snapshot_id",
    )
  ).getRowObjectsJS();
  let created: { id: number; time: Date } | null = null;
  for (const snapshot of snapshots) {
    const changes = (snapshot.changes ?? []) as { key: string; value: unknown }[];
    const touchesData = changes.some(
      ({ key, value }) =>
        !/_(created|altered|dropped)$/.test(key) &&
        (Array.isArray(value) ? value : [value]).some(
          (table) => !BOOKKEEPING.has(names.get(String(table)) ?? String(table)),
        ),
    );
    if (touchesData) break;
    if (created || changes.some((c) => c.key === "tables_created"))
      created = { id: Number(snapshot.snapshot_id), time: snapshot.snapshot_time as Date };
  }
  return created;
}
