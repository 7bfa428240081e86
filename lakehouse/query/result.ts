import { type DuckDBConnection, DuckDBTypeId, type DuckDBValue } from "@duckdb/node-api";

/** A query's answer in plain JSON-safe values: numbers, strings, booleans, arrays, objects. */
export interface QueryResult {
  columns: string[];
  types: string[];
  rows: Record<string, unknown>[];
}

/** Runs a query and converts its rows: BIGINTs become numbers (strings past 2^53), times ISO strings. */
export async function readQuery(
  connection: DuckDBConnection,
  sql: string,
  values?: DuckDBValue[] | Record<string, DuckDBValue>,
): Promise<QueryResult> {
  const reader = await connection.runAndReadAll(sql, values);
  const columns = reader.columnNames();
  const types = reader.columnTypes();
  const rows = reader.getRowObjectsJS().map((row) => {
    const out: Record<string, unknown> = {};
    columns.forEach((name, i) => {
      out[name] = plain(row[name], types[i]!.typeId);
    });
    return out;
  });
  return { columns, types: types.map((t) => t.toString()), rows };
}

function plain(value: unknown, type?: DuckDBTypeId): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint")
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    const iso = value.toISOString();
    return type === DuckDBTypeId.DATE ? iso.slice(0, 10) : iso;
  }
  if (Array.isArray(value)) return value.map((v) => plain(v));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = plain(v);
    return out;
  }
  return value;
}
