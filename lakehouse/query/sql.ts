import { StatementType } from "@duckdb/node-api";
import type { Lake } from "../lake/open";
import { type QueryResult, readQuery } from "./result";

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryError";
  }
}

const READ_STATEMENTS = new Set([
  StatementType.SELECT,
  StatementType.EXPLAIN,
  StatementType.PRAGMA,
  StatementType.CALL,
]);

/**
 * Runs one read-only statement against the lake, with `memory` as the default catalog so
 * `SELECT * FROM runs` works. Anything that writes is refused before it runs (the lake is also
 * attached READ_ONLY by readers).
 */
export async function runSql(lake: Lake, sql: string): Promise<QueryResult> {
  const c = lake.connection;
  await c.run("USE memory");
  // Ids are UUID columns (16 bytes, not 36; DuckLake cannot retype a column in place), and
  // DuckDB has no implicit UUID-to-text cast, so `run_id LIKE '01a2%'`, ILIKE, starts_with
  // and friends fail to bind. Allowing implicit casts to VARCHAR makes them work and changes
  // no query that already binds: an implicit cast to VARCHAR is the costliest candidate, so
  // it is only chosen when nothing else fits.
  await c.run("SET old_implicit_casting = true");
  let statements: Awaited<ReturnType<typeof c.extractStatements>>;
  try {
    statements = await c.extractStatements(sql);
  } catch (error) {
    throw new QueryError(message(error));
  }
  if (statements.count !== 1)
    throw new QueryError(`expected one statement, got ${statements.count}`);
  let type: StatementType;
  try {
    type = (await statements.prepare(0)).statementType;
  } catch (error) {
    throw new QueryError(message(error));
  }
  if (!READ_STATEMENTS.has(type))
    throw new QueryError(
      `memory sql runs read-only queries (SELECT, EXPLAIN, PRAGMA, CALL); this is a ${StatementType[type]} statement`,
    );
  try {
    return await readQuery(c, sql);
  } catch (error) {
    throw new QueryError(message(error));
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
