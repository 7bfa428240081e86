import type { DuckDBConnection } from "@duckdb/node-api";
import { catalogUri, redactSecrets } from "../lake/location";
import type { Lake } from "../lake/open";
import { type QueryResult, readQuery } from "./result";

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryError";
  }
}

/**
 * Table functions a query may read from. Others have effects the READ_ONLY attach does not stop:
 * DuckLake's maintenance functions write Parquet into the lake's data path before the catalog
 * refuses their commit, ducklake_set_option crashed the process, `query` and
 * `json_execute_serialized_sql` run SQL text this check cannot see, `sqlite_query` writes to any
 * SQLite file (the lake's catalog included), `checkpoint` writes. An allowlist, so a function an
 * extension adds later is refused until it is known to only read.
 */
const READ_TABLE_FUNCTIONS = new Set([
  "range",
  "generate_series",
  "unnest",
  "repeat",
  "repeat_row",
  "json_each",
  "json_tree",
  "glob",
  "read_csv",
  "read_csv_auto",
  "sniff_csv",
  "read_json",
  "read_json_auto",
  "read_json_objects",
  "read_json_objects_auto",
  "read_ndjson",
  "read_ndjson_auto",
  "read_ndjson_objects",
  "read_parquet",
  "parquet_scan",
  "parquet_metadata",
  "parquet_schema",
  "parquet_kv_metadata",
  "parquet_file_metadata",
  "parquet_full_metadata",
  "parquet_bloom_probe",
  "read_text",
  "read_blob",
  "histogram",
  "histogram_values",
  "summary",
  "query_table",
  "pg_timezone_names",
  "icu_calendar_names",
  "which_secret",
  "ducklake_snapshots",
  "ducklake_current_snapshot",
  "ducklake_last_committed_snapshot",
  "ducklake_table_info",
  "ducklake_list_files",
  "ducklake_table_changes",
  "ducklake_table_insertions",
  "ducklake_table_deletions",
  "ducklake_options",
  "ducklake_settings",
]);
/** Introspection (duckdb_tables(), pragma_table_info(), ...) only reads. */
const READ_TABLE_FUNCTION_PREFIXES = ["duckdb_", "pragma_"];

/** PRAGMAs that only answer; the others change settings, checkpoint, or copy databases. */
const READ_PRAGMAS = new Set([
  "collations",
  "database_list",
  "database_size",
  "extension_versions",
  "functions",
  "metadata_info",
  "platform",
  "show",
  "show_databases",
  "show_tables",
  "show_tables_expanded",
  "storage_info",
  "table_info",
  "user_agent",
  "version",
]);

/** Whitespace and comments before a statement's first keyword. */
const LEAD = String.raw`(?:\s+|--[^\n]*(?:\n|$)|/\*[\s\S]*?\*/)*`;
const EXPLAIN = new RegExp(`^${LEAD}explain\\b${LEAD}(?:analy[sz]e\\b)?`, "i");
const CALL = new RegExp(`^${LEAD}call\\b`, "i");
const PRAGMA = new RegExp(`^${LEAD}pragma${LEAD}([a-z_][a-z0-9_]*)`, "i");

const ALLOWED =
  "SELECT (with SHOW, DESCRIBE, SUMMARIZE), EXPLAIN [ANALYZE] of one, CALL of a table function that reads, PRAGMA that reads";

/**
 * Runs one read-only statement against the lake, with `memory` as the default catalog so
 * `SELECT * FROM runs` works. Anything that writes is refused before it is bound (binding a
 * table function already runs some: ducklake_set_option crashed the process there), by what the
 * statement is and by the table functions it calls, read from DuckDB's own parse of it. The lake
 * is also attached READ_ONLY by readers, but that does not stop everything: see
 * READ_TABLE_FUNCTIONS.
 */
export async function runSql(lake: Lake, sql: string): Promise<QueryResult> {
  const c = lake.connection;
  if (!sql.trim()) throw new QueryError("no statement given");
  await c.run("USE memory");
  // Ids are UUID columns (16 bytes, not 36; DuckLake cannot retype a column in place), and
  // DuckDB has no implicit UUID-to-text cast, so `run_id LIKE '01a2%'`, ILIKE, starts_with
  // and friends fail to bind. Allowing implicit casts to VARCHAR makes them work and changes
  // no query that already binds: an implicit cast to VARCHAR is the costliest candidate, so
  // it is only chosen when nothing else fits.
  await c.run("SET old_implicit_casting = true");
  let statements: number;
  try {
    statements = (await c.extractStatements(sql)).count;
  } catch (error) {
    throw new QueryError(message(error));
  }
  if (statements !== 1) throw new QueryError(`expected one statement, got ${statements}`);
  const run = await readOnly(c, sql);
  let result: QueryResult;
  try {
    result = await readQuery(c, run);
  } catch (error) {
    throw new QueryError(message(error));
  }
  return withoutSecrets(lake, result);
}

