import type { ArchiveSettings, StoredEvent } from "../../contract";
import type { Logger } from "../log";
import type { EventLog } from "./event-log";

export interface Segment {
  fromCursor: number;
  toCursor: number;
  key: string;
  events: number;
  bytes: number;
  sealedAt: number;
}

/** Most rows moved by one prune pass, so a large backlog never makes one huge transaction. */
const PRUNE_CHUNK = 10_000;

/** `events/<tenant>/<from>-<to>.ndjson.gz` with 12-digit cursors, so keys sort in cursor order. */
export function segmentKey(tenant: string, from: number, to: number): string {
  const pad = (n: number) => String(n).padStart(12, "0");
  return `events/${tenant}/${pad(from)}-${pad(to)}.ndjson.gz`;
}

export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gunzip(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body.pipeThrough(new DecompressionStream("gzip"))).text();
}

/**
 * The R2 archive of the event log (contract/README.md, "Log file formats"). Events are sealed
 * in cursor order into gzip NDJSON segments of StoredEvents, indexed in SQLite; once sealed and
 * older than the retention period they are pruned from SQLite, their ids kept for dedupe.
 */
export class Archive {
  private sealing: Promise<number> | null = null;
  private readonly cache = new Map<number, StoredEvent[]>();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly bucket: R2Bucket,
    private readonly tenant: string,
    private readonly log: EventLog,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  private state(): { sealedThrough: number; prunedThrough: number } {
    const row = this.sql
      .exec<{ sealed_through: number; pruned_through: number }>(
        "SELECT sealed_through, pruned_through FROM log_state WHERE id = 1",
      )
      .toArray()[0];
    return { sealedThrough: row?.sealed_through ?? 0, prunedThrough: row?.pruned_through ?? 0 };
  }

  /** Cursors at or below this are only in R2. */
  prunedThrough(): number {
    return this.state().prunedThrough;
  }

  /** Seals every segment that is full or old enough; one pass at a time. */
  seal(settings: ArchiveSettings): Promise<number> {
    this.sealing ??= this.sealAll(settings).finally(() => {
      this.sealing = null;
    });
    return this.sealing;
  }

  private async sealAll(settings: ArchiveSettings): Promise<number> {
    let sealed = 0;
    for (;;) {
      const { sealedThrough } = this.state();
      const rows = this.sql
        .exec<{ cursor: number; ingested_at: number; body: string }>(
          "SELECT cursor, ingested_at, body FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?",
          sealedThrough,
          settings.segment_max_events,
        )
        .toArray();
      const first = rows[0];
      const last = rows.at(-1);
      if (!first || !last) return sealed;
      const full = rows.length === settings.segment_max_events;
      if (!full && first.ingested_at > this.now() - settings.seal_after_ms) return sealed;
      const key = segmentKey(this.tenant, first.cursor, last.cursor);
      const data = await gzip(`${rows.map((r) => r.body).join("\n")}\n`);
      await this.bucket.put(key, data, {
        httpMetadata: { contentType: "application/gzip" },
        customMetadata: {
          tenant: this.tenant,
          from: String(first.cursor),
          to: String(last.cursor),
          events: String(rows.length),
          format: "ndjson+gzip; StoredEvent per line",
        },
      });
      this.storage.transactionSync(() => {
        this.sql.exec(
          "INSERT INTO segments (from_cursor, to_cursor, key, events, bytes, sealed_at) VALUES (?, ?, ?, ?, ?, ?)",
          first.cursor,
          last.cursor,
          key,
          rows.length,
          data.byteLength,
          this.now(),
        );
        this.sql.exec("UPDATE log_state SET sealed_through = ? WHERE id = 1", last.cursor);
      });
      this.logger.info("segment sealed", {
        key,
        events: rows.length,
        bytes: data.byteLength,
      });
      sealed += 1;
    }
  }

