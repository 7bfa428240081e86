import type { DuckDBConnection } from "@duckdb/node-api";
import {
  deleteTouched,
  INSERT_INTENTS,
  INSERT_MODEL_CALLS,
  INSERT_POLICY_DECISIONS,
  INSERT_PROJECTIONS,
  INSERT_RUNS,
  INSERT_TOOL_CALLS,
  NEW_RUNS,
  PAYLOADS,
  RUN_FACTS,
} from "./derive";
import { foldTouchedRuns } from "./fold-runs";
import { type Steps, timed } from "./steps";

/**
 * Derives every row of the runs in `run_events` (and of the run-less events in `batch`). With
 * `replace` (a SQL timestamp literal: the earliest `created_at` of the runs listed in
 * `existing`), the rows those runs already have in the lake are replaced. Returns the number of
 * runs derived. `meanwhile`, a statement of the caller's that none of this reads, runs while the
 * runs are replayed in JavaScript.
 */
export async function deriveTouched(
  c: DuckDBConnection,
  replace: string | null,
  steps: Steps = {},
  meanwhile?: () => Promise<unknown>,
): Promise<number> {
  await timed(steps, "run facts", () => c.run(RUN_FACTS));
  // Views: the statements below parse what they read of the payloads (see PAYLOADS).
  for (const statement of PAYLOADS) await c.run(statement);
  await foldTouchedRuns(c, steps, meanwhile);
  await timed(steps, "runs", () => c.run(NEW_RUNS));
  const runs = Number((await c.runAndReadAll("SELECT count(*) FROM new_runs")).getRows()[0]![0]);
  if (replace !== null)
    await timed(steps, "delete replaced rows", async () => {
      await c.run(`CREATE OR REPLACE TEMP TABLE touched_intents AS
        SELECT intent_id FROM memory.runs WHERE run_id IN (SELECT run_id FROM existing) AND intent_id IS NOT NULL
        UNION SELECT intent_id FROM new_runs WHERE intent_id IS NOT NULL`);
      for (const statement of deleteTouched(replace)) await c.run(statement);
    });
  for (const [table, statement] of [
    ["runs", INSERT_RUNS],
    ["intents", INSERT_INTENTS],
    ["tool_calls", INSERT_TOOL_CALLS],
    ["model_calls", INSERT_MODEL_CALLS],
    ["policy_decisions", INSERT_POLICY_DECISIONS],
    ["projections", INSERT_PROJECTIONS],
  ] as const)
    await timed(steps, table, () => c.run(statement));
  return runs;
}
