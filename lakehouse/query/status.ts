import { describeCatalog } from "../lake/location";
import { type LakeFiles, lakeFiles } from "../lake/maintenance";
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
    dataPath: lake.location.dataPath,
    schemaVersion: await schemaVersion(c),
    snapshot: snapshot ?? null,
    files: await lakeFiles(c),
    events: await one("SELECT count(*) FROM memory.events"),
    runs: await one("SELECT count(*) FROM memory.runs"),
    quarantined: await one("SELECT count(*) FROM memory.quarantine"),
    sources,
  };
}

/** The lake's snapshots, newest first: the versions `--at` can travel to. */
export function snapshots(lake: Lake, limit = 20): Promise<QueryResult> {
  return readQuery(
    lake.connection,
    `SELECT snapshot_id, snapshot_time, changes
     FROM ducklake_snapshots('memory')
     ORDER BY snapshot_id DESC
     LIMIT ${Math.max(1, Math.trunc(limit))}`,
  );
}
