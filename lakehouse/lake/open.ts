import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { type DuckDB, openDuckDB } from "../duckdb";
import type { ExtensionName } from "../extensions";
import { assertKnown, migrate, schemaVersion } from "../schema/migrations";
import { catalogExists, createOnce } from "./creation-lock";
import { creationSnapshot } from "./creation-snapshot";
import {
  attachStatement,
  catalogSecret,
  describeCatalog,
  isRemotePath,
  LakeConfigError,
  type LakeLocation,
  redactError,
  type SnapshotRef,
} from "./location";
import { objectStoreSecret } from "./object-store";
import { isTransient, withRetry } from "./retry";
import { enableWal } from "./sqlite-wal";

/** The name the lake is attached under; every statement of the projection refers to it. */
export const LAKE_ALIAS = "memory";

export interface Lake {
  readonly location: LakeLocation;
  readonly readOnly: boolean;
  readonly connection: DuckDBConnection;
  readonly db: DuckDB;
  /** Time travel answered from another snapshot than asked for, and why (for the user). */
  note?: string;
  close(): void;
}

export interface OpenLakeOptions {
  /** Readers attach READ_ONLY and never create or migrate the lake. */
  readOnly?: boolean;
  /** Time travel: attach the lake as of this snapshot (read-only). */
  at?: SnapshotRef;
  env?: NodeJS.ProcessEnv;
  /** Extra DuckDB settings, e.g. threads or memory_limit. */
  config?: Record<string, string>;
}

export class LakeNotFoundError extends Error {
  constructor(location: LakeLocation) {
    super(
      `no lake at ${describeCatalog(location.catalog)}: sync some events first (auraison memory sync)`,
    );
    this.name = "LakeNotFoundError";
  }
}

const NEW_LAKE = /create a new ducklake instance|data_path is not set/i;

/**
 * Two writers creating the same new lake in PostgreSQL race on the catalog's tables; the loser
 * fails with a duplicate type or table, and its retry finds the lake the winner created.
 */
const CREATION_RACE = /duplicate key value violates unique constraint|already exists/i;
const attachRetry = (error: unknown) =>
  isTransient(error) || (error instanceof Error && CREATION_RACE.test(error.message));

/** `--at` names a snapshot the lake does not have. */
export class NoSnapshotError extends LakeConfigError {
  constructor(at: SnapshotRef) {
    super(
      `the lake has no snapshot ${"version" in at ? at.version : `at ${at.time.toISOString()}`}; list them with \`auraison memory snapshots\``,
    );
  }
}

/** The data path the lake's catalog holds (null for a lake not created yet). */
async function storedDataPath(c: DuckDBConnection): Promise<string | null> {
  const read = await c.runAndReadAll(
    `SELECT value FROM __ducklake_metadata_${LAKE_ALIAS}.ducklake_metadata WHERE key = 'data_path'`,
  );
  const value = read.getRows()[0]?.[0];
  return typeof value === "string" ? value : null;
}

/**
 * Opens DuckDB with the lake attached as `memory`. Writers create the lake on first use and
 * bring its schema up to date; readers attach it READ_ONLY (optionally at a snapshot) and refuse
 * a lake that does not exist yet or was written by a newer schema. A time or snapshot before the
 * lake's tables were created is answered as of their creation (the tables, no rows): nothing had
 * happened yet.
 */
export async function openLake(
  location: LakeLocation,
  options: OpenLakeOptions = {},
): Promise<Lake> {
  try {
    return await attachAsOf(location, options);
  } catch (error) {
    // DuckDB's errors quote the catalog string, password and all; the CLI prints them as they are.
    if (error instanceof Error) redactError(error);
    throw error;
  }
}

async function attachAsOf(location: LakeLocation, options: OpenLakeOptions): Promise<Lake> {
  const at = options.at;
  if (!at) return attachLake(location, options);
  let lake: Lake;
  try {
    lake = await attachLake(location, options);
  } catch (error) {
    // A time before the lake's first snapshot.
    if (!(error instanceof NoSnapshotError && "time" in at)) throw error;
    const current = await attachLake(location, { ...options, at: undefined, readOnly: true });
    let created: Creation | null;
    try {
      created = await creationSnapshot(current.connection);
    } finally {
      current.close();
    }
    if (!created || at.time >= created.time) throw error;
    return asOfCreation(location, options, created);
  }
  // A snapshot before the lake's tables were created (snapshot 0 holds only its schema) would
  // fail on a missing table rather than find no rows. Only such a snapshot lacks the schema's
  // version, which spares every other time travel reading all the lake's snapshots.
  let created: Creation | null;
  try {
    created = (await schemaVersion(lake.connection)) === 0 ? await creationAfter(lake) : null;
  } catch (error) {
    lake.close();
    throw error;
  }
  if (!created) return lake;
  lake.close();
  return asOfCreation(location, options, created);
}

type Creation = NonNullable<Awaited<ReturnType<typeof creationSnapshot>>>;

/** The lake's creation snapshot, when the snapshot `lake` is attached at comes before it. */
async function creationAfter(lake: Lake): Promise<Creation | null> {
  const current = await lake.connection.runAndReadAll(
    `SELECT id FROM ${LAKE_ALIAS}.current_snapshot()`,
  );
  const id = Number(current.getRows()[0]![0]);
  const created = await creationSnapshot(lake.connection);
  return created && id < created.id ? created : null;
}

async function asOfCreation(
  location: LakeLocation,
  options: OpenLakeOptions,
  created: Creation,
): Promise<Lake> {
  const at = options.at!;
  const asked = "time" in at ? at.time.toISOString() : `snapshot ${at.version}`;
  const lake = await attachLake(location, { ...options, at: { version: created.id } });
  lake.note = `the lake was created at ${created.time.toISOString()} (snapshot ${created.id}), after ${asked}: answering as of its creation (no data yet)`;
  return lake;
}

