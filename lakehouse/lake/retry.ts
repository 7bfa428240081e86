import type { DuckDBConnection } from "@duckdb/node-api";

/**
 * Errors a catalog answers while another process holds it for a moment (SQLite's busy lock, a
 * PostgreSQL serialization failure) or when a concurrent DuckLake commit touched the same data:
 * redoing the whole transaction against the newer snapshot resolves them.
 */
const TRANSIENT =
  /database is locked|database is busy|SQLITE_BUSY|conflict|could not serialize|deadlock detected/i;

/** A DuckDB-file catalog held by another process: it stays held while that process runs. */
const FILE_LOCK = /could not set lock on file/i;

export function isTransient(error: unknown): boolean {
  return error instanceof Error && TRANSIENT.test(error.message) && !FILE_LOCK.test(error.message);
}

export interface RetryOptions {
  attempts?: number;
  baseMs?: number;
  /** Which failures are worth another try (default: isTransient). */
  retryIf?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number) => void;
}

/** Runs `fn`, again after a transient failure, with jittered exponential backoff. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseMs ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !(options.retryIf ?? isTransient)(error)) throw error;
      options.onRetry?.(error, attempt);
      const delay = Math.min(5_000, base * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
    }
  }
}

/**
 * Runs `work` in one transaction on `connection` (rolled back if it throws), and all of it again
 * after a transient failure (a conflict with another writer's commit, a busy catalog).
 */
export function withTransaction<T>(
  connection: DuckDBConnection,
  work: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  return withRetry(async () => {
    await connection.run("BEGIN TRANSACTION");
    try {
      const result = await work();
      await connection.run("COMMIT");
      return result;
    } catch (error) {
      await connection.run("ROLLBACK").catch(() => undefined);
      throw error;
    }
  }, options);
}
