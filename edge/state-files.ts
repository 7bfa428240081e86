import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * The edge's state (outbox, run records, sessions, the lock) holds what runs saw and did: it is
 * the agent user's alone. Directories are 0700 and files 0600, whatever the umask; an existing
 * directory is tightened, so a state dir made by hand or by an older version is covered too.
 */
export const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
  return dir;
}

/** Tightens a file something else created (pi's session files). */
export function privateFile(file: string): void {
  if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
}

/**
 * Replaces `file` with `text`, 0600, whole or not at all: written to a temporary file beside it,
 * fsync'd, renamed over it, and the rename made durable. A crash or a full disk leaves the old
 * file or the new one, never an empty or cut one (for a key shown once, the old one is the key).
 * Test: test/cli/settings.test.ts "keeps the saved settings whole".
 */
export function replaceFileSync(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, "w", PRIVATE_FILE_MODE);
    try {
      // A temporary file left by a killed writer keeps its mode through open().
      fchmodSync(fd, PRIVATE_FILE_MODE);
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  const dir = openSync(dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Makes a new or renamed file's directory entry durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Appends all of `data` to `file` (opened to append), whose length is `size`, durably
 * (fdatasync'd), or none of it. FileHandle.write makes one write(2), which a full disk or a
 * file-size limit cuts short without an error (the next one fails): a line cut short would join
 * the next append's first line. So the rest is written until none is left, and on failure (of a
 * write or of the fdatasync, after which the bytes are not known to be on disk) the file is cut
 * back to `size`, where a line ends, before the error is thrown. (A crash during the write leaves
 * the torn line to the file's reader: see the outbox's truncateTornTail.)
 * Test: test/edge/state-files.test.ts "appends all or none".
 */
export async function appendDurably(file: FileHandle, data: Buffer, size: number): Promise<void> {
  try {
    for (let written = 0; written < data.length; ) {
      const { bytesWritten } = await file.write(data, written, data.length - written);
      if (bytesWritten === 0) throw new Error("write(2) wrote nothing");
      written += bytesWritten;
    }
    await file.datasync();
  } catch (error) {
    // Cut back, or left to the reader when even that fails: the write's error is the one to
    // report.
    await file.truncate(size).catch(() => undefined);
    throw error;
  }
}

/**
 * Writes to one state file, one at a time, each after the one before has settled either way: a
 * failed write is reported to its caller and must not stop the ones after it.
 */
export class SerialWrites {
  private last: Promise<void> = Promise.resolve();

  /** Runs `write` after the writes queued before it; its promise is the write's own. */
  run(write: () => Promise<void>): Promise<void> {
    const next = this.last.then(write);
    this.last = next.catch(() => undefined);
    return next;
  }

  /** Settles once the writes queued so far have settled, never rejecting. */
  get settled(): Promise<void> {
    return this.last;
  }
}
