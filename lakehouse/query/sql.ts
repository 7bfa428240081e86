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