/**
 * Errors of a directory the lake cannot have where its location puts it (a file in the way, no
 * permission): the location is wrong, so they are the user's to fix, not a crash.
 */
const MISPLACED = new Set([
  "EEXIST",
  "ENOENT",
  "ENOTDIR",
  "EACCES",
  "EPERM",
  "EROFS",
  "ENAMETOOLONG",
  "ELOOP",
]);

function makeDirectory(path: string, what: string): void {
  try {
    createDirectories(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!code || !MISPLACED.has(code)) throw error;
    const file = fileInTheWay(path);
    throw new LakeConfigError(
      `cannot create ${what}: ${file ? `${file} is a file, not a directory` : (error as Error).message}`,
    );
  }
}

/**
 * `mkdir -p`, by hand: Node's recursive mkdirSync loops forever where a file system answers
 * ENOENT for a directory whose parent exists (/proc: `memory --lake /proc/1 compact` hung;
 * test/lakehouse/lake/open.test.ts pins it). Here that ENOENT is the answer.
 */
function createDirectories(path: string): void {
  const missing: string[] = [];
  let p = resolve(path);
  let found = statSync(p, { throwIfNoEntry: false });
  while (!found && dirname(p) !== p) {
    missing.unshift(p);
    p = dirname(p);
    found = statSync(p, { throwIfNoEntry: false });
  }
  // The directory itself is a file: mkdir says so (EEXIST), as `mkdir -p` does.
  if (missing.length === 0 && found && !found.isDirectory()) mkdirSync(p);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      // Another writer creating the same lake got there first; anything else there (a file, a
      // dangling symlink) is in the way.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EEXIST" || !statSync(dir, { throwIfNoEntry: false })?.isDirectory())
        throw error;
    }
  }
}

/** The nearest existing ancestor of `path` (or `path` itself), when it is not a directory. */
function fileInTheWay(path: string): string | null {
  for (let p = path; ; p = dirname(p)) {
    try {
      const found = statSync(p, { throwIfNoEntry: false });
      if (found) return found.isDirectory() ? null : p;
    } catch {
      // Not reachable from here (under a file, or unreadable): look further up.
    }
    if (dirname(p) === p) return null;
  }
}

async function attachLake(location: LakeLocation, options: OpenLakeOptions): Promise<Lake> {
  const readOnly = options.readOnly === true || options.at !== undefined;
  const extensions: ExtensionName[] = ["ducklake"];
  if (location.catalog.kind === "sqlite") extensions.push("sqlite_scanner");
  if (location.catalog.kind === "postgres") extensions.push("postgres_scanner");
  const remote = isRemotePath(location.dataPath);
  if (remote) extensions.push("httpfs");
  const secret = objectStoreSecret(location.dataPath, options.env);

  const localCatalog = location.catalog.kind === "postgres" ? null : location.catalog.path;
  const exists = localCatalog ? catalogExists(localCatalog) : null;
  if (exists === false && readOnly) throw new LakeNotFoundError(location);

  const db = await openDuckDB({ extensions, config: options.config });
  const lake: Lake = {
    location,
    readOnly,
    connection: db.connection,
    db,
    close: () => db.close(),
  };
  try {
    const c = db.connection;
    await c.run("SET TimeZone = 'UTC'");
    if (secret) await c.run(secret.sql);
    const password = catalogSecret(location.catalog);
    if (password) await c.run(password);
    if (!readOnly) {
      if (localCatalog)
        makeDirectory(
          dirname(localCatalog),
          `the directory of the lake's catalog ${describeCatalog(location.catalog)}`,
        );
      if (!remote)
        makeDirectory(location.dataPath, `the lake's data directory ${location.dataPath}`);
    }
    const attach = (withDataPath: boolean) =>
      withRetry(
        () =>
          c.run(
            attachStatement(location, {
              alias: LAKE_ALIAS,
              readOnly,
              withDataPath,
              at: options.at,
            }),
          ),
        // A lake being created by another writer may take a while on a busy machine.
        { retryIf: attachRetry, attempts: 12 },
      ).catch((error: unknown) => {
        if (options.at && error instanceof Error && /no snapshot found/i.test(error.message))
          throw new NoSnapshotError(options.at);
        throw error;
      });
    const created =
      exists === false &&
      (await createOnce(localCatalog!, async () => {
        await attach(true);
        if (location.catalog.kind === "sqlite") {
          await c.run(`DETACH ${LAKE_ALIAS}`);
          enableWal(location.catalog.path);
          await attach(false);
        }
        // The schema is created under the lock too: a writer attaching mid-migration would
        // cache the catalog's tables without the ones being created and fail on them.
        await migrate(c);
      }));
    if (!created) {
      try {
        await attach(location.explicitDataPath);
      } catch (error) {
        if (!(error instanceof Error && NEW_LAKE.test(error.message))) throw error;
        if (readOnly) throw new LakeNotFoundError(location);
        await attach(true);
      }
    }
    // A lake attached without its data path (say a reader given only the PostgreSQL catalog)
    // keeps its data where the catalog says; on object storage, that needs the secret too.
    if (!secret) {
      const stored = await storedDataPath(c);
      const needed = stored && isRemotePath(stored) ? objectStoreSecret(stored, options.env) : null;
      if (needed) await c.run(needed.sql);
    }
    if (readOnly) {
      const version = await schemaVersion(c);
      if (version === 0 && !options.at) throw new LakeNotFoundError(location);
      assertKnown(version);
    } else {
      await migrate(c);
    }
    return lake;
  } catch (error) {
    db.close();
    throw error;
  }
}
