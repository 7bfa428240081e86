import { join } from "node:path";
import type { Command } from "commander";
import { redactError, type SnapshotRef } from "../../lakehouse/lake/location";
import type { Lake } from "../../lakehouse/lake/open";
import { CliError, EXIT } from "../errors";
import { stateDir } from "../settings";

export interface LakeFlags {
  lake?: string;
  catalog?: string;
  dataPath?: string;
}

const ERROR_EXIT: Record<string, number> = {
  LakeNotFoundError: EXIT.notFound,
  LakeConfigError: EXIT.usage,
  QueryError: EXIT.usage,
  SourceError: EXIT.usage,
  LakeSchemaError: EXIT.failure,
  MissingExtensionError: EXIT.failure,
};

/**
 * Opens the lake the flags, the environment (AURAISON_LAKE, AURAISON_LAKE_CATALOG,
 * AURAISON_LAKE_DATA) or the state dir (`<state dir>/lake`) point at, runs `work` on it and
 * closes it. DuckDB loads only here, so `auraison --help` stays fast. The lake's own errors
 * become CLI errors with their exit codes.
 */
export async function withLake<T>(
  command: Command,
  options: { readOnly?: boolean; at?: SnapshotRef },
  work: (lake: Lake) => Promise<T>,
): Promise<T> {
  const flags = command.optsWithGlobals<LakeFlags>();
  try {
    const { resolveLakeLocation } = await import("../../lakehouse/lake/location");
    const { openLake } = await import("../../lakehouse/lake/open");
    const location = resolveLakeLocation(
      { dir: flags.lake, catalog: flags.catalog, dataPath: flags.dataPath },
      join(stateDir(), "lake"),
    );
    const lake = await openLake(location, options);
    try {
      return await work(lake);
    } finally {
      lake.close();
    }
  } catch (error) {
    throw asCliError(error);
  }
}

export function asCliError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof CliError) return error;
  // What failed on a lake already open (a PostgreSQL catalog reconnecting mid-sync) may quote
  // its location, password and all, as opening it may (openLake redacts those itself).
  redactError(error);
  const code = ERROR_EXIT[error.name];
  if (code !== undefined) return new CliError(error.message, code);
  // DuckDB's own errors (a lock, a catalog it cannot reach) are failures, not crashes.
  if (/^[A-Z][A-Za-z ]* Error: /.test(error.message))
    return new CliError(error.message, EXIT.failure);
  return error;
}
