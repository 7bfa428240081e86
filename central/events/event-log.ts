import { type AgentEvent, CENTRAL_AGENT_ID, type EventKind } from "../../contract";

/** An event as appended: its cursor and its StoredEvent JSON, which is what readers are sent. */
export interface StoredRecord {
  cursor: number;
  event: AgentEvent;
  body: string;
}

export interface EventFilter {
  run?: string | undefined;
  agent?: string | undefined;
  kind?: EventKind[] | undefined;
}

export function matches(
  filter: EventFilter,
  e: Pick<AgentEvent, "run_id" | "agent_id" | "kind">,
): boolean {
  return (
    (filter.run === undefined || e.run_id === filter.run) &&
    (filter.agent === undefined || e.agent_id === filter.agent) &&
    (filter.kind === undefined || filter.kind.includes(e.kind))
  );
}

/**
 * The live part of the tenant's event log, in SQLite. Appends dedupe by event_id (also against
 * ids already pruned to the R2 archive) and take the next tenant-wide cursor; each run's first
 * cursor is kept, for reads of one run. This is the ingest hot path, so it uses the Durable
 * Object's SQL API directly rather than drizzle: one prepared-and-cached INSERT per event (and
 * one per run) inside one synchronous transaction.
 */
export class EventLog {
  private nextCursor: number | null = null;
  private prunedMaxId: string | null | undefined;
  private readonly listeners: ((records: StoredRecord[]) => void)[] = [];

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number,
  ) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** Called after each committed append with what was newly stored. */
  onAppend(listener: (records: StoredRecord[]) => void): void {
    this.listeners.push(listener);
  }

  append(events: readonly AgentEvent[]): { stored: StoredRecord[]; duplicates: AgentEvent[] } {
    const stored: StoredRecord[] = [];
    const duplicates: AgentEvent[] = [];
    if (events.length === 0) return { stored, duplicates };
    const now = this.now();
    this.storage.transactionSync(() => {
      let cursor = this.peekCursor();
      const runsSeen = new Set<string>();
      for (const event of events) {
        if (this.wasPruned(event.event_id)) {
          duplicates.push(event);
          continue;
        }
        const body = JSON.stringify({ ...event, cursor });
        const written = this.sql.exec(
          "INSERT INTO events (cursor, event_id, run_id, agent_id, kind, ingested_at, body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event_id) DO NOTHING",
          cursor,
          event.event_id,
          event.run_id,
          event.agent_id,
          event.kind,
          now,
          body,
        ).rowsWritten;
        if (written === 0) {
          duplicates.push(event);
          continue;
        }
        if (event.run_id !== null && !runsSeen.has(event.run_id)) {
          runsSeen.add(event.run_id);
          this.sql.exec(
            "INSERT INTO run_cursors (run_id, first_cursor) VALUES (?, ?) ON CONFLICT(run_id) DO NOTHING",
            event.run_id,
            cursor,
          );
        }
        stored.push({ cursor, event, body });
        cursor += 1;
      }
      if (stored.length) this.sql.exec("UPDATE log_state SET next_cursor = ? WHERE id = 1", cursor);
      this.nextCursor = cursor;
    });
    if (stored.length) for (const listener of this.listeners) listener(stored);
    return { stored, duplicates };
  }

  /** The cursor the next stored event will get (the last assigned is one less). */
  peekCursor(): number {
    if (this.nextCursor === null) {
      const row = this.sql
        .exec<{ next_cursor: number }>("SELECT next_cursor FROM log_state WHERE id = 1")
        .toArray()[0];
      this.nextCursor = row?.next_cursor ?? 1;
    }
    return this.nextCursor;
  }

  /**
   * A cursor below every event of the run: the one before its first event, or before the next
   * cursor while it has none (so none can come below it).
   */
  beforeRun(runId: string): number {
    const row = this.sql
      .exec<{ first_cursor: number }>(
        "SELECT first_cursor FROM run_cursors WHERE run_id = ?",
        runId,
      )
      .toArray()[0];
    return (row?.first_cursor ?? this.peekCursor()) - 1;
  }

  /**
   * Live events above `after` matching `filter`, in cursor order (one more than `limit` tells
   * has_more), or from the newest back.
   */
  read(
    after: number,
    limit: number,
    filter: EventFilter,
    order: "oldest" | "newest" = "oldest",
  ): { cursor: number; body: string }[] {
    const where = ["cursor > ?"];
    const args: (string | number)[] = [after];
    if (filter.run !== undefined) {
      where.push("run_id = ?");
      args.push(filter.run);
    }
    if (filter.agent !== undefined) {
      where.push("agent_id = ?");
      args.push(filter.agent);
    }
    if (filter.kind !== undefined) {
      where.push(`kind IN (${filter.kind.map(() => "?").join(", ")})`);
      args.push(...filter.kind);
    }
    args.push(limit);
    return this.sql
      .exec<{ cursor: number; body: string }>(
        `SELECT cursor, body FROM events WHERE ${where.join(" AND ")} ORDER BY cursor ${order === "oldest" ? "ASC" : "DESC"} LIMIT ?`,
        ...args,
      )
      .toArray();
  }

  /**
   * The agent whose session holds entry `entryId` of the run: the one whose event named it (a run
   * retried on another agent has entries on each host); false when none of the run's live events
   * names it; null when none of the run's events are live any more (pruned to R2), so nobody can
   * tell.
   */
  entryAgent(runId: string, entryId: string): string | false | null {
    const row = this.sql
      .exec<{ n: number; agent: string | null }>(
        `SELECT count(*) AS n, (SELECT agent_id FROM events WHERE run_id = ? AND agent_id != ?
           AND instr(body, ?) > 0 ORDER BY cursor DESC LIMIT 1) AS agent
         FROM events WHERE run_id = ?`,
        runId,
        CENTRAL_AGENT_ID,
        `"entry_id":${JSON.stringify(entryId)}`,
        runId,
      )
      .toArray()[0];
    if (!row || row.n === 0) return null;
    return row.agent ?? false;
  }

  /** Forget the cached prune watermark after the archive pruned more ids. */
  prunedIdsChanged(): void {
    this.prunedMaxId = undefined;
  }

  /**
   * Ids are UUIDv7, so they sort by time: an id above every pruned one cannot be among them,
   * which keeps the extra lookup off the path of fresh events.
   */
  private wasPruned(eventId: string): boolean {
    if (this.prunedMaxId === undefined)
      this.prunedMaxId =
        this.sql
          .exec<{ id: string | null }>("SELECT MAX(event_id) AS id FROM pruned_event_ids")
          .toArray()[0]?.id ?? null;
    if (this.prunedMaxId === null || eventId > this.prunedMaxId) return false;
    return (
      this.sql.exec("SELECT 1 FROM pruned_event_ids WHERE event_id = ?", eventId).toArray().length >
      0
    );
  }
}
