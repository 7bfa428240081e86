import { randomUUID } from "node:crypto";
import { type FileHandle, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { AgentEvent } from "../../contract";
import { appendDurably, PRIVATE_FILE_MODE, privateDir, syncDir } from "../state-files";
import { AckMark } from "./ack-mark";
import {
  listSegments,
  readSegmentLines,
  type SegmentRef,
  segmentName,
  truncateTornTail,
} from "./segments";

export interface OutboxOptions {
  /** A new segment starts once the active one would pass this size. */
  segmentBytes?: number;
  /** Where the delivered-up-to position is kept (outside the segment directory). */
  ackFile?: string;
  /** Fully delivered segments older than this are deleted; 0 keeps everything. */
  retainDeliveredMs?: number;
}

interface Pending {
  line: string;
  resolve: (position: number) => void;
  reject: (error: Error) => void;
}

export interface OutboxRead {
  events: AgentEvent[];
  /** Position after the last line read; pass it back as `from` to continue. */
  next: number;
  /** Lines that were complete but not JSON (disk corruption); skipped, never re-read. */
  corrupt: number;
}

const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

/** The outbox's id, a file in its directory next to the segments. */
const ID_FILE = "id";

async function readOutboxId(dir: string): Promise<string | null> {
  try {
    return (await readFile(join(dir, ID_FILE), "utf8")).trim() || null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Gives the outbox a new id, durably: the ack mark is only valid for the id it names. */
async function newOutboxId(dir: string): Promise<string> {
  const id = randomUUID();
  await writeOutboxId(dir, id);
  return id;
}

async function writeOutboxId(dir: string, id: string): Promise<void> {
  const file = join(dir, ID_FILE);
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, "w", PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(`${id}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await syncDir(dir);
}

/**
 * The edge's durable event log. Every event is appended here, and fsync'd, before anything
 * sends it anywhere. Appends are group-committed: whatever queued while one write+fdatasync was
 * in flight goes out in the next single write+fdatasync, so throughput scales with concurrency
 * while each caller still learns exactly when its event is durable.
 */
export class Outbox {
  private segments: SegmentRef[];
  private active: FileHandle;
  private activeStart: number;
  private activeLines: string[];
  private activeBytes: number;
  private durable: number;
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  private cache: { start: number; lines: string[] } | null = null;
  private listeners = new Set<() => void>();
  private closed = false;
  /**
   * A failed write is cut back to the last whole line (appendDurably), or, if that failed too, has
   * left part of a line that an append after it would join: appends stop until the next open
   * (which cuts a torn tail off).
   */
  private broken: Error | null = null;

  private constructor(
    readonly dir: string,
    private readonly mark: AckMark,
    private readonly options: Required<Omit<OutboxOptions, "ackFile">>,
    state: {
      segments: SegmentRef[];
      active: FileHandle;
      activeLines: string[];
      activeBytes: number;
    },
  ) {
    this.segments = state.segments;
    this.active = state.active;
    this.activeStart = state.segments[state.segments.length - 1]!.start;
    this.activeLines = state.activeLines;
    this.activeBytes = state.activeBytes;
    this.durable = this.activeStart + state.activeLines.length;
  }

  static async open(dir: string, options: OutboxOptions = {}): Promise<Outbox> {
    privateDir(dir);
    let segments = await listSegments(dir);
    let id = await readOutboxId(dir);
    // Segments but no id: an outbox from before ids, or an upgrade a crash cut short.
    const unnamed = id === null && segments.length > 0;
    if (id === null && !unnamed) id = await newOutboxId(dir);
    if (segments.length === 0) {
      const first = join(dir, segmentName(0));
      await (await open(first, "a", PRIVATE_FILE_MODE)).close();
      await syncDir(dir);
      segments = [{ start: 0, path: first }];
    }
    const last = segments[segments.length - 1]!;
    const { lines, bytes } = await truncateTornTail(last.path);
    const mark = await AckMark.load(options.ackFile ?? `${dir}.acked`);
    // The mark lives outside the directory, which can be wiped or replaced under it; counted
    // against a mark written for another outbox, new events would never be sent. So the mark
    // names the outbox's id and, for any other outbox, starts again from 0 (central dedupes what
    // is sent again). A mark past this outbox's end was written for a longer one (a restored
    // copy keeps the id): a new id makes its reset durable, or a crash before the next ack would
    // bring it back. An outbox from before ids is trusted with its mark, as it was: the mark is
    // written naming a new id first, durably, then the id file, so an upgrade a crash cuts short
    // is finished by the next open with the id the mark names (a whole history sent again would
    // be refused by central past its dedupe window).
    const durable = last.start + lines.length;
    if (id === null) {
      id = mark.outboxId ?? randomUUID();
      await mark.bind(id, mark.position <= durable);
      await writeOutboxId(dir, id);
    } else {
      const keep = mark.position <= durable && mark.outboxId === id;
      if (!keep && mark.outboxId === id) id = await newOutboxId(dir);
      await mark.bind(id, keep);
    }
    const active = await open(last.path, "a", PRIVATE_FILE_MODE);
    return new Outbox(
      dir,
      mark,
      {
        segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
        retainDeliveredMs: options.retainDeliveredMs ?? 0,
      },
      { segments, active, activeLines: lines, activeBytes: bytes },
    );
  }

  /** Events durably appended so far (the position the next one gets). */
  get size(): number {
    return this.durable;
  }

  /** Events central has acknowledged: everything before this position. */
  get delivered(): number {
    return Math.min(this.mark.position, this.durable);
  }

  get pending(): number {
    return this.durable - this.delivered;
  }

  /** Appends one event; resolves with its position once it is on disk. */
  append(event: AgentEvent): Promise<number> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error("outbox is closed"));
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(event)}\n`, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Resolves when everything appended so far is durable. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Called (synchronously) after each durable group commit. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        const text = Buffer.from(batch.map((p) => p.line).join(""));
        const bytes = text.length;
        try {
          if (this.activeLines.length > 0 && this.activeBytes + bytes > this.options.segmentBytes) {
            await this.rotate();
          }
          // A batch whose fdatasync failed goes too: a restart would find it and send what its
          // callers were told failed.
          await appendDurably(this.active, text, this.activeBytes);
        } catch (error) {
          const failure = new Error(
            `outbox write failed, refusing further appends: ${error instanceof Error ? error.message : String(error)}`,
          );
          this.broken = failure;
          for (const p of [...batch, ...this.queue.splice(0)]) p.reject(failure);
          return;
        }
        const first = this.durable;
        for (const p of batch) this.activeLines.push(p.line.slice(0, -1));
        this.activeBytes += bytes;
        this.durable += batch.length;
        batch.forEach((p, i) => {
          p.resolve(first + i);
        });
        for (const listener of this.listeners) listener();
      }
    } finally {
      this.writing = null;
    }
  }

  private async rotate(): Promise<void> {
    await this.active.close();
    const start = this.durable;
    const path = join(this.dir, segmentName(start));
    this.active = await open(path, "a", PRIVATE_FILE_MODE);
    await syncDir(this.dir);
    this.segments.push({ start, path });
    this.activeStart = start;
    this.activeLines = [];
    this.activeBytes = 0;
    await this.pruneDelivered();
  }

  /**
   * Reads durable events from position `from`: at most `max` of them and, past the first, at
   * most `maxChars` of JSON text.
   */
  async read(from: number, max: number, maxChars = Number.POSITIVE_INFINITY): Promise<OutboxRead> {
    const events: AgentEvent[] = [];
    let position = Math.max(from, this.firstRetained());
    let corrupt = 0;
    let chars = 0;
    outer: while (events.length < max && position < this.durable) {
      const segment = await this.linesOfSegmentAt(position);
      const lines = segment.lines;
      let i = position - segment.start;
      if (i >= lines.length) break;
      for (; i < lines.length && events.length < max; i++) {
        const line = lines[i]!;
        if (events.length > 0 && chars + line.length > maxChars) break outer;
        chars += line.length;
        position += 1;
        try {
          events.push(JSON.parse(line) as AgentEvent);
        } catch {
          corrupt += 1;
        }
      }
    }
    return { events, next: position, corrupt };
  }

  /**
   * Every event of the given runs, newest segments first, stopping once each run's first event
   * (seq 0) has been seen. Used to pick interrupted runs back up after a restart.
   */
  async eventsOfRuns(runIds: ReadonlySet<string>): Promise<Map<string, AgentEvent[]>> {
    const found = new Map<string, AgentEvent[]>();
    for (const id of runIds) found.set(id, []);
    const open = new Set(runIds);
    for (let i = this.segments.length - 1; i >= 0 && open.size > 0; i--) {
      const segment = this.segments[i]!;
      const lines =
        segment.start === this.activeStart
          ? this.activeLines
          : await readSegmentLines(segment.path).catch(() => [] as string[]);
      for (const line of lines) {
        const id = /"run_id":"([0-9a-f-]{36})"/.exec(line)?.[1];
        if (!id || !runIds.has(id)) continue;
        try {
          const event = JSON.parse(line) as AgentEvent;
          found.get(id)!.push(event);
          if (event.seq === 0) open.delete(id);
        } catch {
          // a corrupt line carries nothing usable
        }
      }
    }
    for (const events of found.values()) events.sort((a, b) => a.seq - b.seq);
    return found;
  }

  /** The newest agent-level (run_id null) event, to continue its seq after a restart. */
  async lastAgentEvent(): Promise<AgentEvent | null> {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i]!;
      const lines =
        segment.start === this.activeStart
          ? this.activeLines
          : await readSegmentLines(segment.path).catch(() => [] as string[]);
      for (let j = lines.length - 1; j >= 0; j--) {
        if (!lines[j]!.includes('"run_id":null')) continue;
        try {
          return JSON.parse(lines[j]!) as AgentEvent;
        } catch {
          // skip corrupt line
        }
      }
    }
    return null;
  }

  /** Records that central holds every event before `position`. */
  async markDelivered(position: number): Promise<void> {
    await this.mark.advance(Math.min(position, this.durable));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.active.close();
  }

  private firstRetained(): number {
    return this.segments[0]?.start ?? 0;
  }

  private async linesOfSegmentAt(position: number): Promise<{ start: number; lines: string[] }> {
    if (position >= this.activeStart) return { start: this.activeStart, lines: this.activeLines };
    let segment = this.segments[0]!;
    for (const s of this.segments) {
      if (s.start > position) break;
      segment = s;
    }
    if (this.cache?.start !== segment.start) {
      this.cache = { start: segment.start, lines: await readSegmentLines(segment.path) };
    }
    return this.cache;
  }

  private async pruneDelivered(): Promise<void> {
    if (this.options.retainDeliveredMs <= 0) return;
    const cutoff = Date.now() - this.options.retainDeliveredMs;
    while (this.segments.length > 1) {
      const [oldest, next] = this.segments as [SegmentRef, SegmentRef];
      if (next.start > this.delivered) return;
      const info = await stat(oldest.path);
      if (info.mtimeMs > cutoff) return;
      await rm(oldest.path, { force: true });
      this.segments.shift();
      if (this.cache?.start === oldest.start) this.cache = null;
    }
  }
}
