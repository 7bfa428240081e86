import type { DuckDBAppender, DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { QuarantinedRecord, ValidEvent } from "./validate";

/** The database DuckDB opens for the lake's process (see openDuckDB): native, in memory. */
const DB = "auraison";

/**
 * Where a batch waits before its lake transaction. Validated events go through DuckDB's appender
 * (which cannot write DuckLake tables) into native tables, one column per envelope field and the
 * payload as JSON text, and from there into the lake with one INSERT ... SELECT per table: large
 * batches, never row by row.
 *
 * Two slots, each with its own tables in DuckDB's in-memory database (shared by the instance's
 * connections, unlike TEMP tables), appended through a connection of its own: the next batch is
 * staged into one slot while the lake transaction reads the other.
 */
export class Stage {
  private constructor(private readonly connection: DuckDBConnection) {}

  static async open(instance: DuckDBInstance): Promise<Stage> {
    const connection = await instance.connect();
    for (const slot of [0, 1]) {
      await connection.run(`CREATE OR REPLACE TABLE ${DB}.main.stage_events_${slot} (
        ord INTEGER, cursor DOUBLE, event_id VARCHAR, tenant VARCHAR, run_id VARCHAR,
        agent_id VARCHAR, source VARCHAR, seq DOUBLE, attempt INTEGER, kind VARCHAR, ts VARCHAR,
        payload VARCHAR)`);
      await connection.run(`CREATE OR REPLACE TABLE ${DB}.main.stage_quarantine_${slot} (
        position VARCHAR, event_id VARCHAR, kind VARCHAR, reason VARCHAR, issues VARCHAR,
        raw VARCHAR)`);
    }
    return new Stage(connection);
  }

  close(): void {
    this.connection.closeSync();
  }

  async clear(slot: number): Promise<void> {
    await this.connection.run(`TRUNCATE ${DB}.main.stage_events_${slot}`);
    await this.connection.run(`TRUNCATE ${DB}.main.stage_quarantine_${slot}`);
  }

  /** Appends events; `ord` numbers them in log order from `first`. */
  async appendEvents(slot: number, events: readonly ValidEvent[], first: number): Promise<void> {
    if (events.length === 0) return;
    const a = await this.connection.createAppender(`stage_events_${slot}`, "main", DB);
    try {
      events.forEach(({ event, cursor }, i) => {
        a.appendInteger(first + i);
        // Cursors and seq are safe integers (the contract says so), exact as doubles.
        if (cursor === null) a.appendNull();
        else a.appendDouble(cursor);
        a.appendVarchar(event.event_id);
        a.appendVarchar(event.tenant);
        text(a, event.run_id);
        a.appendVarchar(event.agent_id);
        a.appendVarchar(event.source);
        a.appendDouble(event.seq);
        if (event.attempt === null) a.appendNull();
        else a.appendInteger(event.attempt);
        a.appendVarchar(event.kind);
        a.appendVarchar(event.ts);
        a.appendVarchar(JSON.stringify(event.payload));
        a.endRow();
      });
    } finally {
      a.closeSync();
    }
  }

  async appendQuarantine(slot: number, records: readonly QuarantinedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const a = await this.connection.createAppender(`stage_quarantine_${slot}`, "main", DB);
    try {
      for (const q of records) {
        a.appendVarchar(q.position);
        text(a, q.event_id);
        text(a, q.kind);
        a.appendVarchar(q.reason);
        a.appendVarchar(JSON.stringify(q.issues));
        a.appendVarchar(q.raw);
        a.endRow();
      }
    } finally {
      a.closeSync();
    }
  }
}

/** A slot's staged events, typed as the lake's `events` columns. */
export function stagedEvents(slot: number): string {
  return `
  SELECT ord, cursor::BIGINT AS cursor, event_id::UUID AS event_id, tenant, run_id::UUID AS run_id,
    agent_id, source, seq::BIGINT AS seq, attempt, kind, ts::TIMESTAMPTZ AS ts, payload::JSON AS payload
  FROM ${DB}.main.stage_events_${slot}`;
}

export function stagedQuarantine(slot: number): string {
  return `${DB}.main.stage_quarantine_${slot}`;
}

function text(appender: DuckDBAppender, value: string | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}
