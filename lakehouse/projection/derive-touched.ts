import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "../lake/location";
import {
  ADD_INTENT_RUNS,
  deleteIntents,
  deleteTouched,
  INSERT_INTENTS,
  INSERT_MODEL_CALLS,
  INSERT_POLICY_DECISIONS,
  INSERT_PROJECTIONS,
  INSERT_RUNS,
  INSERT_TOOL_CALLS,
  INTENT_RUNS,
  intentLakeRuns,
  NEW_RUNS,
  PAYLOADS,
  RUN_FACTS,
  touchedIntents,
} from "./derive";
import { foldTouchedRuns } from "./fold-runs";
import { type Steps, timed } from "./steps";

/**
 * Derives every row of the runs in `run_events` (and of the run-less events in `batch`). With
 * `replace` (a SQL timestamp literal: the earliest `created_at` of the runs listed in
 * `existing`), the rows those runs already have in the lake are replaced. The intents of those
 * runs are derived again from all their runs, those the lake already has included. Returns the
 * number of runs derived. `meanwhile`, a statement of the caller's that none of this reads, runs
 * while the runs are replayed in JavaScript. Leaves `run_events` naming other runs' events.
 */
export async function deriveTouched(
  c: DuckDBConnection,
  replace: string | null,
  steps: Steps = {},
  meanwhile?: () => Promise<unknown>,
): Promise<number> {
  await deriveRuns(c, steps, meanwhile);
  const runs = Number((await c.runAndReadAll("SELECT count(*) FROM new_runs")).getRows()[0]![0]);
  const lake = await timed(steps, "intents' runs", () => intentsInLake(c, replace));
  if (replace !== null || lake.since !== null)
    await timed(steps, "delete replaced rows", async () => {
      if (lake.since !== null) await c.run(deleteIntents(lake.since));
      if (replace !== null) for (const statement of deleteTouched(replace)) await c.run(statement);
    });
  for (const [table, statement] of [
    ["runs", INSERT_RUNS],
    ["tool_calls", INSERT_TOOL_CALLS],
    ["model_calls", INSERT_MODEL_CALLS],
    ["policy_decisions", INSERT_POLICY_DECISIONS],
    ["projections", INSERT_PROJECTIONS],
  ] as const)
    await timed(steps, table, () => c.run(statement));
  await timed(steps, "intents", () => c.run(INTENT_RUNS));
  if (lake.others !== null) {
    // Only the intents' rows read these runs: their own rows in the lake stay as they are.
    await timed(steps, "intents' other runs", async () => {
      await c.run(`CREATE OR REPLACE TEMP TABLE other_run_events AS
        SELECT * EXCLUDE (origin) FROM memory.events
        WHERE run_id IN (SELECT run_id FROM other_runs) AND ts >= ${lake.others}`);
      await c.run("CREATE OR REPLACE TEMP VIEW run_events AS SELECT * FROM other_run_events");
    });
    await deriveRuns(c, steps);
    await timed(steps, "intents", () => c.run(ADD_INTENT_RUNS));
  }
  await timed(steps, "intents", () => c.run(INSERT_INTENTS));
  return runs;
}

/** Folds the runs in `run_events` into `new_runs`. */
async function deriveRuns(
  c: DuckDBConnection,
  steps: Steps,
  meanwhile?: () => Promise<unknown>,
): Promise<void> {
  await timed(steps, "run facts", () => c.run(RUN_FACTS));
  // Views: the statements below parse what they read of the payloads (see PAYLOADS).
  for (const statement of PAYLOADS) await c.run(statement);
  await foldTouchedRuns(c, steps, meanwhile);
  await timed(steps, "runs", () => c.run(NEW_RUNS));
}

/**
 * The touched intents (`touched_intents`), and what the lake has of them: `since`, the earliest
 * `created_at` of their runs in the lake (a SQL literal, null for none), which dates their rows
 * there; `others`, the same of their runs that `new_runs` lacks (`other_runs`), null for none.
 */
async function intentsInLake(
  c: DuckDBConnection,
  replace: string | null,
): Promise<{ since: string | null; others: string | null }> {
  await c.run(touchedIntents(replace));
  const [low, high] = (
    await c.runAndReadAll(
      "SELECT min(intent_id)::VARCHAR, max(intent_id)::VARCHAR FROM touched_intents",
    )
  ).getRows()[0]! as [string | null, string | null];
  if (low === null || high === null) return { since: null, others: null };
  await c.run(intentLakeRuns(low, high));
  await c.run(`CREATE OR REPLACE TEMP TABLE other_runs AS
    SELECT run_id, created_at FROM intent_lake_runs
    WHERE run_id NOT IN (SELECT run_id FROM new_runs)`);
  const format = "'%Y-%m-%dT%H:%M:%S.%fZ'";
  const [since, others] = (
    await c.runAndReadAll(`SELECT
      (SELECT strftime(min(created_at), ${format}) FROM intent_lake_runs),
      (SELECT strftime(min(created_at), ${format}) FROM other_runs)`)
  ).getRows()[0]! as [string | null, string | null];
  const literal = (at: string | null) => (at === null ? null : `${sqlString(at)}::TIMESTAMPTZ`);
  return { since: literal(since), others: literal(others) };
}
