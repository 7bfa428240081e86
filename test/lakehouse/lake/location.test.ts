import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  attachStatement,
  describeCatalog,
  LakeConfigError,
  parseCatalog,
  redactSecrets,
  resolveLakeLocation,
} from "../../../lakehouse";
import { tempDir } from "../fixture";

describe("lake location", () => {
  it("defaults to a SQLite catalog and Parquet files under the state dir's lake", () => {
    expect(resolveLakeLocation({}, "/state/lake", {})).toEqual({
      catalog: { kind: "sqlite", path: "/state/lake/catalog.sqlite" },
      dataPath: "/state/lake/data/",
      explicitDataPath: false,
    });
  });

  it("takes flags over the environment over the default", () => {
    const env = {
      AURAISON_LAKE: "/env/lake",
      AURAISON_LAKE_CATALOG: "postgres:dbname=lake host=db.lab",
      AURAISON_LAKE_DATA: "r2://lab-memory/lake",
    };
    expect(resolveLakeLocation({}, "/state/lake", env)).toEqual({
      catalog: { kind: "postgres", connection: "dbname=lake host=db.lab" },
      dataPath: "r2://lab-memory/lake/",
      explicitDataPath: true,
    });
    expect(
      resolveLakeLocation(
        { dir: "/flag/lake", catalog: "duckdb:/flag/c.ducklake", dataPath: "s3://b/p/" },
        "/state/lake",
        env,
      ),
    ).toEqual({
      catalog: { kind: "duckdb", path: "/flag/c.ducklake" },
      dataPath: "s3://b/p/",
      explicitDataPath: true,
    });
    expect(resolveLakeLocation({}, "/state/lake", { AURAISON_LAKE: "/env/lake" }).catalog).toEqual({
      kind: "sqlite",
      path: "/env/lake/catalog.sqlite",
    });
  });

  it("refuses catalogs and data paths it cannot attach", () => {
    expect(() => parseCatalog("mysql:db=x")).toThrow(LakeConfigError);
    expect(() => resolveLakeLocation({ dataPath: "gs://bucket/lake" }, "/s", {})).toThrow(
      /only local paths, s3:\/\/ and r2:\/\//,
    );
  });

  it("says which setting names an object-store data path that is not a URL, keys hidden", () => {
    const refused = (settings: { dataPath?: string }, env: NodeJS.ProcessEnv = {}) => {
      try {
        resolveLakeLocation(settings, "/s", env);
      } catch (error) {
        expect(error).toBeInstanceOf(LakeConfigError);
        return (error as Error).message;
      }
      throw new Error("the location resolved");
    };
    expect(refused({ dataPath: "s3://bad host/" })).toBe(
      "--data-path 's3://bad host/' is not a valid s3:// URL (s3://<bucket>/<prefix>)",
    );
    const env = { AURAISON_LAKE_DATA: "r2://AKIA1:hunter2@bad host/lake" };
    const fromEnv = refused({}, env);
    expect(fromEnv).toBe(
      "AURAISON_LAKE_DATA 'r2://AKIA1:***@bad host/lake' is not a valid r2:// URL (r2://<bucket>/<prefix>)",
    );
    expect(refused({ dataPath: "s3://" })).toBe(
      "--data-path 's3://' names no bucket (s3://<bucket>/<prefix>)",
    );
    expect(refused({ dataPath: "s3:///lake?s3_secret_access_key=hunter2" })).not.toContain(
      "hunter2",
    );
  });

  it("refuses a lake directory that is a file, naming the setting that gave it", () => {
    const lake = tempDir();
    mkdirSync(join(lake, "data"));
    const catalog = join(lake, "catalog.sqlite");
    writeFileSync(catalog, "SQLite format 3\0");
    const message = `${catalog} is a file, not a directory: the lake is the directory that holds catalog.sqlite and data/`;
    expect(() => resolveLakeLocation({ dir: catalog }, "/s", {})).toThrow(LakeConfigError);
    expect(() => resolveLakeLocation({ dir: catalog }, "/s", {})).toThrow(`--lake ${message}`);
    expect(() => resolveLakeLocation({}, "/s", { AURAISON_LAKE: catalog })).toThrow(
      `AURAISON_LAKE ${message}`,
    );
    expect(() => resolveLakeLocation({}, catalog, {})).toThrow(`the lake directory ${message}`);
    // A directory the catalog and the data path both leave unused is no matter.
    expect(
      resolveLakeLocation(
        { dir: catalog, catalog: "postgres:dbname=x", dataPath: "s3://b/" },
        "/s",
        {},
      ).dataPath,
    ).toBe("s3://b/");
    expect(resolveLakeLocation({ dir: lake }, "/s", {}).catalog).toEqual({
      kind: "sqlite",
      path: catalog,
    });
  });

  it("builds the DuckLake ATTACH, with data path, read-only and time travel as asked", () => {
    const location = resolveLakeLocation(
      { catalog: "sqlite:/l/catalog.sqlite", dataPath: "r2://lab-memory/lake" },
      "/l",
      {},
    );
    expect(
      attachStatement(location, { alias: "memory", readOnly: false, withDataPath: true }),
    ).toBe(
      "ATTACH 'ducklake:sqlite:/l/catalog.sqlite' AS memory (DATA_PATH 'r2://lab-memory/lake/')",
    );
    expect(
      attachStatement(location, {
        alias: "memory",
        readOnly: true,
        withDataPath: false,
        at: { version: 42 },
      }),
    ).toBe("ATTACH 'ducklake:sqlite:/l/catalog.sqlite' AS memory (READ_ONLY, SNAPSHOT_VERSION 42)");
    expect(
      attachStatement(location, {
        alias: "memory",
        readOnly: true,
        withDataPath: false,
        at: { time: new Date("2026-06-01T12:00:00Z") },
      }),
    ).toContain("SNAPSHOT_TIME '2026-06-01T12:00:00.000999Z'");
    // A JS time has milliseconds, the catalog microseconds: a time reads to its millisecond's end.
    expect(
      attachStatement(location, {
        alias: "memory",
        readOnly: true,
        withDataPath: false,
        at: { time: new Date("2026-12-07T00:29:42.807Z") },
      }),
    ).toContain("SNAPSHOT_TIME '2026-12-07T00:29:42.807999Z'");
    expect(describeCatalog(parseCatalog("postgres:host=db password=s3cret dbname=lake"))).toBe(
      "postgres:host=db password=*** dbname=lake",
    );
  });

  describe("shows no secret a location can carry", () => {
    const shown = (spec: string) => describeCatalog(parseCatalog(spec));

    it("hides the password of a PostgreSQL URI, in its userinfo or its query", () => {
      expect(shown("postgres:postgresql://lake:hunter2@db.lab/auraison_lake")).toBe(
        "postgres:postgresql://lake:***@db.lab/auraison_lake",
      );
      expect(shown("postgres:postgres://lake:hunter2@db.lab:5432/x?sslmode=require")).toBe(
        "postgres:postgres://lake:***@db.lab:5432/x?sslmode=require",
      );
      expect(shown("postgres:postgresql://:pass word@db.lab")).toBe(
        "postgres:postgresql://:***@db.lab",
      );
      expect(shown("postgres:postgresql://lake:p@ss@db.lab")).toBe(
        "postgres:postgresql://lake:***@db.lab",
      );
      expect(
        shown("postgres:postgresql://lake@db.lab/x?sslmode=require&password=hunter2&sslpassword=k"),
      ).toBe("postgres:postgresql://lake@db.lab/x?sslmode=require&password=***&sslpassword=***");
      expect(shown("postgres:postgresql://db.lab:5432/x")).toBe(
        "postgres:postgresql://db.lab:5432/x",
      );
    });

    it("hides a libpq password keyword however it is spaced, quoted or escaped", () => {
      expect(shown("postgres:host=db password = hunter2 dbname=x")).toBe(
        "postgres:host=db password = *** dbname=x",
      );
      expect(shown("postgres:host=db password='hunter 2' dbname=x")).toBe(
        "postgres:host=db password=*** dbname=x",
      );
      expect(shown(String.raw`postgres:host=db password='it\'s \\ 2' dbname=x`)).toBe(
        "postgres:host=db password=*** dbname=x",
      );
      expect(shown(String.raw`postgres:password=hunter\ 2 host=db`)).toBe(
        "postgres:password=*** host=db",
      );
      // libpq refuses an unterminated quote, and so does parseCatalog (postgres-password.ts);
      // where such a string is quoted, the rest of it is hidden.
      expect(redactSecrets("host=db password='never closed dbname=x")).toBe("host=db password=***");
      // libpq skips the spaces after `=`: the password is `dbname=x`.
      expect(shown("postgres:host=db password= dbname=x")).toBe("postgres:host=db password= ***");
      expect(shown("postgres:host=db sslpassword=keypass user=lake")).toBe(
        "postgres:host=db sslpassword=*** user=lake",
      );
    });

    it("hides keys in an object-store data path, and secrets in the errors that quote a location", () => {
      expect(redactSecrets("s3://AKIA1:wJalr/K7@lab-memory/lake/")).toBe(
        "s3://AKIA1:***@lab-memory/lake/",
      );
      expect(
        redactSecrets(
          "s3://b/lake/?s3_access_key_id=AKIA1&s3_secret_access_key=wJalr&s3_region=eu",
        ),
      ).toBe("s3://b/lake/?s3_access_key_id=***&s3_secret_access_key=***&s3_region=eu");
      expect(redactSecrets("r2://b/lake/?X-Amz-Credential=AKIA1&X-Amz-Signature=f00d")).toBe(
        "r2://b/lake/?X-Amz-Credential=***&X-Amz-Signature=***",
      );
      expect(redactSecrets("/state/lake/data/")).toBe("/state/lake/data/");
      expect(() => parseCatalog("postgresql://lake:hunter2@db.lab/x")).toThrow(
        "catalog 'postgresql://lake:***@db.lab/x' is not one of",
      );
      expect(() =>
        resolveLakeLocation({ dataPath: "gs://key:hunter2@bucket/lake" }, "/s", {}),
      ).toThrow("data path 'gs://key:***@bucket/lake': only local paths");
      expect(
        redactSecrets(
          'Failed to attach at "postgres:host=db password=hunter2 user=lake"Unable to connect to Postgres at "postgresql://lake:hunter2@db:1/x": refused',
        ),
      ).toBe(
        'Failed to attach at "postgres:host=db password=*** user=lake"Unable to connect to Postgres at "postgresql://lake:***@db:1/x": refused',
      );
    });
  });
});
