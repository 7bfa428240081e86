import { closeSync, existsSync, openSync, rmSync, statSync } from "node:fs";

/** A lock older than this was left by a process that died while creating the lake. */
const STALE_MS = 60_000;

export function catalogExists(path: string): boolean {
  return existsSync(path) && statSync(path).size > 0;
}

/**
 * Creates a local catalog under an exclusive lock file (`<catalog>.creating`), so two processes
 * starting on a fresh lake do not both create it (nor both rewrite its header to WAL mode).
 * Returns false, without calling `create`, when another process created the catalog first.
 */
export async function createOnce(path: string, create: () => Promise<void>): Promise<boolean> {
  const lock = `${path}.creating`;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lock, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - since > STALE_MS) rmSync(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      if (catalogExists(path)) return false;
      await create();
      return true;
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}
