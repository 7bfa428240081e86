import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import {
  DirectorySource,
  LakeConfigError,
  type LakeLocation,
  LakeNotFoundError,
  LakeSchemaError,
  MIGRATIONS,
  migrate,
  openLake,
  resolveLakeLocation,
  SCHEMA_VERSION,
  sync,
} from "../../../lakehouse";
import { runCli } from "../../helpers/cli";
import { count, localLake, tempDir, withLake, writeLog } from "../fixture";

describe("openLake", () => {
  it("creates a local lake with a WAL-mode SQLite catalog and every migration applied", async () => {
    const dir = tempDir();
    const location = localLake(dir);
    await withLake(location, async (lake) => {
      const applied = (
        await lake.connection.runAndReadAll(
          "SELECT version, name FROM memory.schema_migrations ORDER BY version",
        )
      ).getRows();
      expect(applied).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
      const tables = (
        await lake.connection.runAndReadAll(
          "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' ORDER BY 1",
        )
      )
        .getRows()
        .flat();
      expect(tables).toEqual([
        "events",
        "intents",
        "model_calls",
        "policy_decisions",
        "projections",
        "quarantine",
        "runs",
        "schema_migrations",
        "sync_cursors",
        "sync_guard",
        "tool_calls",
      ]);
      const views = (
        await lake.connection.runAndReadAll(
          "SELECT view_name FROM duckdb_views() WHERE database_name = 'memory' ORDER BY 1",
        )
      )
        .getRows()
        .flat();
      expect(views).toEqual([
        "cost_by_app_model",
        "failed_runs",
        "plan_costs",
        "plan_steps",
        "plans",
        "policy_denials",
        "slow_tools",
      ]);
      expect(await migrate(lake.connection)).toEqual([]);
    });
    const header = readFileSync(join(dir, "catalog.sqlite")).subarray(18, 20);
    expect([...header]).toEqual([2, 2]);
    expect(existsSync(join(dir, "data"))).toBe(true);
  });

  it("keeps partitioning and the inlining limit in the lake, for every writer", async () => {
    await withLake(localLake(), async (lake) => {
      const partitions = await lake.connection.runAndReadAll(`
        SELECT t.table_name, count(*)::INTEGER
        FROM __ducklake_metadata_memory.ducklake_partition_column p
        JOIN __ducklake_metadata_memory.ducklake_table t USING (table_id)
        WHERE t.end_snapshot IS NULL GROUP BY 1 ORDER BY 1`);
      expect(partitions.getRows()).toEqual([
        ["intents", 3],
        ["model_calls", 3],
        ["policy_decisions", 3],
        ["projections", 2],
        ["runs", 3],
        ["tool_calls", 3],
      ]);
      const limit = await lake.connection.runAndReadAll(
        "SELECT value FROM ducklake_options('memory') WHERE option_name = 'data_inlining_row_limit'",
      );
      expect(limit.getRows()).toEqual([["1000"]]);
    });
  });

  it("writes the log unpartitioned, in row groups of 32,768 events, for every writer", async () => {
    await withLake(localLake(), async (lake) => {
      const c = lake.connection;
      const option = await c.runAndReadAll(
        "SELECT value, scope, scope_entry FROM ducklake_options('memory') WHERE option_name = 'parquet_row_group_size'",
      );
      expect(option.getRows()).toEqual([["32768", "GLOBAL", null]]);
      // Two days of events in one insert: one file, not one per day, cut every 32,768 rows.
      await c.run(`INSERT INTO memory.events
        SELECT uuid(), 't', NULL, 'a', 's', i, NULL, 'heartbeat',
          TIMESTAMPTZ '2026-06-01 00:00:00+00' + to_seconds(i), NULL, '{}', 'o'
        FROM range(70000) r(i)`);
      const files = (
        await c.runAndReadAll("SELECT data_file FROM ducklake_list_files('memory', 'events')")
      ).getRows();
      expect(files).toHaveLength(1);
      const groups = await c.runAndReadAll(
        `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata($1) ORDER BY 1`,
        [String(files[0]![0])],
      );
      expect(groups.getRows().map((r) => Number(r[1]))).toEqual([32768, 32768, 4464]);
    });
  });

  it("takes a lake whose log was partitioned by day on to an unpartitioned log, rows unchanged", async () => {
    const log = [...syntheticEvents({ events: 3_000, days: 3 })];
    const older = tempDir();
    const newer = tempDir();
    writeLog(join(older, "000000000001.ndjson"), log.slice(0, 1_500));
    writeLog(join(newer, "000000000001.ndjson"), log.slice(0, 1_500));
    writeLog(join(newer, "000000000002.ndjson"), log.slice(1_500));
    const upgraded = localLake();
    // A lake at schema version 3 (the log by day, DuckDB's row groups) with half the log.
    await withLake(upgraded, async (lake) => {
      const c = lake.connection;
      await c.run("ALTER TABLE memory.events SET PARTITIONED BY (year(ts), month(ts), day(ts))");
      await c.run("CALL memory.set_option('parquet_row_group_size', 122880)");
      await c.run("DELETE FROM memory.schema_migrations WHERE version >= 4");
      await sync(lake, new DirectorySource(older), { compact: false });
      await c.run("ALTER TABLE memory.sync_cursors DROP COLUMN fingerprint");
      await c.run("ALTER TABLE memory.model_calls DROP COLUMN billed_tries");
    });
    // The next writer migrates it; the rest of the log is synced on top.
    await withLake(upgraded, async (lake) => {
      await sync(lake, new DirectorySource(newer), { compact: false });
      const files = (
        await lake.connection.runAndReadAll(
          "SELECT data_file FROM ducklake_list_files('memory', 'events') ORDER BY 1",
        )
      )
        .getRows()
        .map((r) => String(r[0]));
      // The first half's file stays in its day partition; the second half's has none.
      expect(files.filter((f) => /\/year=2026\/month=6\/day=\d+\//.test(f))).toHaveLength(1);
      expect(files.filter((f) => !/year=/.test(f))).toHaveLength(1);
    });
    const fresh = localLake();
    await withLake(fresh, (lake) => sync(lake, new DirectorySource(newer), { compact: false }));
    const rows = (location: typeof fresh) =>
      withLake(
        location,
        async (lake) =>
          (
            await lake.connection.runAndReadAll(`
              SELECT (SELECT count(*) FROM memory.events),
                (SELECT string_agg(event_id::VARCHAR, ',' ORDER BY event_id) FROM memory.events),
                (SELECT string_agg(r::VARCHAR, ',' ORDER BY run_id) FROM memory.runs r),
                (SELECT count(*) FROM memory.tool_calls), (SELECT count(*) FROM memory.model_calls),
                (SELECT string_agg(c::VARCHAR, ',' ORDER BY hour, app, provider, model)
                  FROM memory.cost_by_app_model c)`)
          ).getRows(),
        { readOnly: true },
      );
    expect(await rows(upgraded)).toEqual(await rows(fresh));
  });

  it("lets readers in only to a lake that exists and that they understand", async () => {
    const dir = tempDir();
    const location = localLake(dir);
    await expect(openLake(location, { readOnly: true })).rejects.toBeInstanceOf(LakeNotFoundError);
    expect(existsSync(join(dir, "catalog.sqlite"))).toBe(false);

    await withLake(location, async (lake) => {
      await lake.connection.run(
        "INSERT INTO memory.schema_migrations VALUES ($1, 'from the future', now())",
        [SCHEMA_VERSION + 1],
      );
    });
    await expect(openLake(location, { readOnly: true })).rejects.toBeInstanceOf(LakeSchemaError);
    await expect(openLake(location)).rejects.toThrow(/newer than this auraison knows/);
  });

  it("keeps the catalog's password and the data path's keys out of the errors it throws", async () => {
    const failure = (location: LakeLocation, readOnly = false) =>
      openLake(location, { readOnly, env: {} }).then(
        (lake): Error => {
          lake.close();
          throw new Error("the lake opened");
        },
        (error: Error) => error,
      );
    // Nothing listens on port 1: DuckDB's error quotes the whole catalog string, which holds
    // no password (a DuckDB secret does), and the rest (sslpassword) is redacted.
    const catalogs = [
      [
        "postgres:postgresql://lake:hunter2@127.0.0.1:1/x",
        "user='lake' host='127.0.0.1' port='1' dbname='x'",
      ],
      ["postgres:host=127.0.0.1 port=1 password = 'hunter2 x'", '"host=127.0.0.1 port=1"'],
      ["postgres:host=127.0.0.1 port=1 sslpassword=hunter2", "sslpassword=***"],
    ];
    for (const [catalog, shown] of catalogs)
      for (const readOnly of [true, false]) {
        const location = resolveLakeLocation({ catalog, dataPath: tempDir() }, tempDir(), {});
        const error = await failure(location, readOnly);
        expect(error.message).toContain(shown);
        expect(`${error.message}\n${error.stack}`).not.toContain("hunter2");
      }
    const location = localLake();
    location.dataPath = "s3://lab-memory/lake/?s3_secret_access_key=hunter2";
    expect((await failure(location)).message).toContain(
      "s3://lab-memory/lake/?s3_secret_access_key=*** needs S3",
    );
  });

  it("refuses a location it cannot make directories at, saying which path is in the way", async () => {
    const refused = (location: LakeLocation) =>
      openLake(location, { env: {} }).then(
        (lake): Error => {
          lake.close();
          throw new Error("the lake opened");
        },
        (error: Error) => error,
      );
    const file = join(tempDir(), "catalog.sqlite");
    writeFileSync(file, "not a directory");
    const catalog = resolveLakeLocation(
      { dir: tempDir(), catalog: `sqlite:${join(file, "catalog.sqlite")}` },
      tempDir(),
      {},
    );
    const underFile = await refused(catalog);
    expect(underFile).toBeInstanceOf(LakeConfigError);
    expect(underFile.message).toBe(
      `cannot create the directory of the lake's catalog sqlite:${file}/catalog.sqlite: ${file} is a file, not a directory`,
    );
    const data = resolveLakeLocation({ dir: tempDir(), dataPath: join(file, "data") }, "/s", {});
    const dataUnderFile = await refused(data);
    expect(dataUnderFile).toBeInstanceOf(LakeConfigError);
    expect(dataUnderFile.message).toBe(
      `cannot create the lake's data directory ${file}/data/: ${file} is a file, not a directory`,
    );
    // A dangling symlink where the data directory goes (a disk not mounted): mkdir -p refuses it.
    const dangling = join(tempDir(), "data");
    symlinkSync(join(tempDir(), "not-mounted", "data"), dangling);
    const linked = await refused(
      resolveLakeLocation({ dir: tempDir(), dataPath: dangling }, "/s", {}),
    );
    expect(linked).toBeInstanceOf(LakeConfigError);
    expect(linked.message).toMatch(/^cannot create the lake's data directory .*: EEXIST/);
    // A location built by hand rather than resolved: its object-store URL is checked on opening.
    const location = localLake();
    location.dataPath = "s3://AKIA1:hunter2@bad host/lake/";
    const bad = await refused(location);
    expect(bad).toBeInstanceOf(LakeConfigError);
    expect(bad.message).toBe(
      "data path 's3://AKIA1:***@bad host/lake/' is not a valid s3:// URL (s3://<bucket>/<prefix>)",
    );
    expect(bad.stack).not.toContain("hunter2");
  });

  it.runIf(existsSync("/proc/self"))(
    "refuses a directory the file system will not make, rather than hang (/proc)",
    async () => {
      // Node's recursive mkdir loops forever on /proc's answer, so the command runs in a child
      // process a timeout can stop.
      const run = await runCli(["memory", "--lake", "/proc/self", "compact"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /cannot create the lake's data directory \/proc\/self\/data\/: ENOENT/,
      );
    },
    30_000,
  );

  it("works with a DuckDB-file catalog for a single process", async () => {
    const dir = tempDir();
    const events = tempDir();
    writeLog(join(events, "000000000001-000000000300.ndjson"), [
      ...syntheticEvents({ events: 300, days: 1 }),
    ]);
    const location = resolveLakeLocation(
      { catalog: `duckdb:${join(dir, "memory.ducklake")}` },
      dir,
      {},
    );
    await withLake(location, (lake) => sync(lake, new DirectorySource(events)));
    await withLake(
      location,
      async (lake) => {
        expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(300);
      },
      { readOnly: true },
    );
  });
});
