import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { PRIVATE_FILE_MODE } from "./state-files";

export class StateLockedError extends Error {
  constructor(
    readonly stateDir: string,
    /** The holder's process, when it has said (it writes its pid once it holds the lock). */
    readonly pid: number | null,
    holder = "edge agent",
  ) {
    super(`another ${holder}${pid === null ? "" : ` (pid ${pid})`} is using ${stateDir}`);
    this.name = "StateLockedError";
  }
}

/**
 * One process per state dir: the outbox has a single writer, and two agents resuming the same
 * runs would run them twice (the local stack locks its state dir the same way).
 *
 * The lock is the kernel's: an exclusive transaction held open on a SQLite file (`<file>.db`),
 * whose file lock the kernel drops when the process ends, however it ends. A pid file alone
 * (created with O_EXCL, taken over when its process is gone) let two processes hold it: one could
 * read the file before its creator had written the pid and take it for a dead one's, and two
 * taking over a dead one's could each remove the other's. SQLite because Node has no flock and
 * ships SQLite (`node:sqlite`); its file locking is all this uses. The pid file (`<file>`) only
 * names the holder: in the error another process gets, and to an agent of a version from before
 * this lock, which refuses a live pid there as before (and whose live pid there this one refuses).
 * Test: test/edge/state-lock.test.ts.
 */
export class StateLock {
  /**
   * Every lock this process holds, until released: node:sqlite closes a database the garbage
   * collector finds unreachable, which would let the lock go while its process still runs.
   */
  private static readonly held = new Set<StateLock>();

  private constructor(
    private readonly pidFile: string,
    private readonly db: DatabaseSync,
  ) {}

  static acquire(stateDir: string, options: { file?: string; holder?: string } = {}): StateLock {
    const pidFile = join(stateDir, options.file ?? "edge.lock");
    const dbFile = `${pidFile}.db`;
    // Taking the lock passes through a shared one, so two taking it at once can each find the
    // other's in the way though neither holds it: a contender waits a moment for that to clear.
    const db = new (sqlite().DatabaseSync)(dbFile, { timeout: CONTENTION_MS });
    try {
      chmodSync(dbFile, PRIVATE_FILE_MODE);
      db.exec("BEGIN EXCLUSIVE");
    } catch (error) {
      db.close();
      if ((error as { errcode?: number }).errcode !== SQLITE_BUSY) throw error;
      throw new StateLockedError(stateDir, pidOf(readOr(pidFile)), options.holder);
    }
    // A pid file this lock's holders wrote is a dead one's now; one without its mark may be a
    // live agent's of an older version, which holds no kernel lock.
    const text = readOr(pidFile);
    const named = pidOf(text);
    if (!text.includes(MARK) && named !== null && named !== process.pid && alive(named)) {
      db.close();
      throw new StateLockedError(stateDir, named, options.holder);
    }
    // Whole or not at all: a reader never finds it empty.
    const tmp = `${pidFile}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${process.pid}\n${MARK}\n`, { mode: PRIVATE_FILE_MODE });
      renameSync(tmp, pidFile);
    } catch (error) {
      // Not held if it cannot say by whom (a full disk): the next start tries again.
      rmSync(tmp, { force: true });
      db.close();
      throw error;
    }
    const lock = new StateLock(pidFile, db);
    StateLock.held.add(lock);
    return lock;
  }

  release(): void {
    StateLock.held.delete(this);
    if (!this.db.isOpen) return;
    if (pidOf(readOr(this.pidFile)) === process.pid) rmSync(this.pidFile, { force: true });
    this.db.close();
  }
}

/** SQLite's "database is locked": another connection holds the lock. */
const SQLITE_BUSY = 5;

/** How long a contender waits for the lock (a holder keeps it: this only settles a tie). */
const CONTENTION_MS = 250;

/** Marks a pid file written by the holder of the kernel lock (an older version wrote the pid alone). */
const MARK = "held with <file>.db";

let loaded: typeof import("node:sqlite") | null = null;

/**
 * node:sqlite, loaded on first use. Node 22 prints that it is experimental when it loads it; the
 * lock uses only SQLite's file locking, so that line (on every start, on stderr) is left out.
 */
function sqlite(): typeof import("node:sqlite") {
  if (loaded) return loaded;
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes("SQLite is an experimental feature"))
      (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    loaded = process.getBuiltinModule("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
  return loaded;
}

function readOr(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** The pid a pid file's text names, if it names one. */
function pidOf(text: string): number | null {
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
