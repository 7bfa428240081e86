import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("../fixtures/file-size-limit.ts", import.meta.url));

/**
 * Runs test/edge/fixtures/file-size-limit.ts (`what` into `path`) in a child under a 6 KiB
 * file-size limit (`ulimit -f`), where a write(2) past the limit comes back short with no error
 * and the next one fails (EFBIG), as on a full disk; returns what it printed.
 */
export function writeUnderFileSizeLimit(what: "append-all" | "outbox" | "rejected", path: string) {
  const child = spawnSync(
    "bash",
    [
      "-c",
      'ulimit -f 6 && exec "$0" --import tsx "$1" "$2" "$3"',
      process.execPath,
      FIXTURE,
      what,
      path,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  if (child.status !== 0)
    throw new Error(`fixture ${what} failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}
