import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { PRIVATE_FILE_MODE } from "./state-files";

export class StateLockedError extends Error {
  constructor(
    readonly stateDir: string,
    readonly pid: number,
    holder = "edge agent",
  ) {
    super(`another ${holder} (pid ${pid}) is using ${stateDir}`);
    this.name = "StateLockedError";
  }
}

/**
 * One process per state dir: the outbox has a single writer, and two agents resuming the same
 * runs would run them twice (the local stack locks its state dir the same way). A lock left by
 * a killed process is taken over.
 */
export class StateLock {
  private constructor(private readonly file: string) {}

  static acquire(stateDir: string, options: { file?: string; holder?: string } = {}): StateLock {
    const file = join(stateDir, options.file ?? "edge.lock");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, "wx", PRIVATE_FILE_MODE);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new StateLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const pid = Number.parseInt(safeRead(file), 10);
        if (Number.isInteger(pid) && pid !== process.pid && alive(pid))
          throw new StateLockedError(stateDir, pid, options.holder);
        rmSync(file, { force: true });
      }
    }
    throw new Error(`could not lock ${stateDir}`);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