  /** Drops sealed events past retention from SQLite (their bodies stay in R2). */
  prune(settings: ArchiveSettings): number {
    const { sealedThrough, prunedThrough } = this.state();
    const horizon = this.now() - settings.retention_ms;
    const upTo =
      this.sql
        .exec<{ c: number | null }>(
          "SELECT MAX(cursor) AS c FROM (SELECT cursor FROM events WHERE cursor > ? AND cursor <= ? AND ingested_at <= ? ORDER BY cursor LIMIT ?)",
          prunedThrough,
          sealedThrough,
          horizon,
          PRUNE_CHUNK,
        )
        .toArray()[0]?.c ?? null;
    let pruned = 0;
    this.storage.transactionSync(() => {
      if (upTo !== null) {
        pruned = this.sql.exec(
          "INSERT INTO pruned_event_ids (event_id, cursor, pruned_at) SELECT event_id, cursor, ? FROM events WHERE cursor <= ?",
          this.now(),
          upTo,
        ).rowsWritten;
        this.sql.exec("DELETE FROM events WHERE cursor <= ?", upTo);
        this.sql.exec("UPDATE log_state SET pruned_through = ? WHERE id = 1", upTo);
      }
      // Ids past the dedupe window are forgotten; ingest refuses events that old instead.
      this.sql.exec(
        "DELETE FROM pruned_event_ids WHERE event_id < ?",
        uuidv7Floor(this.now() - settings.dedupe_window_ms),
      );
    });
    if (upTo !== null) this.log.prunedIdsChanged();
    return upTo === null ? 0 : pruned;
  }

  /** When sealing or pruning next has work (null: nothing pending). */
  nextDue(settings: ArchiveSettings): number | null {
    const { sealedThrough, prunedThrough } = this.state();
    const unsealed = this.sql
      .exec<{ n: number; oldest: number | null }>(
        "SELECT COUNT(*) AS n, MIN(ingested_at) AS oldest FROM (SELECT ingested_at FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?)",
        sealedThrough,
        settings.segment_max_events,
      )
      .toArray()[0];
    const prunable = this.sql
      .exec<{ oldest: number | null }>(
        "SELECT MIN(ingested_at) AS oldest FROM events WHERE cursor > ? AND cursor <= ?",
        prunedThrough,
        sealedThrough,
      )
      .toArray()[0];
    const due: number[] = [];
    if (unsealed && unsealed.n >= settings.segment_max_events) due.push(this.now());
    else if (unsealed?.oldest != null) due.push(unsealed.oldest + settings.seal_after_ms);
    if (prunable?.oldest != null) due.push(prunable.oldest + settings.retention_ms);
    return due.length ? Math.min(...due) : null;
  }

  /** Segments holding cursors above `after`, in order. */
  segmentsAfter(after: number, upTo: number): Segment[] {
    return this.sql
      .exec<{
        from_cursor: number;
        to_cursor: number;
        key: string;
        events: number;
        bytes: number;
        sealed_at: number;
      }>(
        "SELECT * FROM segments WHERE to_cursor > ? AND from_cursor <= ? ORDER BY from_cursor",
        after,
        upTo,
      )
      .toArray()
      .map((r) => ({
        fromCursor: r.from_cursor,
        toCursor: r.to_cursor,
        key: r.key,
        events: r.events,
        bytes: r.bytes,
        sealedAt: r.sealed_at,
      }));
  }

  /** A segment's events; the last two read are kept in memory for sequential paging. */
  async read(segment: Segment): Promise<StoredEvent[]> {
    const hit = this.cache.get(segment.fromCursor);
    if (hit) return hit;
    const object = await this.bucket.get(segment.key);
    if (!object)
      throw new Error(
        `archive segment ${segment.key} is missing from R2 (cursor ${segment.fromCursor}-${segment.toCursor})`,
      );
    const text = await gunzip(object.body);
    const events = text
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as StoredEvent);
    this.cache.set(segment.fromCursor, events);
    while (this.cache.size > 2) this.cache.delete(this.cache.keys().next().value!);
    return events;
  }
}

/** The smallest UUIDv7 of a millisecond: every id minted before `ms` sorts below it. */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
