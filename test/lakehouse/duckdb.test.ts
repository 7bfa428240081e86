import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DUCKDB_VERSION,
  duckdbPlatform,
  extensionDirectory,
  MissingExtensionError,
  openDuckDB,
} from "../../lakehouse";

describe("openDuckDB", () => {
  it("runs the DuckDB release the extensions were built for", async () => {
    const db = await openDuckDB();
    try {
      const rows = (await db.connection.runAndReadAll("select version()")).getRows();
      expect(rows[0]![0]).toBe(DUCKDB_VERSION);
    } finally {
      db.close();
    }
  });

  it("round-trips a DuckLake table (DuckDB-file catalog, local Parquet) with extensions from the project directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "auraison-ducklake-"));
    const db = await openDuckDB();
    try {
      await db.connection.run(
        `ATTACH 'ducklake:${join(dir, "catalog.ducklake")}' AS memory (DATA_PATH '${join(dir, "data")}/')`,
      );
      await db.connection.run("CREATE TABLE memory.notes (id INTEGER, body VARCHAR)");
      await db.connection.run("INSERT INTO memory.notes VALUES (1, 'first'), (2, 'second')");
      const rows = (
        await db.connection.runAndReadAll("SELECT id, body FROM memory.notes ORDER BY id")
      ).getRows();
      expect(rows).toEqual([
        [1, "first"],
        [2, "second"],
      ]);
      const loaded = (
        await db.connection.runAndReadAll(
          "SELECT extension_name, install_path FROM duckdb_extensions() WHERE loaded AND extension_name = 'ducklake'",
        )
      ).getRows();
      expect(loaded).toEqual([
        [
          "ducklake",
          join(extensionDirectory(), DUCKDB_VERSION, duckdbPlatform(), "ducklake.duckdb_extension"),
        ],
      ]);
    } finally {
      db.close();
    }
  });

  it("loads the requested extensions up front from the project directory", async () => {
    const db = await openDuckDB({
      extensions: ["ducklake", "httpfs", "postgres_scanner", "sqlite_scanner"],
    });
    try {
      const rows = (
        await db.connection.runAndReadAll(
          "SELECT extension_name, install_path FROM duckdb_extensions() WHERE loaded AND install_path LIKE '%.duckdb_extension' ORDER BY 1",
        )
      ).getRows();
      expect(rows.map((r) => r[0])).toEqual([
        "ducklake",
        "httpfs",
        "postgres_scanner",
        "sqlite_scanner",
      ]);
      for (const row of rows) expect(String(row[1]).startsWith(extensionDirectory())).toBe(true);
    } finally {
      db.close();
    }
  });

  it("names the missing extension and the install command when it cannot be found or downloaded", async () => {
    const empty = mkdtempSync(join(tmpdir(), "auraison-noext-"));
    // An unroutable repository makes the online fallback fail fast and deterministically.
    const attempt = openDuckDB({
      extensionDirectory: empty,
      extensions: ["ducklake"],
      config: { custom_extension_repository: "http://127.0.0.1:9" },
    });
    await expect(attempt).rejects.toBeInstanceOf(MissingExtensionError);
    await expect(attempt).rejects.toThrow(/'ducklake'.*npm run duckdb:extensions/s);
  });
});
