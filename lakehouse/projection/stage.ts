import type { DuckDBAppender, DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { QuarantinedRecord, ValidEvent } from "./validate";

/**
 * The database DuckDB opens for the lake's process (see openDuckDB): native, in memory, shared by
 * the instance's connections.
 */
const SHARED = "auraison";

const EVENT_JSON =
  '{"event_id":"UUID","tenant":"VARCHAR","run_id":"UUID","agent_id":"VARCHAR","source":"VARCHAR","seq":"BIGINT","attempt":"INTEGER","kind":"VARCHAR","ts":"TIMESTAMPTZ","payload":"JSON","cursor":"BIGINT"}';

/**
 * Where a batch waits before its lake transaction. Validated events go through DuckDB's appender
 * (which cannot write DuckLake tables) as their JSON text, a slice at a time; DuckDB splits each
 * slice into typed columns (one parse, on its own threads) while JavaScript validates the next
 * slice, and the lake transaction moves the batch into the lake with one INSERT ... SELECT per
 * table: large batches, never row by row.
 *
 * Two slots, each with its own tables in DuckDB's in-memory database (shared by the instance's
 * connections, unlike TEMP tables), written through a connection of its own: the next batch is
 * staged into one slot while the lake transaction reads the other. A caller that holds one lake
 * transaction open for many batches (a rebuild) stages through that connection instead, into
 * TEMP tables: a transaction sees no rows another connection commits after it began, and writes
 * to no second database.
 */
export class Stage {
  /** The conversion of the last slice appended, still running. */
  private converting: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly db: string,
    private readonly owned: boolean,
  ) {}

  /** A stage with a connection of its own, or on `shared` (its TEMP tables). */
  static async open(instance: DuckDBInstance, shared?: DuckDBConnection): Promise<Stage> {
    const connection = shared ?? (await instance.connect());
    const db = shared ? "temp" : SHARED;
    const create = shared ? "CREATE OR REPLACE TEMP TABLE" : "CREATE OR REPLACE TABLE";
    await connection.run(`${create} ${db}.main.stage_lines (ord INTEGER, event VARCHAR)`);
    for (const slot of [0, 1]) {
      await connection.run(`${create} ${db}.main.stage_events_${slot} (
        ord INTEGER, cursor BIGINT, event_id UUID, tenant VARCHAR, run_id UUID, agent_id VARCHAR,
        source VARCHAR, seq BIGINT, attempt INTEGER, kind VARCHAR, ts TIMESTAMPTZ, payload JSON)`);
      await connection.run(`${create} ${db}.main.stage_quarantine_${slot} (
        position VARCHAR, event_id VARCHAR, kind VARCHAR, reason VARCHAR, issues VARCHAR,
        raw VARCHAR)`);
    }
    return new Stage(connection, db, !shared);
  }

  close(): void {
    if (this.owned) this.connection.closeSync();
  }

  /** Where a slot's staged events are, typed as the lake's `events` columns. */
  events(slot: number): string {
    return `${this.db}.main.stage_events_${slot}`;
  }

  quarantine(slot: number): string {
    return `${this.db}.main.stage_quarantine_${slot}`;
  }

  async clear(slot: number): Promise<void> {
    await this.converting;
    await this.connection.run(`TRUNCATE ${this.events(slot)}`);
    await this.connection.run(`TRUNCATE ${this.quarantine(slot)}`);
  }

  /**
   * Appends a slice of events (`ord` numbers them in log order from `first`) and starts typing
   * them; `flush` waits until they are.
   */
  async appendEvents(slot: number, events: readonly ValidEvent[], first: number): Promise<void> {
    await this.converting;
    if (events.length === 0) return;
    const a = await this.connection.createAppender("stage_lines", "main", this.db);
    try {
      events.forEach(({ line }, i) => {
        a.appendInteger(first + i);
        a.appendVarchar(line);
        a.endRow();
      });
    } finally {
      a.closeSync();
    }
    const c = this.connection;
    this.converting = c
      .run(
        `INSERT INTO ${this.events(slot)}
         SELECT ord, e.cursor, e.event_id, e.tenant, e.run_id, e.agent_id, e.source, e.seq,
           e.attempt, e.kind, e.ts, e.payload
         FROM (SELECT ord, from_json(event, '${EVENT_JSON}') AS e FROM ${this.db}.main.stage_lines)`,
      )
      .finally(() => c.run(`TRUNCATE ${this.db}.main.stage_lines`));
    // Observed here; `flush` (or the next append) reports a failure.
    this.converting.catch(() => undefined);
  }

  /** Waits until every slice appended is typed. */
  async flush(): Promise<void> {
    await this.converting;
  }

  async appendQuarantine(slot: number, records: readonly QuarantinedRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One statement at a time on the connection: the slice being typed goes first.
    await this.converting;
    const a = await this.connection.createAppender(`stage_quarantine_${slot}`, "main", this.db);
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

function text(appender: DuckDBAppender, value: string | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}
