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
});
