import { closeSync, existsSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";

const MAGIC = "SQLite format 3\u0000";

/**
 * Switches a freshly created SQLite catalog to WAL mode, so readers never block the writer and
 * the writer never blocks readers (`memory sql` during `memory sync --follow`). SQLite keeps the
 * journal mode persistently in bytes 18-19 of the file header (1 = rollback journal, 2 = WAL);
 * DuckDB's sqlite extension cannot run `PRAGMA journal_mode` (it wraps every statement in a
 * transaction), so the header is set directly, while no connection has the file open.
 * Returns false when the file already was in WAL mode.
 */
export function enableWal(file: string): boolean {
  if (existsSync(`${file}-journal`))
    throw new Error(`${file} has a hot journal; open it once with SQLite before switching to WAL`);
  const fd = openSync(file, "r+");
  try {
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) < 100 || header.toString("latin1", 0, 16) !== MAGIC)
      throw new Error(`${file} is not a SQLite database`);
    if (header[18] === 2 && header[19] === 2) return false;
    writeSync(fd, Buffer.from([2, 2]), 0, 2, 18);
    fsyncSync(fd);
    return true;
  } finally {
    closeSync(fd);
  }
}
