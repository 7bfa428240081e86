import { hostname } from "node:os";
import type { DuckDBConnection } from "@duckdb/node-api";

/** Names this process in `sync_guard`. */
export function writerName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Updates the lake's one guard row inside the caller's transaction. Two transactions that both
 * do conflict when the second commits, so it redoes its work against the first one's rows.
 */
export async function claimGuard(c: DuckDBConnection, writer: string): Promise<void> {
  await c.run(
    "UPDATE memory.sync_guard SET batches = batches + 1, writer = $1, committed_at = now()",
    [writer],
  );
}

/** A compaction whose process died stops holding writers back after this long. */
const LEASE = "INTERVAL 15 MINUTE";
const COMPACTING = "compacting ";

export class CompactionInProgress extends Error {
  constructor(readonly by: string) {
    super(`conflict: ${by} is compacting the lake; the batch waits`);
    this.name = "CompactionInProgress";
  }
}

/** Throws CompactionInProgress (a transient error) while another process compacts the lake. */
export async function assertNotCompacting(c: DuckDBConnection): Promise<void> {
  const read = await c.runAndReadAll(
    `SELECT writer FROM memory.sync_guard
     WHERE starts_with(writer, '${COMPACTING}') AND committed_at > now() - ${LEASE}`,
  );
  const by = read.getRows()[0]?.[0];
  if (by !== undefined) throw new CompactionInProgress(String(by).slice(COMPACTING.length));
}

/**
 * Runs compaction under a lease in the guard row. DuckLake 1.0 can lose the deletes of a batch
 * committed while compaction moves the rows it deletes (inlined rows flushed to Parquet, files
 * rewritten), which would leave a run derived again with its old rows as well. Taking the lease
 * updates the guard, so a batch in flight conflicts and is redone; a batch that starts while the
 * lease is held waits for its release.
 */
export async function withCompactionLease<T>(
  c: DuckDBConnection,
  work: () => Promise<T>,
): Promise<T> {
  const take = async (writer: string) => {
    await c.run("BEGIN TRANSACTION");
    try {
      await claimGuard(c, writer);
      await c.run("COMMIT");
    } catch (error) {
      await c.run("ROLLBACK").catch(() => undefined);
      throw error;
    }
  };
  await take(`${COMPACTING}${writerName()}`);
  try {
    return await work();
  } finally {
    await take(`${writerName()} (compacted)`);
  }
}
