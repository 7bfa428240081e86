import { closeSync, constants, openSync, readlinkSync, statSync } from "node:fs";
import { inside, realOrResolved } from "./policy/real-path";

// The files and directories the model's tools must not reach: the agent's state (the outbox,
// run records, the control socket), always, and what its embedder adds (the CLI: its home,
// with the local stack's admin key, and the key files it read). The path guard keeps file
// tools out of them; the shell sandbox hides them.

/** A workdir that is, or holds, a withheld path. */
export class WorkdirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkdirError";
  }
}

/** Refuses a workdir that is, or holds, a withheld path (existing or not: it may come later). */
export function refuseWorkdirHolding(workdir: string, withheld: readonly string[]): void {
  const work = realOrResolved(workdir);
  const held = withheld.find((path) => inside(realOrResolved(path), work));
  if (held !== undefined)
    throw new WorkdirError(
      `the workdir ${workdir} holds ${held}, which the model's tools must not reach (the agent's state, its home or a key file): choose a workdir outside it`,
    );
}

/**
 * The withheld path `target` (resolved) is in, of `withheld` (where they are now), or
 * undefined. A withheld path that holds the workdir (the default workdir is `<state>/work`)
 * withholds all of it but the workdir, as the shell sandbox binds the workdir back in.
 */
export function withheldAt(
  target: string,
  workdir: string,
  withheld: readonly string[],
): string | undefined {
  return withheld.find(
    (path) => inside(target, path) && !(inside(workdir, path) && inside(target, workdir)),
  );
}

/** A withheld path inside `root` (what a recursive search of it would read), or undefined. */
export function withheldWithin(root: string, withheld: readonly string[]): string | undefined {
  return withheld.find((path) => inside(path, root));
}

/**
 * The withheld paths, followed. Each one there when the agent starts is held open, so where it
 * is now (`/proc/self/fd/<fd>`) is known after the model's shell renamed it or a directory above
 * it, or swapped a symlink on its way (moved out from under what hides it, it would be in plain
 * sight at the next call). One not there yet is looked up by its name. The agent's descriptors
 * are closed on exec: no child process gets them.
 */
export class WithheldPaths {
  private constructor(
    readonly names: readonly string[],
    private readonly held: number[],
  ) {}

  static open(names: readonly string[]): WithheldPaths {
    const held: number[] = [];
    for (const name of names) {
      const path = realOrResolved(name);
      try {
        // Files and directories only, and without blocking: a FIFO would wait for a writer.
        const stat = statSync(path);
        if (stat.isFile() || stat.isDirectory())
          held.push(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
      } catch {
        // Not there (yet), or not one the agent can open: found by its name.
      }
    }
    return new WithheldPaths(names, held);
  }

  /** Where the withheld paths are now, each existing one with whether it is a directory. */
  current(): { path: string; dir: boolean }[] {
    const paths = new Set(this.names.map(realOrResolved));
    for (const fd of this.held) {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        // A deleted file or directory is nothing left to hide.
        if (!target.endsWith(" (deleted)")) paths.add(target);
      } catch {
        // No /proc here: the names alone.
      }
    }
    const found: { path: string; dir: boolean }[] = [];
    for (const path of paths) {
      try {
        found.push({ path, dir: statSync(path).isDirectory() });
      } catch {
        // Not there now.
      }
    }
    return found;
  }

  close(): void {
    for (const fd of this.held.splice(0)) closeSync(fd);
  }
}
