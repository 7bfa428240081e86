import { describeCatalog, redactSecrets } from "../lake/location";
import { LAKE_METADATA, type LakeFiles, lakeFiles } from "../lake/maintenance";
import type { Lake } from "../lake/open";
import { schemaVersion } from "../schema/migrations";
import { type QueryResult, readQuery } from "./result";

export interface LakeStatus {
  catalog: string;
  dataPath: string;
  schemaVersion: number;
  snapshot: { id: number; time: string } | null;
  files: LakeFiles;
  events: number;
  runs: number;
  quarantined: number;
  sources: { origin: string; files: number; position: number; lines: number; updated_at: string }[];
}

/** Where the lake is, how far each source was read, and how many files a query has to open. */
export async function lakeStatus(lake: Lake): Promise<LakeStatus> {
  const c = lake.connection;
  const one = async (sql: string) => Number((await c.runAndReadAll(sql)).getRows()[0]![0]);
  const snapshot = (
    await readQuery(
      c,
      "SELECT snapshot_id AS id, snapshot_time AS time FROM ducklake_snapshots('memory') ORDER BY snapshot_id DESC LIMIT 1",
    )
  ).rows[0] as LakeStatus["snapshot"] | undefined;
  const sources = (
    await readQuery(
      c,
      `SELECT origin, count(*) AS files, sum(position) AS position, sum(lines) AS lines,
         max(updated_at) AS updated_at
       FROM memory.sync_cursors GROUP BY origin ORDER BY origin`,
    )
  ).rows as LakeStatus["sources"];
  return {
    catalog: describeCatalog(lake.location.catalog),
    dataPath: redactSecrets(lake.location.dataPath),
    schemaVersion: await schemaVersion(c),
    snapshot: snapshot ?? null,
    files: await lakeFiles(c),
    events: await one("SELECT count(*) FROM memory.events"),
    runs: await one("SELECT count(*) FROM memory.runs"),
    quarantined: await one("SELECT count(*) FROM memory.quarantine"),
    sources,
  };
}

/**
 * The lake's snapshots, newest first: the versions `--at` can travel to. `changes` maps each
 * kind of change to what it touched, tables by name (DuckLake's own record names some by its
 * internal table ids).
 */
export async function snapshots(lake: Lake, limit = 20): Promise<QueryResult> {
  const result = await readQuery(
    lake.connection,
    `SELECT snapshot_id, snapshot_time, changes
     FROM ducklake_snapshots('memory')
     ORDER BY snapshot_id DESC
     LIMIT ${Math.max(1, Math.trunc(limit))}`,
  );
  const names = await tableNames(lake);
  for (const row of result.rows) row.changes = namedChanges(row.changes, names);
  return result;
}

/** DuckLake's table ids and the names they had (a renamed table keeps its id). */
async function tableNames(lake: Lake): Promise<Map<string, string>> {
  const { rows } = await readQuery(
    lake.connection,
    `SELECT table_id, table_name FROM ${LAKE_METADATA}.ducklake_table ORDER BY begin_snapshot`,
  );
  return new Map(rows.map((r) => [String(r.table_id), String(r.table_name)]));
}

/** `[{key, value: ["5", "16"]}]` → `{ key: ["events", "runs"] }`; names stay names. */
function namedChanges(changes: unknown, names: Map<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const entries = Array.isArray(changes) ? (changes as { key: string; value: unknown }[]) : [];
  for (const { key, value } of entries) {
    const items = Array.isArray(value) ? value.map(String) : [String(value)];
    out[key] = items.map((item) =>
      /^\d+$/.test(item) ? (names.get(item) ?? `table ${item}`) : item.replace(/^main\./, ""),
    );
  }
  return out;
}
