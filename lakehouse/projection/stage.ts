import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import type { QuarantinedRecord, ValidEvent } from "./validate";

/**
 * Validated events go into a native temporary table through DuckDB's appender (which cannot
 * write into DuckLake tables), and from there into the lake with one INSERT ... SELECT per
 * table: large batches, never row by row. Each event is staged as its normalised JSON (what the
 * contract's schema returned, defaults filled in), which DuckDB splits into columns in one
 * parse: three appender calls per event instead of one per column.
 */
export async function createStage(connection: DuckDBConnection): Promise<void> {
  await connection.run(
    "CREATE OR REPLACE TEMP TABLE stage_events (ord INTEGER, cursor BIGINT, event VARCHAR)",
  );
  await connection.run(`CREATE OR REPLACE TEMP TABLE stage_quarantine (
    position VARCHAR, event_id VARCHAR, kind VARCHAR, reason VARCHAR, issues VARCHAR, raw VARCHAR)`);
}

/** The staged events' typed columns, one JSON parse per event. */
export const STAGED_EVENTS = `
  SELECT ord, cursor, e.event_id::UUID AS event_id, e.tenant, e.run_id::UUID AS run_id,
    e.agent_id, e.source, e.seq, e.attempt, e.kind, e.ts::TIMESTAMPTZ AS ts, e.payload
  FROM (
    SELECT ord, cursor, from_json(event, '{"event_id":"VARCHAR","tenant":"VARCHAR","run_id":"VARCHAR","agent_id":"VARCHAR","source":"VARCHAR","seq":"BIGINT","attempt":"INTEGER","kind":"VARCHAR","ts":"VARCHAR","payload":"JSON"}') AS e
    FROM stage_events
  )`;

/** Stages the events; returns the lowest and highest event_id (null for none). */
export async function stageEvents(
  connection: DuckDBConnection,
  events: readonly ValidEvent[],
): Promise<{ low: string | null; high: string | null }> {
  await connection.run("TRUNCATE stage_events");
  let low: string | null = null;
  let high: string | null = null;
  const appender = await connection.createAppender("stage_events", null, "temp");
  try {
    events.forEach(({ event, cursor }, ord) => {
      // Lowercase hex sorts like the UUID values DuckDB compares.
      const id = event.event_id.toLowerCase();
      if (low === null || id < low) low = id;
      if (high === null || id > high) high = id;
      appender.appendInteger(ord);
      if (cursor === null) appender.appendNull();
      else appender.appendBigInt(BigInt(cursor));
      appender.appendVarchar(JSON.stringify(event));
      appender.endRow();
    });
  } finally {
    appender.closeSync();
  }
  return { low, high };
}

export async function stageQuarantine(
  connection: DuckDBConnection,
  records: readonly QuarantinedRecord[],
): Promise<void> {
  await connection.run("TRUNCATE stage_quarantine");
  if (records.length === 0) return;
  const appender = await connection.createAppender("stage_quarantine", null, "temp");
  try {
    for (const q of records) {
      appender.appendVarchar(q.position);
      text(appender, q.event_id);
      text(appender, q.kind);
      appender.appendVarchar(q.reason);
      appender.appendVarchar(JSON.stringify(q.issues));
      appender.appendVarchar(q.raw);
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
}

function text(appender: DuckDBAppender, value: string | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}
