import { describe, expect, it } from "vitest";
import {
  attachStatement,
  describeCatalog,
  LakeConfigError,
  parseCatalog,
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
});
