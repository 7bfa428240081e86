import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS, openLake, resolveLakeLocation, runSql } from "../../../lakehouse";
import { runCli } from "../../helpers/cli";
import { tempDir, withLake } from "../fixture";
import { startPostgres, type TestPostgres } from "../postgres";
import { twoWriters } from "../two-writers";

let pg: TestPostgres;

beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

describe("PostgreSQL catalog", () => {
  it("takes two concurrent writers of overlapping logs: every event once, runs derived as by one", async () => {
    const data = tempDir();
    const lake = ["memory", "--catalog", `postgres:${pg.conninfo}`, "--data-path", data];
    const check = await twoWriters({ events: 9_000, seed: 17, lakeArgs: lake, batchSize: 400 });
    const shared = resolveLakeLocation({ catalog: `postgres:${pg.conninfo}` }, tempDir(), {});
    await withLake(shared, check, { readOnly: true });

    const read = await runCli([...lake, "runs", "--failed", "--limit", "3", "--json"]);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toHaveLength(3);
  }, 300_000);

  it("lets writers that start at once create a new lake together", async () => {
    const conninfo = await pg.database("fresh");
    const location = resolveLakeLocation(
      { catalog: `postgres:${conninfo}`, dataPath: tempDir() },
      tempDir(),
      {},
    );
    const lakes = await Promise.all([1, 2, 3, 4].map(() => openLake(location, { env: {} })));
    try {
      const applied = await lakes[0]!.connection.runAndReadAll(
        "SELECT version FROM memory.schema_migrations ORDER BY version",
      );
      expect(applied.getRows().flat()).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      for (const lake of lakes) lake.close();
    }
  }, 120_000);

  it("shows no password where memory sql answers with the attached catalog", async () => {
    const conninfo = await pg.database("shown");
    const location = resolveLakeLocation(
      { catalog: `postgres:${conninfo}`, dataPath: tempDir() },
      tempDir(),
      {},
    );
    await withLake(location, async () => undefined);
    await withLake(
      location,
      async (lake) => {
        for (const sql of ["SELECT path FROM duckdb_databases()", "PRAGMA database_list"]) {
          const shown = JSON.stringify((await runSql(lake, sql)).rows);
          expect(shown, sql).toContain("password=***");
          expect(shown, sql).not.toContain("auraison-test");
        }
      },
      { readOnly: true },
    );
  }, 120_000);
});
