import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS, openDuckDB, openLake, resolveLakeLocation, runSql } from "../../../lakehouse";
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

  it("keeps the catalog's password out of DuckDB: memory sql cannot show it, however it asks", async () => {
    // A password libpq must be told in quotes or percent-encoding, in both of libpq's forms.
    const password = "p@ss w'rd\\ 9/x";
    const { host, port } = await pg.role("shown", password);
    const quoted = password.replace(/['\\]/g, "\\$&");
    const forms = [
      `host=${host} port=${port} user=shown password = '${quoted}' dbname=shown`,
      `postgresql://shown:${encodeURIComponent(password)}@${host}:${port}/shown`,
    ];
    const dataPath = tempDir();
    for (const [i, connection] of forms.entries()) {
      const location = resolveLakeLocation(
        { catalog: `postgres:${connection}`, dataPath },
        tempDir(),
        {},
      );
      if (i === 0) await withLake(location, async () => undefined);
      await withLake(
        location,
        async (lake) => {
          for (const sql of [
            "SELECT path, upper(path), replace(path, 'p', '') FROM duckdb_databases()",
            "PRAGMA database_list",
            "SELECT * FROM duckdb_secrets()",
          ]) {
            const shown = JSON.stringify((await runSql(lake, sql)).rows);
            expect(shown, sql).toMatch(/shown|password=redacted/);
            for (const part of ["w'rd", "W'RD", "ss w", "SS W", "rd\\\\ 9"])
              expect(shown, `${sql}: ${part}`).not.toContain(part);
          }
          await expect(
            runSql(lake, "SELECT * FROM duckdb_secrets(redact := false)"),
          ).rejects.toThrow(/unredacted secrets is disabled/);
          expect((await runSql(lake, "SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);
        },
        { readOnly: true },
      );
    }
    // A raw # and ? in a URI's password: libpq's URIs have no fragment, and the userinfo runs to
    // the first @.
    const raw = await pg.role("rawuri", "ab#cd?x");
    await withLake(
      resolveLakeLocation(
        {
          catalog: `postgres:postgresql://rawuri:ab#cd?x@${raw.host}:${raw.port}/rawuri`,
          dataPath: tempDir(),
        },
        tempDir(),
        {},
      ),
      async (lake) => {
        const shown = JSON.stringify(
          (await runSql(lake, "SELECT upper(path) AS p FROM duckdb_databases()")).rows,
        );
        expect(shown).toContain("RAWURI");
        expect(shown).not.toContain("AB#CD");
      },
    );
    // The user's own persistent default postgres secret (in ~/.duckdb) neither clashes with the
    // catalog's nor stands in for it.
    const home = tempDir();
    const stored = await openDuckDB({
      extensions: ["postgres_scanner"],
      config: { secret_directory: join(home, ".duckdb", "stored_secrets") },
    });
    await stored.connection.run(
      "CREATE PERSISTENT SECRET (TYPE postgres, PASSWORD 'not-this-one')",
    );
    stored.close();
    const before = process.env.HOME;
    process.env.HOME = home;
    try {
      const keyed = resolveLakeLocation(
        { catalog: `postgres:${forms[0]}`, dataPath },
        tempDir(),
        {},
      );
      await withLake(keyed, async (lake) => {
        const secrets = (await runSql(lake, "SELECT name FROM duckdb_secrets() ORDER BY name"))
          .rows;
        expect(secrets).toEqual([{ name: "__default_postgres" }, { name: "auraison_catalog" }]);
        expect((await runSql(lake, "SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);
      });
    } finally {
      process.env.HOME = before;
    }
    // No password in the string: libpq's own PGPASSWORD, read when DuckDB connects.
    const bare = resolveLakeLocation(
      { catalog: `postgres:host=${host} port=${port} user=shown dbname=shown`, dataPath },
      tempDir(),
      {},
    );
    await expect(withLake(bare, async () => undefined, { readOnly: true })).rejects.toThrow(
      /password/,
    );
    process.env.PGPASSWORD = password;
    try {
      await withLake(
        bare,
        async (lake) => {
          expect((await runSql(lake, "SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);
        },
        { readOnly: true },
      );
    } finally {
      delete process.env.PGPASSWORD;
    }
  }, 120_000);
});
