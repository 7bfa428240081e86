import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "../lake/location";
import { derivedId } from "./derived-id";
import { foldRun, LIFECYCLE_KINDS, type LifecycleEvent, type LifecycleKind } from "./lifecycle";

const KINDS = LIFECYCLE_KINDS.map((k) => `'${k}'`).join(", ");

/**
 * Replays every touched run (in `run_events`) that has lifecycle events through the run machine
 * and writes the outcome to the temporary table `lifecycle`, one row per run, for the SQL that
 * derives the tables. A run without any (its start is in a later batch) is what `foldRun([])`
 * returns: `lifecycleDefaults()` gives the SQL for it.
 */
export async function foldTouchedRuns(connection: DuckDBConnection): Promise<void> {
  const read = await connection.runAndReadAll(`
    SELECT run_id::VARCHAR, event_id::VARCHAR, kind, epoch_ms(ts)::DOUBLE,
      coalesce(attempt, TRY_CAST(payload->>'attempt' AS INTEGER)),
      (payload->>'next'), (payload->'error'->>'category'), (payload->'error'->>'reason'),
      (payload->'error'->>'message'), (payload->>'reason')
    FROM run_events
    WHERE kind IN (${KINDS})`);
  const columns = read.getColumns();
  const [runIds, eventIds, kinds, ts, attempts, next, category, reason, message, cancel] = (
    columns.length ? columns : Array.from({ length: 10 }, () => [])
  ) as [
    string[],
    string[],
    LifecycleKind[],
    number[],
    (number | null)[],
    (string | null)[],
    (string | null)[],
    (string | null)[],
    (string | null)[],
    (string | null)[],
  ];
  const byRun = new Map<string, LifecycleEvent[]>();
  for (let i = 0; i < runIds.length; i++) {
    let events = byRun.get(runIds[i]!);
    if (!events) {
      events = [];
      byRun.set(runIds[i]!, events);
    }
    events.push({
      event_id: eventIds[i]!,
      kind: kinds[i]!,
      ts: ts[i]!,
      attempt: attempts[i] ?? null,
      next: next[i] === "retry" ? "retry" : next[i] === "fail" ? "fail" : null,
      error_category: category[i] ?? null,
      error_reason: reason[i] ?? null,
      error_message: message[i] ?? null,
      cancel_reason: cancel[i] ?? null,
    });
  }

  await connection.run(`CREATE OR REPLACE TEMP TABLE lifecycle_rows (
    run_id VARCHAR, status VARCHAR, intent_status VARCHAR, attempts INTEGER,
    settled_event_id VARCHAR, settled_projection_id VARCHAR,
    error_category VARCHAR, error_reason VARCHAR, error_message VARCHAR, anomalies VARCHAR)`);
  const appender = await connection.createAppender("lifecycle_rows", null, "temp");
  try {
    for (const [runId, events] of byRun) {
      const run = foldRun(events);
      const nullable = (v: string | null) =>
        v === null ? appender.appendNull() : appender.appendVarchar(v);
      appender.appendVarchar(runId);
      appender.appendVarchar(run.status);
      appender.appendVarchar(run.intent_status);
      appender.appendInteger(run.attempts);
      nullable(run.settled_event_id);
      nullable(run.settled_event_id && derivedId(run.settled_event_id, "memory.runs"));
      nullable(run.error?.category ?? null);
      nullable(run.error?.reason ?? null);
      nullable(run.error?.message ?? null);
      appender.appendVarchar(JSON.stringify(run.anomalies));
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
  await connection.run(`CREATE OR REPLACE TEMP TABLE lifecycle AS
    SELECT run_id::UUID AS run_id, status, intent_status, attempts,
      settled_event_id::UUID AS settled_event_id, settled_projection_id::UUID AS settled_projection_id,
      error_category, error_reason, error_message,
      from_json(anomalies, '["VARCHAR"]') AS anomalies
    FROM lifecycle_rows`);
}

/** SQL values of the lifecycle of a run without lifecycle events, by column of `lifecycle`. */
export function lifecycleDefaults(): Record<"status" | "intent_status" | "attempts", string> {
  const run = foldRun([]);
  return {
    status: sqlString(run.status),
    intent_status: sqlString(run.intent_status),
    attempts: String(run.attempts),
  };
}
