import { describe, expect, it } from "vitest";
import {
  attachStatement,
  describeCatalog,
  LakeConfigError,
  parseCatalog,
  redactSecrets,
  resolveLakeLocation,
} from "../../../lakehouse";

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
    ).toContain("SNAPSHOT_TIME '2026-06-01T12:00:00.000Z'");
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
      expect(shown("postgres:host=db password='never closed dbname=x")).toBe(
        "postgres:host=db password=***",
      );
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