/**
 * The result with the lake's own location shown as everywhere else, without its secrets:
 * DuckDB reports the catalog it attached and the data path (`duckdb_databases()`, `PRAGMA
 * database_list`). A PostgreSQL password is not in them (it is a DuckDB secret: see
 * postgres-password.ts), but what no secret can carry is (libpq's sslpassword, keys in a data
 * path's URL). Only those exact strings are replaced, so no data that merely looks like a
 * secret is changed.
 */
function withoutSecrets(lake: Lake, result: QueryResult): QueryResult {
  const hidden = [catalogUri(lake.location.catalog), lake.location.dataPath]
    .map((raw) => [raw, redactSecrets(raw)] as const)
    .filter(([raw, shown]) => raw !== shown);
  if (hidden.length === 0) return result;
  const scrub = (value: unknown): unknown => {
    if (typeof value === "string")
      return hidden.reduce(
        (s, [raw, shown]) => (s.includes(raw) ? s.split(raw).join(shown) : s),
        value,
      );
    if (Array.isArray(value)) return value.map(scrub);
    if (value !== null && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    return value;
  };
  return { ...result, rows: result.rows.map((row) => scrub(row) as Record<string, unknown>) };
}

/** The statement to run for `sql` if it only reads; refuses it otherwise. */
async function readOnly(c: DuckDBConnection, sql: string): Promise<string> {
  const query = await parsed(c, sql);
  if (query) {
    assertReads(query);
    return sql;
  }
  const explain = EXPLAIN.exec(sql);
  if (explain) {
    // EXPLAIN ANALYZE runs what it explains, so what it explains is checked as a query.
    assertReads(
      (await parsed(c, sql.slice(explain[0].length))) ?? refuse("EXPLAIN of a non-query"),
    );
    return sql;
  }
  if (CALL.test(sql)) {
    // CALL f(...) is SELECT * FROM f(...): run as such, so the function is checked.
    const select = `SELECT * FROM ${sql.replace(CALL, "")}`;
    assertReads((await parsed(c, select)) ?? refuse("CALL of a non-function"));
    return select;
  }
  const pragma = PRAGMA.exec(sql)?.[1]?.toLowerCase();
  if (pragma && READ_PRAGMAS.has(pragma)) return sql;
  if (pragma) refuse(`PRAGMA ${pragma}`);
  const keyword = new RegExp(`^${LEAD}([a-z]+)`, "i").exec(sql)?.[1]?.toUpperCase() ?? "?";
  return refuse(`a ${keyword} statement`);
}

/** DuckDB's parse of `sql` (parsed, not bound) when it is one query, else null. */
async function parsed(c: DuckDBConnection, sql: string): Promise<unknown> {
  const serialized = await c.runAndReadAll("SELECT json_serialize_sql($1::VARCHAR)", [sql]);
  const tree = JSON.parse(String(serialized.getRows()[0]![0])) as {
    error: boolean;
    statements?: unknown[];
  };
  return !tree.error && tree.statements?.length === 1 ? tree.statements[0] : null;
}

/** Refuses a parsed query unless all its table functions only read. */
function assertReads(query: unknown): void {
  for (const name of tableFunctions(query))
    if (
      !READ_TABLE_FUNCTIONS.has(name) &&
      !READ_TABLE_FUNCTION_PREFIXES.some((prefix) => name.startsWith(prefix))
    )
      refuse(`the table function ${name}, which does more than read`);
}

/** The names of the table functions a parsed query calls, at any depth. */
function tableFunctions(tree: unknown): string[] {
  const names: string[] = [];
  const pending = [tree];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node === null || typeof node !== "object") continue;
    const n = node as { type?: unknown; function?: { function_name?: unknown } };
    if (n.type === "TABLE_FUNCTION" && typeof n.function?.function_name === "string")
      names.push(n.function.function_name.toLowerCase());
    pending.push(...Object.values(node));
  }
  return names;
}

function refuse(what: string): never {
  throw new QueryError(`memory sql runs read-only queries (${ALLOWED}); refused: ${what}`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
