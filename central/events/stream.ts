import type { Logger } from "../log";
import { type EventFilter, matches, type StoredRecord } from "./event-log";
import type { EventReader } from "./reader";

/** A stream that falls this far behind is closed; the client resumes with Last-Event-ID. */
const MAX_PENDING_WRITES = 10_000;
const KEEPALIVE_MS = 15_000;
const REPLAY_PAGE = 1_000;

interface Subscriber {
  filter: EventFilter;
  lastSent: number;
  live: boolean;
  backlog: StoredRecord[];
  pending: number;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  closed: boolean;
}

const encoder = new TextEncoder();

/**
 * Live Server-Sent Events over the log: each subscriber first replays from its cursor (R2 and
 * SQLite alike), then receives new events as they are appended. Events appended during the
 * replay wait in a backlog, so nothing is skipped or sent twice.
 */
export class EventStreams {
  private readonly subscribers = new Set<Subscriber>();
  private keepalive: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly reader: EventReader,
    private readonly logger: Logger,
  ) {}

  open(after: number, filter: EventFilter): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const subscriber: Subscriber = {
      filter,
      lastSent: after,
      live: false,
      backlog: [],
      pending: 0,
      writer: writable.getWriter(),
      closed: false,
    };
    this.subscribers.add(subscriber);
    this.keepalive ??= setInterval(() => {
      for (const s of this.subscribers) this.write(s, ": keepalive\n\n");
    }, KEEPALIVE_MS);
    void this.replay(subscriber);
    return new Response(readable, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  }

  publish(records: readonly StoredRecord[]): void {
    for (const subscriber of this.subscribers) {
      for (const record of records) {
        if (!matches(subscriber.filter, record.event)) continue;
        if (subscriber.live) this.send(subscriber, record.cursor, record.body);
        else subscriber.backlog.push(record);
      }
    }
  }

  private async replay(subscriber: Subscriber): Promise<void> {
    this.write(subscriber, "retry: 1000\n\n");
    try {
      for (;;) {
        const page = await this.reader.page(subscriber.lastSent, REPLAY_PAGE, subscriber.filter);
        for (const item of page.items) this.send(subscriber, item.cursor, item.body);
        subscriber.lastSent = Math.max(subscriber.lastSent, page.next_cursor);
        if (!page.has_more || subscriber.closed) break;
      }
    } catch (error) {
      this.logger.error("event stream replay failed", { error });
      this.write(
        subscriber,
        `event: error\ndata: ${JSON.stringify({ message: "replay failed" })}\n\n`,
      );
      this.drop(subscriber);
      return;
    }
    subscriber.live = true;
    for (const record of subscriber.backlog) this.send(subscriber, record.cursor, record.body);
    subscriber.backlog = [];
  }

  private send(subscriber: Subscriber, cursor: number, body: string): void {
    if (cursor <= subscriber.lastSent) return;
    subscriber.lastSent = Math.max(subscriber.lastSent, cursor);
    this.write(subscriber, `id: ${cursor}\nevent: event\ndata: ${body}\n\n`);
  }

  private write(subscriber: Subscriber, text: string): void {
    if (subscriber.closed) return;
    if (subscriber.pending > MAX_PENDING_WRITES) {
      this.drop(subscriber);
      return;
    }
    subscriber.pending += 1;
    subscriber.writer.write(encoder.encode(text)).then(
      () => {
        subscriber.pending -= 1;
      },
      () => this.drop(subscriber),
    );
  }

  private drop(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.subscribers.delete(subscriber);
    subscriber.writer.close().catch(() => {});
    if (this.subscribers.size === 0 && this.keepalive !== null) {
      clearInterval(this.keepalive);
      this.keepalive = null;
    }
  }
}
