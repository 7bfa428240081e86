import { statSync } from "node:fs";
import { resolve } from "node:path";
import { LakeConfigError } from "./config-error";
import { splitPassword } from "./postgres-password";

/**
 * Where a lake's catalog lives. SQLite is the local default: several local processes can use it
 * at once (a `memory sync --follow` writing while `memory sql` reads), which a DuckDB-file
 * catalog cannot do (its file lock admits one process, even against READ_ONLY attaches).
 * PostgreSQL serves several writers and readers on different hosts.
 */
export type CatalogSpec =
  | { kind: "sqlite"; path: string }
  | { kind: "duckdb"; path: string }
  | { kind: "postgres"; connection: string };

export interface LakeLocation {
  catalog: CatalogSpec;
  /** Parquet files: a local directory, or an `s3://` or `r2://` URL. */
  dataPath: string;
  /** True when the data path was given explicitly rather than derived from the lake directory. */
  explicitDataPath: boolean;
}

export { LakeConfigError } from "./config-error";

export interface LakeSettings {
  /** The lake directory (local catalog and data): flag, else AURAISON_LAKE, else the default. */
  dir?: string;
  /** `sqlite:<file>`, `duckdb:<file>` or `postgres:<libpq string>`: flag, else AURAISON_LAKE_CATALOG. */
  catalog?: string;
  /** Data path: flag, else AURAISON_LAKE_DATA. */
  dataPath?: string;
}

const REMOTE = /^(s3|r2):\/\//;

export function isRemotePath(path: string): boolean {
  return REMOTE.test(path);
}

/** Resolves a lake location: explicit settings, then the environment, then `<defaultDir>`. */
export function resolveLakeLocation(
  settings: LakeSettings,
  defaultDir: string,
  env: NodeJS.ProcessEnv = process.env,
): LakeLocation {
  const dir = resolve(settings.dir || env.AURAISON_LAKE || defaultDir);
  const catalogSpec = settings.catalog || env.AURAISON_LAKE_CATALOG;
  const catalog = catalogSpec
    ? parseCatalog(catalogSpec)
    : { kind: "sqlite" as const, path: `${dir}/catalog.sqlite` };
  const explicit = settings.dataPath || env.AURAISON_LAKE_DATA;
  if (!catalogSpec || !explicit)
    assertDirectory(dir, settings.dir ? "--lake" : env.AURAISON_LAKE ? "AURAISON_LAKE" : null);
  const dataPath = withSlash(
    explicit
      ? normaliseDataPath(explicit, settings.dataPath ? "--data-path" : "AURAISON_LAKE_DATA")
      : `${dir}/data`,
  );
  return { catalog, dataPath, explicitDataPath: Boolean(explicit) };
}

/**
 * Here rather than when the lake is opened, because here the flag that named the directory is
 * known: giving the catalog file as the lake (`--lake lake/catalog.sqlite`) is an easy slip.
 */
function assertDirectory(dir: string, from: string | null): void {
  let found: ReturnType<typeof statSync>;
  try {
    found = statSync(dir, { throwIfNoEntry: false });
  } catch {
    // Unreadable or under a file: opening the lake says what is wrong with the path.
    return;
  }
  if (found && !found.isDirectory())
    throw new LakeConfigError(
      `${from ? `${from} ${redactSecrets(dir)}` : `the lake directory ${redactSecrets(dir)}`} is a file, not a directory: the lake is the directory that holds catalog.sqlite and data/`,
    );
}

export function parseCatalog(spec: string): CatalogSpec {
  const match = /^(sqlite|duckdb|postgres):(.+)$/.exec(spec.trim());
  if (!match)
    throw new LakeConfigError(
      `catalog '${redactSecrets(spec)}' is not one of sqlite:<file>, duckdb:<file>, postgres:<connection string>`,
    );
  const [, kind, rest] = match;
  if (kind === "postgres") {
    // Read now, so a string that cannot be split is a usage error before anything opens.
    splitPassword(rest!);
    return { kind, connection: rest! };
  }
  return { kind: kind as "sqlite" | "duckdb", path: resolve(rest!) };
}

function normaliseDataPath(path: string, from: string): string {
  if (isRemotePath(path)) {
    remoteUrl(path, from);
    return path;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path))
    throw new LakeConfigError(
      `data path '${redactSecrets(path)}': only local paths, s3:// and r2:// are supported`,
    );
  return resolve(path);
}

/** An `s3://` or `r2://` data path as a URL; `from` names where it was given, for the error. */
export function remoteUrl(path: string, from = "data path"): URL {
  const scheme = /^[a-z0-9]+/i.exec(path)?.[0] ?? "s3";
  const form = `${scheme}://<bucket>/<prefix>`;
  let url: URL;
  try {
    url = new URL(path);
  } catch {
    // Node's error is no help ("Invalid URL") and carries the path, keys and all, as `input`.
    throw new LakeConfigError(
      `${from} '${redactSecrets(path)}' is not a valid ${scheme}:// URL (${form})`,
    );
  }
  if (!url.host)
    throw new LakeConfigError(`${from} '${redactSecrets(path)}' names no bucket (${form})`);
  return url;
}

function withSlash(path: string): string {
  return path.endsWith("/") ? path : `${path}/`;
}

