import { writerName } from "../lake/guard";
import { type CompactionReport, compact } from "../lake/maintenance";
import type { Lake } from "../lake/open";
import { type Cursor, type EventSource, partSize, type RawRecord } from "../sources/source";
import { type BatchInput, type BatchResult, commitBatch, readCursors, writeBatch } from "./commit";
import { continues, LogChangedError, type NamedSpan, type SpanExceptions, Stage } from "./stage";
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
/** Entries read from the source at once: bounds the memory a batch takes in JavaScript. */
const READ_SLICE = 20_000;

/** Longest a caught-up follower waits on a source's "something new" signal before asking. */
const IDLE_WAIT_MS = 60_000;

/** A span of a log file in a batch being staged, and what the contract made of its lines. */
interface OpenSpan extends SpanExceptions {
  span: NamedSpan;
  excluded: Set<number>;
  rewritten: Map<number, string>;
  /** Its records the validation threads checked. */
  checked: number;
}

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
  // Started first: the threads load while the stage is set up.
  const starting = ValidatorPool.get();
  starting.catch(() => undefined);
  const stage = await Stage.open(lake.db.instance, options.inTransaction ? c : undefined);
  try {
    const validators = await starting;
    let cursors = await readCursors(c, source.origin);
    let lastCompaction = Date.now();
    let dirty = false;

    /** `copy`: stage every span from a copy of its bytes, none from the log (see Stage.hold). */
    const prepare = async (
      slot: number,
      from: Cursor[],
      copy: boolean,
    ): Promise<Prepared | null> => {
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
      // Slices being checked on the validation threads, in log order, from `first` in the batch.
      const checking: {
        first: number;
        count: number;
        /** The slice's records, unless it is lines of a span (checked from the file's bytes). */
        records?: RawRecord[];
        result: Promise<Validated>;
      }[] = [];
      // Spans of log files (see NamedSpan; `first` counts from the batch's start) not yet staged,
      // in log order, with what the contract made of their lines so far.
      const spans: OpenSpan[] = [];
      // The last span ended its read: the next read may go on with it.
      let tailOpen = false;
      // Valid entries outside spans waiting to be staged as text, in log order, and where they
      // are in the log.
      let text: string[] = [];
      let positions: string[] = [];
      const spanOf = (at: number) =>
        spans.find((s) => at >= s.span.first && at < s.span.first + s.span.records);
      const flushText = async () => {
        if (text.length) await stage.appendText(slot, text, positions);
        text = [];
        positions = [];
      };
      // Stages the spans the contract checked all of that can grow no more.
      const stageSpans = async () => {
        for (;;) {
          const s = spans[0];
          if (!s || s.checked < s.span.records || (tailOpen && spans.length === 1)) return;
          await flushText();
          await stage.appendSpan(slot, s.span, s);
          spans.shift();
        }
      };
      const take = async (
        first: number,
        count: number,
        records: RawRecord[] | undefined,
        done: Validated,
      ) => {
        stage.noteLongest(slot, done.longest);
        out.valid += count - done.excluded.length;
        out.quarantined += done.excluded.length;
        await stage.appendQuarantine(slot, done.quarantined);
        const excluded = new Set(done.excluded);
        const rewritten = new Map(done.rewritten);
        for (const i of done.excluded) {
          const s = spanOf(first + i);
          s?.excluded.add(first + i - s.span.first);
        }
        for (const [i, line] of done.rewritten) {
          const s = spanOf(first + i);
          s?.rewritten.set(first + i - s.span.first, line);
        }
        for (let i = 0; i < count; ) {
          const s = spanOf(first + i);
          if (s) {
            await flushText();
            const end = Math.min(count, s.span.first + s.span.records - first);
            s.checked += end - i;
            i = end;
          } else {
            const later = spans.find((p) => p.span.first > first + i);
            const end = later ? Math.min(count, later.span.first - first) : count;
            for (; i < end; i++) {
              if (excluded.has(i)) continue;
              const record = records![i]!;
              text.push(rewritten.get(i) ?? ("text" in record ? record.text : ""));
              positions.push(record.position);
            }
          }
          await stageSpans();
        }
      };
      // A span that goes on where the open one at the batch's end stops is the same span, grown.
      const addSpan = (span: NamedSpan) => {
        const last = spans.at(-1);
        if (
          tailOpen &&
          last &&
          continues(last.span, span) &&
          last.span.first + last.span.records === span.first
        )
          last.span = {
            ...last.span,
            records: last.span.records + span.records,
            lines: last.span.lines + span.lines,
            to: span.to,
          };
        else spans.push({ span, checked: 0, excluded: new Set(), rewritten: new Map() });
        tailOpen = true;
      };
      const check = (
        first: number,
        count: number,
        records: RawRecord[] | undefined,
        result: Promise<Validated>,
      ) => {
        // Observed here, so a failure before its turn is not unhandled; its turn reports it.
        result.catch(() => undefined);
        checking.push({ first, count, ...(records ? { records } : {}), result });
      };
      const stageNext = async () => {
        const slice = checking.shift()!;
        const waiting = performance.now();
        const done = await slice.result;
        t.validate += performance.now() - waiting;
        const staging = performance.now();
        await take(slice.first, slice.count, slice.records, done);
        t.stage += performance.now() - staging;
      };
      while (entries < size) {
        const want = Math.min(READ_SLICE, size - entries);
        const reading = performance.now();
        // Before the source reads: a file changed after this is staged from the bytes it read.
        const since = Date.now();
        const batch = await source.next(out.after, want);
        t.read += performance.now() - reading;
        if (!batch) break;
        let got = 0;
        for (const part of batch.parts) {
          const first = entries + got;
          const count = partSize(part);
          got += count;
          if ("span" in part) {
            addSpan(
              stage.hold(
                slot,
                { ...part.span, first, file: part.file, firstLine: part.firstLine },
                part.bytes,
                { since, copy },
              ),
            );
            for (let i = 0; i < count; i += VALIDATE_SLICE) {
              const end = Math.min(count, i + VALIDATE_SLICE);
              check(
                first + i,
                end - i,
                undefined,
                validators.validateLines(
                  {
                    file: part.file,
                    // From the span's start, with any blank lines before its first record.
                    bytes: part.bytes.subarray(
                      i === 0 ? 0 : part.starts[i],
                      end < count ? part.starts[end] : part.bytes.length,
                    ),
                    firstLine: i === 0 ? part.firstLine : part.numbers[i]!,
                  },
                  end - i,
                ),
              );
            }
          } else {
            tailOpen = false;
            for (let i = 0; i < count; i += VALIDATE_SLICE) {
              const records = part.records.slice(i, i + VALIDATE_SLICE);
              check(first + i, records.length, records, validators.validate(records));
            }
          }
        }
        entries += got;
        out.after = mergeCursors(out.after, batch.cursors);
        for (const cursor of batch.cursors) read.set(cursor.file, cursor);
        out.notes.push(...batch.notes);
        while (checking.length > IN_FLIGHT) await stageNext();
        // A short read means the source caught up.
        if (got < want) break;
      }
      while (checking.length) await stageNext();
      const flushing = performance.now();
      tailOpen = false;
      await stageSpans();
      await flushText();
      const staged = await stage.finish(slot);
      t.stage += performance.now() - flushing;
      if (read.size === 0) return null;
      out.staged = staged.events;
      out.valid -= staged.unreadable;
      out.quarantined += staged.unreadable;
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
        let prepared: Prepared | null;
        try {
          prepared = await prepare(slot, from, false);
        } catch (error) {
          if (!(error instanceof LogChangedError)) throw error;
          // What the file holds now is checked on a read again; staged from copies of what is
          // checked, which nothing changes, the batch goes through even if the file goes on
          // changing (an outbox being appended to).
          prepared = await prepare(slot, from, true);
          prepared?.notes.push(`${error.message}; its batch was read again`);
        }
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
