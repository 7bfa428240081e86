import type { DuckDBConnection } from "@duckdb/node-api";
import { withTransaction } from "../lake/retry";
import { tables } from "./0001-tables";
import { views } from "./0002-views";
import { planViews } from "./0003-plan-views";
import { eventsUnpartitioned } from "./0004-events-unpartitioned";
import { cursorFingerprints } from "./0005-cursor-fingerprints";
import { billedTries } from "./0006-billed-tries";
import type { Migration } from "./migration";

/** The lake's schema history, in order. */
export const MIGRATIONS: readonly Migration[] = [
  tables,
  views,
  planViews,
  eventsUnpartitioned,
  cursorFingerprints,
  billedTries,
];
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export class LakeSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LakeSchemaError";
  }
}

/** The version the lake's schema is at: 0 for a lake without tables yet. */
export async function schemaVersion(connection: DuckDBConnection): Promise<number> {
  const found = await connection.runAndReadAll(
    "SELECT count(*)::INTEGER FROM duckdb_tables() WHERE database_name = 'memory' AND table_name = 'schema_migrations'",
  );
  if (found.getRows()[0]![0] === 0) return 0;
  const version = await connection.runAndReadAll(
    "SELECT coalesce(max(version), 0)::INTEGER FROM memory.schema_migrations",
  );
  return Number(version.getRows()[0]![0]);
}

/**
 * Brings the lake's schema up to date in one transaction (all pending steps or none). Two
 * writers migrating at once conflict; the loser retries, finds the work done, and does nothing.
 * Returns the versions applied.
 */
export async function migrate(connection: DuckDBConnection): Promise<number[]> {
  return withTransaction(connection, async () => {
    const current = await schemaVersion(connection);
    assertKnown(current);
    const pending = MIGRATIONS.filter((m) => m.version > current);
    if (current === 0)
      await connection.run(
        "CREATE TABLE memory.schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
      );
    for (const migration of pending) {
      for (const statement of migration.statements) await connection.run(statement);
      await connection.run("INSERT INTO memory.schema_migrations VALUES ($1, $2, now())", [
        migration.version,
        migration.name,
      ]);
    }
    return pending.map((m) => m.version);
  });
}

/** Readers refuse a lake written by a newer Auraison, whose tables they may misread. */
export function assertKnown(version: number): void {
  if (version > SCHEMA_VERSION)
    throw new LakeSchemaError(
      `the lake's schema is at version ${version}, newer than this auraison knows (${SCHEMA_VERSION}); upgrade auraison`,
    );
}