/**
 * The DuckLake connection string after `ducklake:`. A PostgreSQL password is not in it: it goes
 * to DuckDB as a secret (`catalogSecret`).
 */
export function catalogUri(catalog: CatalogSpec): string {
  switch (catalog.kind) {
    case "sqlite":
      return `sqlite:${catalog.path}`;
    case "duckdb":
      return catalog.path;
    case "postgres":
      return `postgres:${splitPassword(catalog.connection).connection}`;
  }
}

/**
 * The secret that holds a PostgreSQL catalog's password, named (DuckDB's default postgres secret
 * may be a persistent one of the user's: an unnamed temporary one would clash with it) and
 * named in the ATTACH (META_SECRET).
 */
const CATALOG_SECRET = "auraison_catalog";

/** The statement that hands DuckDB a PostgreSQL catalog's password (see postgres-password.ts). */
export function catalogSecret(catalog: CatalogSpec): string | null {
  if (catalog.kind !== "postgres") return null;
  const { password } = splitPassword(catalog.connection);
  return password === null
    ? null
    : `CREATE OR REPLACE TEMPORARY SECRET ${CATALOG_SECRET} (TYPE postgres, PASSWORD ${sqlString(password)})`;
}

/** The catalog for humans and logs, without a PostgreSQL password. */
export function describeCatalog(catalog: CatalogSpec): string {
  if (catalog.kind !== "postgres") return `${catalog.kind}:${catalog.path}`;
  return `postgres:${redactSecrets(catalog.connection)}`;
}

/** Names of settings that hold a secret: libpq's `password` and `sslpassword`, S3 keys and tokens. */
const SECRET_KEYWORD = String.raw`[\w.-]*(?:password|passwd|secret|token|signature|credential|access_key)[\w.-]*`;

/**
 * Where a secret sits in a location, or in a message quoting one (DuckDB's errors quote the
 * whole catalog string). Over-redacting beats a leak, so an unquoted value runs to the next
 * whitespace even where libpq would stop earlier.
 */
const SECRETS: [RegExp, string][] = [
  // URI userinfo (`postgresql://user:pass@host`, `s3://key:secret@bucket`): up to the `@` the
  // host follows, since a password may hold a space, a `/` (S3 secret keys do) or an `@`.
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:).*?@(?=[^\s@/]*(?:[/?#\s"']|$))/gi, "$1***@"],
  // A URI query parameter: `?password=...&sslmode=require`, `?s3_secret_access_key=...`.
  [new RegExp(String.raw`(?<=[?&])(${SECRET_KEYWORD})=[^&#\s]*`, "gi"), "$1=***"],
  // libpq's key = value: spaces around `=`, a single-quoted value with backslash escapes (an
  // unterminated one runs to the end), or an unquoted one, where a backslash escapes too.
  [
    new RegExp(
      String.raw`(?<![\w.?&-])(${SECRET_KEYWORD})(\s*=\s*)(?:'(?:\\[\s\S]|[^'\\])*'?|(?:\\[\s\S]|\S)+)`,
      "gi",
    ),
    "$1$2***",
  ],
];

/**
 * `text` with every secret a lake location can carry replaced by `***`: the one way a catalog,
 * a data path or an error quoting them is shown.
 */
export function redactSecrets(text: string): string {
  return SECRETS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** An error whose message or stack may quote a location, with its secrets as `***`. */
export function redactError(error: Error): void {
  error.message = redactSecrets(error.message);
  if (error.stack) error.stack = redactSecrets(error.stack);
}

export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A snapshot to read: its id, or the lake as of a time. A time is a JS Date, to the millisecond,
 * while the catalog keeps snapshot times to the microsecond: it reads as of the end of its
 * millisecond, so a snapshot time as printed (`memory snapshots`) reads that snapshot.
 */
export type SnapshotRef = { version: number } | { time: Date };

export interface AttachOptions {
  alias: string;
  readOnly: boolean;
  /** Pass DATA_PATH: for a new lake, or to insist on the configured one. */
  withDataPath: boolean;
  at?: SnapshotRef;
}

export function attachStatement(location: LakeLocation, options: AttachOptions): string {
  const params: string[] = [];
  if (options.withDataPath) params.push(`DATA_PATH ${sqlString(location.dataPath)}`);
  if (catalogSecret(location.catalog)) params.push(`META_SECRET ${sqlString(CATALOG_SECRET)}`);
  if (options.readOnly) params.push("READ_ONLY");
  if (options.at && "version" in options.at)
    params.push(`SNAPSHOT_VERSION ${Math.trunc(options.at.version)}`);
  if (options.at && "time" in options.at)
    params.push(`SNAPSHOT_TIME ${sqlString(endOfMillisecond(options.at.time))}`);
  const uri = sqlString(`ducklake:${catalogUri(location.catalog)}`);
  return `ATTACH ${uri} AS ${options.alias}${params.length ? ` (${params.join(", ")})` : ""}`;
}

/**
 * The last microsecond of a time's millisecond, for DuckDB. A snapshot taken at 12:00:00.807886
 * prints as 12:00:00.807Z: read as .807000 it would fall before its own snapshot.
 */
function endOfMillisecond(time: Date): string {
  return time.toISOString().replace(/Z$/, "999Z");
}
