import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { RawRecord } from "../sources/source";
import type { QuarantinedRecord } from "./validate";

/**
 * Lines of a log file as its bytes: complete lines from a line's start, the first of them line
 * `firstLine` of `file`. The thread decodes and names them (see scanLines).
 */
export interface LineBytes {
  file: string;
  bytes: Uint8Array;
  firstLine: number;
}

/**
 * A slice to check: lines of a log file as bytes (the common case: the bytes move to the thread
 * as they are, and no string of them is built on the sync's thread), the lines' text alone when
 * every record of it is a line, else the records. Positions of texts stay here (see
 * ValidatorPool.validate).
 */
export type Slice = { lines: LineBytes } | { texts: string[] } | { records: RawRecord[] };

export type ValidateRequest = { id: number } & Slice;

/** A slice checked: every record not named here passed the contract exactly as written. */
export interface Validated {
  quarantined: QuarantinedRecord[];
  /** The slice's records (0 = its first) quarantined, in order. */
  excluded: number[];
  /** The slice's records that passed as the contract's parser rewrote them: this text instead. */
  rewritten: [number, string][];
  /** The longest valid record's text, in UTF-16 units. */
  longest: number;
  /** Records checked. */
  records: number;
}

export type ValidateResponse =
  | ({ id: number; ok: true } & Validated)
  | { id: number; ok: false; error: string };

/**
 * Threads that check log entries against the contract (validate-worker.ts): JSON.parse and the
 * check are most of a sync's JavaScript, and one thread would leave the other cores to DuckDB
 * alone. Shared by the process's syncs, created on first use; idle threads do not keep the
 * process alive.
 */
export class ValidatorPool {
  private static shared: Promise<ValidatorPool> | null = null;
  private static current: ValidatorPool | null = null;
  private readonly waiting = new Map<
    number,
    { resolve: (v: Validated) => void; reject: (e: Error) => void }
  >();
  private next = 0;
  /** Why the pool stopped: every check asked of it after that fails at once. */
  private failure: Error | null = null;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on("message", (response: ValidateResponse) => this.settle(response));
      worker.on("error", (error) => this.failAll(error));
      // A thread that ends without an error (killed, out of memory) would leave its checks
      // waiting for ever.
      worker.on("exit", (code) =>
        this.failAll(new Error(`validation thread exited (code ${code})`)),
      );
      // Idle threads do not hold the process open (after the listeners, which would again).
      worker.unref();
    }
  }

  static get(): Promise<ValidatorPool> {
    if (!ValidatorPool.shared) {
      const starting = workerModule().then(({ url, execArgv }) => {
        ValidatorPool.current = new ValidatorPool(
          Array.from(
            { length: Math.max(1, Math.min(2, availableParallelism())) },
            () => new Worker(url, execArgv ? { execArgv } : {}),
          ),
        );
        return ValidatorPool.current;
      });
      ValidatorPool.shared = starting;
      // A pool that could not start is not kept: the next sync tries again.
      starting.catch(() => {
        if (ValidatorPool.shared === starting) ValidatorPool.shared = null;
      });
    }
    return ValidatorPool.shared;
  }

  /** Checks `records` on the next thread, in turn. */
  async validate(records: RawRecord[]): Promise<Validated> {
    const texts: string[] = [];
    for (const record of records) {
      // Texts alone would lose what the source marked on a line (see TextRecord).
      if (!("text" in record) || record.utf8 === false || record.bytes !== undefined) break;
      texts.push(record.text);
    }
    const done = await this.send(texts.length === records.length ? { texts } : { records });
    // A thread sent only texts names no position: the records here have them.
    done.excluded.forEach((i, k) => {
      done.quarantined[k]!.position = records[i]!.position;
    });
    return done;
  }

  /** Checks the `records` records of `lines` on the next thread, in turn. */
  async validateLines(lines: LineBytes, records: number): Promise<Validated> {
    // A copy of exactly these bytes, moved (not copied again) to the thread.
    const bytes = new Uint8Array(lines.bytes);
    const done = await this.send({ lines: { ...lines, bytes } }, [bytes.buffer]);
    if (done.records !== records)
      throw new Error(
        `${lines.file}: ${done.records} records from line ${lines.firstLine} where ${records} were read`,
      );
    return done;
  }

  private send(slice: Slice, transfer: ArrayBuffer[] = []): Promise<Validated> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const worker = this.workers[id % this.workers.length]!;
    return new Promise<Validated>((resolve, reject) => {
      // A pending check holds the process open, as any I/O it waits on would.
      if (this.waiting.size === 0) for (const w of this.workers) w.ref();
      this.waiting.set(id, { resolve, reject });
      const request: ValidateRequest = { id, ...slice };
      worker.postMessage(request, transfer);
    });
  }

  private settle(response: ValidateResponse): void {
    const waiter = this.waiting.get(response.id);
    if (!waiter) return;
    this.waiting.delete(response.id);
    if (this.waiting.size === 0) for (const w of this.workers) w.unref();
    if (response.ok) waiter.resolve(response);
    else waiter.reject(new Error(`validation thread failed: ${response.error}`));
  }

  /** A thread that dies takes the pool with it: the next sync starts a new one. */
  private failAll(error: Error): void {
    this.failure ??= error;
    if (ValidatorPool.current === this) {
      ValidatorPool.current = null;
      ValidatorPool.shared = null;
    }
    for (const worker of this.workers) void worker.terminate();
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

/**
 * The worker's module: built JavaScript beside this module when it runs from dist/ (bin/build.js
 * bundles it as an entry; the build keeps `import.meta.url` the source's, so the running file is
 * `import.meta.filename`; the thread inherits the process's flags, as a worker does by default).
 * Run from the TypeScript sources (tests, benchmarks), it is dist/'s build, rebuilt first when a
 * source changed, as bin/auraison.js runs the CLI: threads that load the sources through tsx
 * take about 0.7 s and 1.3 CPU seconds to start (two, on 2 cores), the built module 0.18 s and
 * 0.34.
 */
async function workerModule(): Promise<{ url: URL; execArgv?: string[] }> {
  const running = import.meta.filename ?? fileURLToPath(import.meta.url);
  if (running.endsWith(".js"))
    return { url: pathToFileURL(join(dirname(running), "validate-worker.js")) };
  // Imported by URL: a build must not bundle its builder.
  const builder = new URL("../../bin/build.js", import.meta.url).href;
  const { builtEntry } = (await import(builder)) as typeof import("../../bin/build.js");
  // None of the parent's flags: those of a process run through tsx would load tsx again (a
  // worker refuses per-process flags given explicitly, so they cannot be filtered through).
  return { url: new URL(await builtEntry("validate-worker")), execArgv: [] };
}
