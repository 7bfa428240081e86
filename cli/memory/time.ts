import type { SnapshotRef } from "../../lakehouse/lake/location";
import { parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";

/** `--since`: an ISO time, or a duration back from now (`1d` = the last 24 hours). */
export function parseSince(text: string): Date {
  return instant(text, "--since");
}

/**
 * `--at`: a snapshot id (`42`), an ISO time, or a duration back from now (`2h`). A time is kept
 * to the millisecond and read as of that millisecond's end (see SnapshotRef), so the times
 * `memory snapshots` prints, to the millisecond, read their own snapshots.
 */
export function parseAt(text: string): SnapshotRef {
  if (/^\d+$/.test(text.trim())) return { version: Number(text.trim()) };
  return { time: instant(text, "--at") };
}

function instant(text: string, flag: string): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = new Date(text);
    if (Number.isNaN(at.getTime()))
      throw new CliError(`${flag}: '${text}' is not a valid time`, EXIT.usage);
    return at;
  }
  return new Date(Date.now() - parseDuration(text, flag));
}
