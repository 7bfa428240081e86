import type { Archive } from "./archive";
import { type EventFilter, type EventLog, matches } from "./event-log";

/** Most R2 segments scanned for one page, so a narrow filter over a long archive stays bounded. */
const MAX_SEGMENTS_PER_PAGE = 8;

export interface Page {
  items: { cursor: number; body: string }[];
  next_cursor: number;
  has_more: boolean;
}

/** Pages through the whole log in cursor order: R2 segments below the prune line, then SQLite. */
export class EventReader {
  constructor(
    private readonly log: EventLog,
    private readonly archive: Archive,
  ) {}

  async page(after: number, limit: number, filter: EventFilter): Promise<Page> {
    after = this.start(after, filter);
    const items: Page["items"] = [];
    let scanned = after;
    let segmentsRead = 0;
    // Reading a segment from R2 lets other requests in, and the archive may move its prune line
    // meanwhile (deleting from SQLite what it archived): the prune line is read again after
    // the segments, and SQLite only when nothing is left below it, in the same turn.
    for (
      let prunedThrough = this.archive.prunedThrough();
      scanned < prunedThrough;
      prunedThrough = this.archive.prunedThrough()
    ) {
      for (const segment of this.archive.segmentsAfter(scanned, prunedThrough)) {
        for (const event of await this.archive.read(segment)) {
          if (event.cursor <= scanned || event.cursor > prunedThrough || !matches(filter, event))
            continue;
          if (items.length === limit)
            return { items, next_cursor: items.at(-1)!.cursor, has_more: true };
          items.push({ cursor: event.cursor, body: JSON.stringify(event) });
        }
        scanned = Math.min(segment.toCursor, prunedThrough);
        segmentsRead += 1;
        if (segmentsRead >= MAX_SEGMENTS_PER_PAGE && scanned < prunedThrough)
          return { items, next_cursor: items.at(-1)?.cursor ?? scanned, has_more: true };
      }
      scanned = Math.max(scanned, prunedThrough);
    }
    const room = limit - items.length;
    if (room === 0) return { items, next_cursor: items.at(-1)!.cursor, has_more: true };
    const rows = this.log.read(scanned, room + 1, filter);
    items.push(...rows.slice(0, room));
    return {
      items,
      next_cursor: items.at(-1)?.cursor ?? after,
      has_more: rows.length > room,
    };
  }

  /**
   * The newest `limit` events above `after` matching `filter`, in cursor order: SQLite from the
   * newest back, then R2 segments from the newest back, at most MAX_SEGMENTS_PER_PAGE of them.
   * Nothing newer is left, so has_more is false.
   */
  async tail(after: number, limit: number, filter: EventFilter): Promise<Page> {
    after = this.start(after, filter);
    // SQLite is read before the first await: what the archive prunes meanwhile is in this read
    // already, and R2 below this prune line does not change.
    const prunedThrough = this.archive.prunedThrough();
    const newest = this.log.read(after, limit, filter, "newest");
    const segments =
      after < prunedThrough
        ? this.archive.segmentsAfter(after, prunedThrough).slice(-MAX_SEGMENTS_PER_PAGE).reverse()
        : [];
    for (const segment of segments) {
      if (newest.length === limit) break;
      const events = await this.archive.read(segment);
      for (let i = events.length - 1; i >= 0 && newest.length < limit; i -= 1) {
        const event = events[i]!;
        if (event.cursor > after && event.cursor <= prunedThrough && matches(filter, event))
          newest.push({ cursor: event.cursor, body: JSON.stringify(event) });
      }
    }
    const items = newest.reverse();
    return { items, next_cursor: items.at(-1)?.cursor ?? after, has_more: false };
  }

  /** A run's reads skip the log before its first event, however much of it is in R2. */
  private start(after: number, filter: EventFilter): number {
    return filter.run === undefined ? after : Math.max(after, this.log.beforeRun(filter.run));
  }
}

/** An EventsPage as JSON, built from the stored bodies without re-encoding them. */
export function pageJson(page: Page): string {
  return `{"events":[${page.items.map((i) => i.body).join(",")}],"next_cursor":${page.next_cursor},"has_more":${page.has_more}}`;
}
