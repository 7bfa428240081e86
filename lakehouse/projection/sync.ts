import { hostname } from "node:os";
import type { DuckDBConnection } from "@duckdb/node-api";
import { type CompactionReport, compact } from "../lake/maintenance";
import type { Lake } from "../lake/open";
import type { Cursor, EventSource, SourceBatch } from "../sources/source";
import { type BatchResult, commitBatch } from "./commit";
import { createStage } from "./stage";
import { checkRecord, type QuarantinedRecord, type ValidEvent } from "./validate";

export interface SyncOptions {
  /** Log entries per batch (one lake transaction each). */
  batchSize?: number;
  /** Keep polling the source for new events until `signal` aborts. */
  follow?: boolean;
  /** Follow: wait between polls when caught up. */
  pollMs?: number;
  /** Follow: compact at most this often; a one-shot sync compacts once at the end. */
  compactEveryMs?: number;
  /** Skip compaction (tests that count files, callers that compact themselves). */
  compact?: boolean;
  signal?: AbortSignal;
  onBatch?: (batch: BatchResult & { notes: string[] }) => void;
  /** Follow: the source is away (central down); the sync waits, backing off, and carries on. */
  onOutage?: (error: unknown, failures: number) => void;
}

/**
 * Busy time per phase, in ms. Reading and validating the next batch overlaps the current
 * batch's transaction, so the phases add up to more than the wall time.
 */
export interface SyncTimings {
  read: number;
  validate: number;
  stage: number;
  transaction: number;
  compact: number;
}

export interface SyncReport {
  origin: string;
  batches: number;
  events: number;
  duplicates: number;
  quarantined: number;
  runs: number;
  notes: string[];
  compactions: CompactionReport[];
  timings: SyncTimings;
  seconds: number;
}

/** Events validated between two yields to the event loop. */
const VALIDATE_SLICE = 500;

/** Longest a caught-up follower waits on a source's "something new" signal before asking. */
const IDLE_WAIT_MS = 60_000;

interface Prepared {
  batch: SourceBatch;
  events: ValidEvent[];
  quarantined: QuarantinedRecord[];
}

/**
 * Projects a source into the lake, batch by batch, from where the lake's cursors say it was
 * read up to. While DuckDB commits one batch, the next is read and validated.
 */
export async function sync(
  lake: Lake,
  source: EventSource,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const started = performance.now();
  const c = lake.connection;
  const size = options.batchSize ?? 100_000;
  const writer = `${hostname()}:${process.pid}`;
  const report: SyncReport = {
    origin: source.origin,
    batches: 0,
    events: 0,
    duplicates: 0,
    quarantined: 0,
    runs: 0,
    notes: [],
    compactions: [],
    timings: { read: 0, validate: 0, stage: 0, transaction: 0, compact: 0 },
    seconds: 0,
  };
  const t = report.timings;
  const runCompaction = async () => {
    const done = await compact(c);
    report.compactions.push(done);
    t.compact += done.seconds * 1000;
  };
  const notes = new Set<string>();
  await createStage(c);
  let cursors = await readCursors(c, source.origin);
  let lastCompaction = Date.now();
  let dirty = false;

  const prepare = async (from: Cursor[]): Promise<Prepared | null> => {
    const reading = performance.now();
    const batch = await source.next(from, size);
    t.read += performance.now() - reading;
    if (!batch) return null;
    const events: ValidEvent[] = [];
    const quarantined: QuarantinedRecord[] = [];
    for (let i = 0; i < batch.records.length; i += VALIDATE_SLICE) {
      // Yield between slices, so the statements of the batch being committed keep DuckDB busy.
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const validating = performance.now();
      for (const record of batch.records.slice(i, i + VALIDATE_SLICE)) {
        const checked = checkRecord(record);
        if (checked.ok) events.push(checked.value);
        else quarantined.push(checked.quarantined);
      }
      t.validate += performance.now() - validating;
    }
    return { batch, events, quarantined };
  };

  // Under --follow an outage of the source is waited out; a one-shot sync reports it.
  let failures = 0;
  const next = async (from: Cursor[]): Promise<Prepared | null> => {
    try {
      const prepared = await prepare(from);
      failures = 0;
      return prepared;
    } catch (error) {
      if (!options.follow || !source.isOutage(error)) throw error;
      failures += 1;
      options.onOutage?.(error, failures);
      return null;
    }
  };
  const poll = options.pollMs ?? 2_000;

  let pending = await next(cursors);
  for (;;) {
    if (options.signal?.aborted) break;
    if (!pending) {
      if (!options.follow) break;
      const due = options.compactEveryMs ?? 300_000;
      if (dirty && options.compact !== false && Date.now() - lastCompaction >= due) {
        await runCompaction();
        lastCompaction = Date.now();
        dirty = false;
      }
      await sleep(failures ? Math.min(30_000, poll * 2 ** failures) : poll, options.signal);
      // Idle: rather than asking every `poll` (a request, and a log line, each time), wait
      // for the source to say something new arrived, when it can.
      if (!failures && source.waitForMore && !options.signal?.aborted)
        await source.waitForMore(cursors, {
          maxMs: IDLE_WAIT_MS,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      if (options.signal?.aborted) break;
      pending = await next(cursors);
      continue;
    }
    const after = mergeCursors(cursors, pending.batch.cursors);
    // Read ahead (while DuckDB runs the transaction) only when there is surely more: a short
    // batch means the source caught up.
    const more = pending.batch.records.length >= size;
    let readAhead: Promise<Prepared | null | undefined> = Promise.resolve(undefined);
    const result = await commitBatch(
      c,
      {
        origin: source.origin,
        events: pending.events,
        quarantined: pending.quarantined,
        cursors: pending.batch.cursors,
        writer,
      },
      () => {
        if (!more) return;
        readAhead = next(after);
        // Handled here so a failed commit does not leave it unobserved; awaited below.
        readAhead.catch(() => undefined);
      },
    ).catch(async (error: unknown) => {
      await readAhead.catch(() => undefined);
      throw error;
    });
    cursors = after;
    dirty ||= result.events + result.quarantined > 0;
    report.batches += 1;
    report.events += result.events;
    report.duplicates += result.duplicates;
    report.quarantined += result.quarantined;
    report.runs += result.runs;
    t.stage += result.stageMs;
    t.transaction += result.transactionMs;
    for (const note of pending.batch.notes) notes.add(note);
    options.onBatch?.({ ...result, notes: pending.batch.notes });
    const ahead = await readAhead;
    pending = ahead === undefined ? await next(cursors) : ahead;
  }
  if (dirty && options.compact !== false && !options.signal?.aborted) await runCompaction();
  report.notes = [...notes];
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

export async function readCursors(connection: DuckDBConnection, origin: string): Promise<Cursor[]> {
  const read = await connection.runAndReadAll(
    "SELECT origin, file, position, lines, complete FROM memory.sync_cursors WHERE origin = $1",
    [origin],
  );
  return read.getRows().map(([o, file, position, lines, complete]) => ({
    origin: String(o),
    file: String(file),
    position: Number(position),
    lines: Number(lines),
    complete: Boolean(complete),
  }));
}

function mergeCursors(current: readonly Cursor[], updates: readonly Cursor[]): Cursor[] {
  const byFile = new Map(current.map((c) => [c.file, c]));
  for (const u of updates) byFile.set(u.file, u);
  return [...byFile.values()];
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
