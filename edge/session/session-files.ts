import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { SessionManager } from "@earendil-works/pi-coding-agent";
import type { TreeRef } from "../../contract";
import { truncateTornTail } from "../outbox/segments";
import { privateDir } from "../state-files";
import { privateSession } from "./private-session";

/** pi's JSONL session trees live here, one file per run (forks get their own). */
export function sessionsDir(stateDir: string): string {
  return join(stateDir, "sessions");
}

/** TreeRef.session_file is relative to the state dir, so a moved state dir stays valid. */
export function treeRefFile(stateDir: string, file: string): string {
  return isAbsolute(file) ? relative(stateDir, file) : file;
}

/** A run's session, redacted and private on disk (private-session.ts). */
function openSession(file: string, stateDir: string, workdir: string): SessionManager {
  return privateSession(SessionManager.open(file, privateDir(sessionsDir(stateDir)), workdir));
}

export function newRunSession(stateDir: string, runId: string, workdir: string) {
  const file = join(sessionsDir(stateDir), `${runId}.jsonl`);
  return { manager: openSession(file, stateDir, workdir), file };
}

/**
 * Reopens a run's session to continue it. A crash can tear the last line pi appended; it is
 * cut off first so pi's next append starts on a fresh line.
 */
export async function reopenRunSession(stateDir: string, tree: TreeRef, workdir: string) {
  const file = join(stateDir, tree.session_file);
  if (existsSync(file)) await truncateTornTail(file);
  return { manager: openSession(file, stateDir, workdir), file };
}

/** Whether a run's session file holds anything (pi writes it once there is an entry). */
export function hasSession(stateDir: string, tree: TreeRef): boolean {
  const file = join(stateDir, tree.session_file);
  return existsSync(file) && statSync(file).size > 0;
}

export class ForkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ForkError";
  }
}

/**
 * A new session holding the source run's branch from its root through `entryId` (default: the
 * source's latest entry), in a new file whose header names the source as parent. Forking at an
 * assistant message that called tools forks just before it, so the fork re-decides that step
 * instead of holding calls that never ran.
 */
export function forkRunSession(
  stateDir: string,
  source: TreeRef,
  entryId: string | null,
  workdir: string,
): { manager: SessionManager; file: string; entryId: string | null } {
  const sourceFile = join(stateDir, source.session_file);
  if (!existsSync(sourceFile)) {
    if (entryId)
      throw new ForkError(`entry ${entryId} not found: the source run has no session yet`);
    const fresh = privateSession(SessionManager.create(workdir, privateDir(sessionsDir(stateDir))));
    return { manager: fresh, file: fresh.getSessionFile()!, entryId: null };
  }
  const manager = openSession(sourceFile, stateDir, workdir);
  const target = entryId ?? manager.getLeafId();
  if (target === null) {
    const fresh = privateSession(SessionManager.create(workdir, privateDir(sessionsDir(stateDir))));
    return { manager: fresh, file: fresh.getSessionFile()!, entryId: null };
  }
  const entry = manager.getEntry(target);
  if (!entry) throw new ForkError(`entry ${target} is not in the source run's session`);
  let point: string | null = target;
  if (
    entry.type === "message" &&
    entry.message.role === "assistant" &&
    entry.message.content.some((c) => c.type === "toolCall")
  ) {
    point = entry.parentId;
  }
  if (point === null) {
    const fresh = privateSession(SessionManager.create(workdir, privateDir(sessionsDir(stateDir))));
    return { manager: fresh, file: fresh.getSessionFile()!, entryId: target };
  }
  const file = manager.createBranchedSession(point);
  if (!file) throw new ForkError("could not create the forked session file");
  return { manager, file, entryId: target };
}
