import { assertNotCompacting, claimGuard, writerName } from "../lake/guard";
import { compact } from "../lake/maintenance";
import type { Lake } from "../lake/open";
import { withTransaction } from "../lake/retry";
import type { EventSource } from "../sources/source";
import { EVENT_COLUMNS } from "./commit";
import { deriveTouched } from "./derive-touched";
import { type SyncOptions, type SyncReport, sync } from "./sync";

/** The tables derived from the log; a rebuild empties and derives them again. */
export const DERIVED_TABLES = [
  "runs",
  "intents",
  "tool_calls",
  "model_calls",
  "policy_decisions",
  "projections",
] as const;

export interface RebuildReport {
  events: number;
  runs: number;
  seconds: number;
}

export interface RebuildOptions {
  /**
   * Runs derived per step (default 20,000): bounds the memory one step takes, not the
   * transaction. An intent whose runs fall in two steps is derived again from all of them.
   */
  runsPerStep?: number;
}

/**
 * Drops the projection and replays the whole log the lake holds (its `events` table) in one
 * transaction: readers see the old projection until the new one is complete.
 */
export async function rebuild(lake: Lake, options: RebuildOptions = {}): Promise<RebuildReport> {
  const perStep = options.runsPerStep ?? 20_000;
  if (!Number.isSafeInteger(perStep) || perStep < 1)
    throw new Error(`runsPerStep must be a positive integer, not ${perStep}`);
  const started = performance.now();
  const c = lake.connection;
  return withTransaction(c, async () => {
    await assertNotCompacting(c);
    await claimGuard(c, `${writerName()} rebuild`);
    for (const table of DERIVED_TABLES) await c.run(`DELETE FROM memory.${table}`);
    await c.run(`CREATE OR REPLACE TEMP TABLE rebuild_runs AS
        SELECT run_id, (row_number() OVER (ORDER BY run_id) - 1) // ${perStep} AS step
        FROM (SELECT DISTINCT run_id FROM memory.events WHERE run_id IS NOT NULL)`);
    const steps = Number(
      (
        await c.runAndReadAll("SELECT coalesce(max(step) + 1, 0) FROM rebuild_runs")
      ).getRows()[0]![0],
    );
    // Run-less model calls and policy decisions are derived once, with the first step.
    await c.run(`CREATE OR REPLACE TEMP TABLE rebuild_runless AS
        SELECT ${EVENT_COLUMNS}, origin FROM memory.events
        WHERE run_id IS NULL AND kind IN ('model_call', 'policy_decision')`);
    await c.run("CREATE OR REPLACE TEMP VIEW batch AS SELECT * FROM rebuild_runless");
    let runs = 0;
    for (let step = 0; step < Math.max(steps, 1); step++) {
      await c.run(`CREATE OR REPLACE TEMP TABLE rebuild_run_events AS
          SELECT ${EVENT_COLUMNS} FROM memory.events
          WHERE run_id IN (SELECT run_id FROM rebuild_runs WHERE step = ${step})`);
      await c.run("CREATE OR REPLACE TEMP VIEW run_events AS SELECT * FROM rebuild_run_events");
      runs += await deriveTouched(c, null);
      if (step === 0) await c.run("DELETE FROM rebuild_runless");
    }
    const events = Number(
      (await c.runAndReadAll("SELECT count(*) FROM memory.events")).getRows()[0]![0],
    );
    return { events, runs, seconds: (performance.now() - started) / 1000 };
  });
}

/**
 * Replaces the whole lake with a source's log, atomically: one lake transaction empties every
 * table (events, quarantine and cursors included) and syncs the source from its beginning, so
 * readers see the previous lake until the new one is complete, and a rebuild that fails (or is
 * killed) leaves the previous lake exactly as it was. The Parquet files of a failed rebuild are
 * referenced by no snapshot; compaction deletes them.
 */
export async function rebuildFrom(
  lake: Lake,
  source: EventSource,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const c = lake.connection;
  const report = await withTransaction(c, async () => {
    await assertNotCompacting(c);
    await claimGuard(c, `${writerName()} rebuild`);
    for (const table of [...DERIVED_TABLES, "events", "quarantine", "sync_cursors"])
      await c.run(`DELETE FROM memory.${table}`);
    return sync(lake, source, { ...options, follow: false, inTransaction: true });
  });
  if (options.compact !== false && report.events + report.quarantined > 0) {
    const done = await compact(c);
    report.compactions.push(done);
    report.timings.compact += done.seconds * 1000;
  }
  return report;
}
