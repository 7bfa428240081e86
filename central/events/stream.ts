import type { Principal } from "../auth/principal";
import type { Logger } from "../log";
import { type EventFilter, matches, type StoredRecord } from "./event-log";
import type { EventReader } from "./reader";

/**
 * A live stream this far behind (bytes written, not yet taken by the client) is closed; the
 * client resumes with Last-Event-ID, from the log. Replay never gets there: it waits for the
 * client to take a page before reading the next.
 */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/**
 * Events published while a stream replays wait in its backlog up to this many bytes; past that
 * the backlog is dropped and the replay reads on from the log, which holds them all.
 */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;
const REPLAY_PAGE = 1_000;

interface Subscriber {
  /** The key that opened the stream, directly or through one of its sessions. */
  keyId: string;
  /** When the credential that opened it runs out (a session's expiry); null: only revocation ends it. */
  until: number | null;
  /** The session token that opened it, if a session did: signing out ends it. */
  session: string | null;
  filter: EventFilter;
  lastSent: number;
  live: boolean;
  backlog: StoredRecord[];
  backlogBytes: number;
  /** The backlog overflowed: the replay must read the log again before going live. */
  rescan: boolean;
  pendingBytes: number;
  /** Settles once the client has taken everything written so far (or the stream failed). */
  taken: Promise<unknown>;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  closed: boolean;
}

const encoder = new TextEncoder();

/**
 * Live Server-Sent Events over the log: each subscriber first replays from its cursor (R2 and
 * SQLite alike), then receives new events as they are appended. Events appended during the
 * replay wait in a backlog, so nothing is skipped or sent twice.
 *
 * A stream is a read authorised once, when it opens, so it lasts no longer than the credential
 * that opened it: revoking the key (`endKey`), signing out of its session (`endSession`) or the
 * session running out (`expire`, on the
 * tenant timer) closes it cleanly, and nothing is written to it past that expiry even before
 * the timer fires.
 */
export class EventStreams {
  private readonly subscribers = new Set<Subscriber>();
  private keepalive: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly reader: EventReader,
    private readonly logger: Logger,
    private readonly now: () => number,
    /** Asks the tenant timer to wake at `nextDue()` again. */
    private readonly rearm: () => void,
  ) {}

  open(after: number, filter: EventFilter, principal: Principal): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const subscriber: Subscriber = {
      keyId: principal.id,
      until: principal.session?.expiresAt ?? null,
      session: principal.session ? principal.secret : null,
      filter,
      lastSent: after,
      live: false,
      backlog: [],
      backlogBytes: 0,
      rescan: false,
      pendingBytes: 0,
      taken: Promise.resolve(),
      writer: writable.getWriter(),
      closed: false,
    };
    this.subscribers.add(subscriber);
    this.keepalive ??= setInterval(() => {
      for (const s of this.subscribers) this.write(s, ": keepalive\n\n");
    }, KEEPALIVE_MS);
    if (subscriber.until !== null) this.rearm();
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
        else if (!subscriber.rescan) {
          subscriber.backlog.push(record);
          subscriber.backlogBytes += record.body.length;
          if (subscriber.backlogBytes > MAX_BACKLOG_BYTES) {
            subscriber.backlog = [];
            subscriber.backlogBytes = 0;
            subscriber.rescan = true;
          }
        }
      }
    }
  }

  /** Ends every stream opened with this key or one of its sessions: the key was revoked. */
  endKey(keyId: string): void {
    for (const subscriber of this.subscribers)
      if (subscriber.keyId === keyId) this.drop(subscriber);
  }

  /** Ends every stream opened with this session token: it signed out. */
  endSession(token: string): void {
    for (const subscriber of this.subscribers)
      if (subscriber.session === token) this.drop(subscriber);
  }

  /** Ends the streams whose credential has run out. */
  expire(): void {
    for (const subscriber of this.subscribers) this.expired(subscriber);
  }

  /** When the next stream's credential runs out; null when none will. */
  nextDue(): number | null {
    let due: number | null = null;
    for (const { until } of this.subscribers)
      if (until !== null && (due === null || until < due)) due = until;
    return due;
  }

  private async replay(subscriber: Subscriber): Promise<void> {
    // The opening says where the stream starts (`id:`, even with no event yet), so a client
    // that asked for only what happens from now on resumes there, not at a later "now".
    this.write(subscriber, `retry: 1000\nid: ${subscriber.lastSent}\n\n`);
    try {
      let pageBefore: Promise<unknown> = Promise.resolve();
      for (;;) {
        const page = await this.reader.page(subscriber.lastSent, REPLAY_PAGE, subscriber.filter);
        for (const item of page.items) this.send(subscriber, item.cursor, item.body);
        subscriber.lastSent = Math.max(subscriber.lastSent, page.next_cursor);
        if (subscriber.closed) return;
        if (page.has_more) {
          // Backpressure: a page is read once the client has taken the one before the last,
          // so a replay holds at most two pages however slowly the client reads. (workerd's
          // writer.ready does not wait for the client: a write's promise does.)
          await pageBefore;
          pageBefore = subscriber.taken;
          if (subscriber.closed) return;
        } else if (subscriber.rescan) subscriber.rescan = false;
        else break;
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
    subscriber.backlogBytes = 0;
  }

  private send(subscriber: Subscriber, cursor: number, body: string): void {
    if (cursor <= subscriber.lastSent) return;
    subscriber.lastSent = Math.max(subscriber.lastSent, cursor);
    this.write(subscriber, `id: ${cursor}\nevent: event\ndata: ${body}\n\n`);
  }

  private write(subscriber: Subscriber, text: string): void {
    if (subscriber.closed || this.expired(subscriber)) return;
    if (subscriber.live && subscriber.pendingBytes > MAX_PENDING_BYTES) {
      this.drop(subscriber);
      return;
    }
    const bytes = encoder.encode(text);
    subscriber.pendingBytes += bytes.byteLength;
    subscriber.taken = subscriber.writer.write(bytes).then(
      () => {
        subscriber.pendingBytes -= bytes.byteLength;
      },
      () => this.drop(subscriber),
    );
  }

  /** Drops the subscriber if its credential has run out. */
  private expired(subscriber: Subscriber): boolean {
    if (subscriber.until === null || this.now() < subscriber.until) return false;
    this.drop(subscriber);
    return true;
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
