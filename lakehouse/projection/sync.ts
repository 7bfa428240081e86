import type { DuckDBConnection } from "@duckdb/node-api";
import { writerName } from "../lake/guard";
import { type CompactionReport, compact } from "../lake/maintenance";
import type { Lake } from "../lake/open";
import type { Cursor, EventSource } from "../sources/source";
import { type BatchInput, type BatchResult, commitBatch, writeBatch } from "./commit";
import { joinStaged, Stage } from "./stage";
import type { Steps } from "./steps";
import { type Validated, ValidatorPool } from "./validate-pool";

export interface SyncOptions {
  /** Log entries per batch (one lake transaction each; default 1,000,000). */
  batchSize?: number;
  /** Keep polling the source for new events until `signal` aborts. */
  follow?: boolean;
  /** Follow: wait between polls when caught up. */
  pollMs?: number;
  /** Follow: compact at most this often; a one-shot sync compacts once at the end. */
  compactEveryMs?: number;
  /** Skip compaction (tests that count files, callers that compact themselves). */
  compact?: boolean;
  /**
   * Write every batch inside the transaction the caller holds open on the lake's connection,
   * committing none (a rebuild: all of it or nothing). Implies no compaction.
   */
  inTransaction?: boolean;
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
  /** Waiting for the validation threads (validate-pool.ts) to return the next slice. */
  validate: number;
  stage: number;
  transaction: number;
  /** The transactions' time by step (see `BatchResult.steps`). */
  steps: Steps;
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

/** Entries a validation thread checks at once. */
const VALIDATE_SLICE = 5_000;
/** Slices being checked at once: enough to keep every validation thread busy while one is staged. */
const IN_FLIGHT = 6;
/** Most slices checked that go to DuckDB as one file. */
const MERGE_SLICES = 8;
/** Entries read from the source at once: bounds the memory a batch takes in JavaScript. */
const READ_SLICE = 20_000;

/** Longest a caught-up follower waits on a source's "something new" signal before asking. */
const IDLE_WAIT_MS = 60_000;

/** A batch staged in a slot, waiting for its lake transaction. */
interface Prepared {
  slot: number;
  /** The cursors of the files (or central) the batch read, where it ended. */
  read: Cursor[];
  /** All cursors after the batch. */
  after: Cursor[];
  notes: string[];
  valid: number;
  staged: number;
  quarantined: number;
  low: string | null;
  high: string | null;
  /** The batch stopped at its size, not because the source ran out. */
  full: boolean;
}

/**
 * Projects a source into the lake, batch by batch, from where the lake's cursors say it was
 * read up to. A batch is read and staged in slices, each checked against the contract on the
 * validation threads while this one reads on; while DuckDB commits one batch, the next is staged
 * into the other slot.
 */
export async function sync(
  lake: Lake,
  source: EventSource,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const started = performance.now();
  const c = lake.connection;
  const size = options.batchSize ?? 1_000_000;
  const writer = writerName();
  const report: SyncReport = {
    origin: source.origin,
    batches: 0,
    events: 0,
    duplicates: 0,
    quarantined: 0,
    runs: 0,
    notes: [],
    compactions: [],
    timings: { read: 0, validate: 0, stage: 0, transaction: 0, steps: {}, compact: 0 },
    seconds: 0,
  };
  const t = report.timings;
  const runCompaction = async () => {
    const done = await compact(c);
    report.compactions.push(done);
    t.compact += done.seconds * 1000;
  };
  const notes = new Set<string>();
  const stage = await Stage.open(lake.db.instance, options.inTransaction ? c : undefined);
  const validators = ValidatorPool.get();
  try {
    let cursors = await readCursors(c, source.origin);
    let lastCompaction = Date.now();
    let dirty = false;

    const prepare = async (slot: number, from: Cursor[]): Promise<Prepared | null> => {
      await stage.clear(slot);
      const read = new Map<string, Cursor>();
      const out: Prepared = {
        slot,
        read: [],
        after: from,
        notes: [],
        valid: 0,
        staged: 0,
        quarantined: 0,
        low: null,
        high: null,
        full: false,
      };
      let entries = 0;
      // Slices being checked on the validation threads, in log order.
      const checking: { result: Promise<Validated>; done?: Validated }[] = [];
      // Stages the next slice, with those checked after it that are ready: while DuckDB types
      // one file, the slices checked meanwhile make the next, larger one.
      const stageNext = async () => {
        const waiting = performance.now();
        const ready = [await checking.shift()!.result];
        t.validate += performance.now() - waiting;
        while (checking[0]?.done && ready.length < MERGE_SLICES)
          ready.push(checking.shift()!.done!);
        const staging = performance.now();
        await stage.appendEvents(slot, joinStaged(ready.map((r) => r.staged)));
        await stage.appendQuarantine(
          slot,
          ready.flatMap((r) => r.quarantined),
        );
        t.stage += performance.now() - staging;
        for (const r of ready) {
          out.valid += r.staged.count;
          out.quarantined += r.quarantined.length;
        }
      };
      while (entries < size) {
        const want = Math.min(READ_SLICE, size - entries);
        const reading = performance.now();
        const batch = await source.next(out.after, want);
        t.read += performance.now() - reading;
        if (!batch) break;
        const records = batch.records;
        for (let i = 0; i < records.length; i += VALIDATE_SLICE) {
          const slice: (typeof checking)[number] = {
            result: validators.validate(records.slice(i, i + VALIDATE_SLICE), entries + i),
          };
          // Observed here, so a failure before its turn is not unhandled; its turn reports it.
          slice.result.then(
            (done) => {
              slice.done = done;
            },
            () => undefined,
          );
          checking.push(slice);
        }
        entries += records.length;
        out.after = mergeCursors(out.after, batch.cursors);
        for (const cursor of batch.cursors) read.set(cursor.file, cursor);
        out.notes.push(...batch.notes);
        while (checking.length > IN_FLIGHT) await stageNext();
        // A short read means the source caught up.
        if (records.length < want) break;
      }
      while (checking.length) await stageNext();
      const flushing = performance.now();
      const staged = await stage.finish(slot);
      t.stage += performance.now() - flushing;
      if (read.size === 0) return null;
      out.staged = staged.events;
      out.low = staged.low;
      out.high = staged.high;
      out.read = [...read.values()];
      out.full = entries >= size;
      return out;
    };

    // Under --follow an outage of the source is waited out; a one-shot sync reports it.
    let failures = 0;
    const next = async (slot: number, from: Cursor[]): Promise<Prepared | null> => {
      try {
        const prepared = await prepare(slot, from);
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

    let slot = 0;
    let pending = await next(slot, cursors);
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
        pending = await next(slot, cursors);
        continue;
      }
      const batch = pending;
      // Stage the next batch (into the other slot) while DuckDB commits this one, but only when
      // there is surely more: a batch short of its size means the source caught up.
      let readAhead: Promise<Prepared | null | undefined> = Promise.resolve(undefined);
      // (Not inside a caller's transaction: the stage shares its connection then.)
      if (batch.full && !options.inTransaction) {
        readAhead = next(1 - slot, batch.after);
        // Handled here so a failed commit does not leave it unobserved; awaited below.
        readAhead.catch(() => undefined);
      }
      const commit = options.inTransaction
        ? async (input: BatchInput): Promise<BatchResult> => {
            const writing = performance.now();
            const written = await writeBatch(c, input);
            return { ...written, attempts: 1, transactionMs: performance.now() - writing };
          }
        : (input: BatchInput) => commitBatch(c, input);
      const result = await commit({
        origin: source.origin,
        staged: {
          events: stage.events(batch.slot),
          quarantine: stage.quarantine(batch.slot),
          count: batch.staged,
        },
        valid: batch.valid,
        quarantined: batch.quarantined,
        low: batch.low,
        high: batch.high,
        cursors: batch.read,
        writer,
      }).catch(async (error: unknown) => {
        await readAhead.catch(() => undefined);
        throw error;
      });
      cursors = batch.after;
      dirty ||= result.events + result.quarantined > 0;
      report.batches += 1;
      report.events += result.events;
      report.duplicates += result.duplicates;
      report.quarantined += result.quarantined;
      report.runs += result.runs;
      t.transaction += result.transactionMs;
      for (const [step, ms] of Object.entries(result.steps))
        t.steps[step] = (t.steps[step] ?? 0) + ms;
      for (const note of batch.notes) notes.add(note);
      options.onBatch?.({ ...result, notes: batch.notes });
      slot = 1 - slot;
      const ahead = await readAhead;
      pending = ahead === undefined ? await next(slot, cursors) : ahead;
    }
    if (dirty && options.compact !== false && !options.inTransaction && !options.signal?.aborted)
      await runCompaction();
  } finally {
    stage.close();
  }
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
