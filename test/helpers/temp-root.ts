import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * vitest globalSetup: every temporary file of the run (the tests', and those of the processes
 * they start: wrangler dev's state, PostgreSQL's data, lakes, sockets) goes under one directory
 * that is removed when the run ends. Cleanup inside a test file cannot do this: vitest ends its
 * workers without an `exit` event, so a state directory that must outlive a test's `stop()` (for
 * its `restart()`) was left in /tmp by every file that started central.
 */
export default function setup(): () => void {
  // Short: Ray's sockets sit seven levels under it and a socket's path has at most 107 bytes.
  const root = mkdtempSync(join(tmpdir(), "au-"));
  // PostgreSQL's initdb runs as its own user and reads a file made here; nobody else writes here.
  chmodSync(root, 0o755);
  // Workers are started after global setup and inherit the environment, as their children do.
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true, maxRetries: 5 });
}
