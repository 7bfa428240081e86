import { join } from "node:path";
import { expect } from "vitest";
import { syntheticEvents, writeSegments } from "../../bench/memory-synthetic";
import { DirectorySource, type Lake, sync } from "../../lakehouse";
import { runCli } from "../helpers/cli";
import { count, localLake, projectionDigest, tempDir, withLake, writeLog } from "./fixture";

/**
 * Two `memory sync` writers at once on one lake (`lakeArgs`: its catalog and data path), of
 * overlapping logs: central's archive holds the first two thirds of the events, an edge outbox
 * the last two thirds. Returns a check that the shared lake holds every event once and the runs
 * as one writer syncing the whole log derives them.
 */
export async function twoWriters(options: {
  events: number;
  seed: number;
  lakeArgs: string[];
  env?: NodeJS.ProcessEnv;
  batchSize: number;
}): Promise<(lake: Lake) => Promise<void>> {
  const { events: n } = options;
  const events = [...syntheticEvents({ events: n, days: 1, seed: options.seed })];
  const cut = Math.round((n * 2) / 3);
  const segment = Math.round(n / 6);
  const archive = tempDir();
  writeSegments(archive, events.slice(0, cut), { segment });
  const outbox = tempDir();
  writeLog(
    join(outbox, "000000000000.ndjson"),
    events.slice(n - cut).map(({ cursor: _c, ...e }) => e),
  );
  const writer = (dir: string) =>
    runCli(
      [...options.lakeArgs, "sync", "--from-dir", dir, "--batch-size", String(options.batchSize)],
      { env: options.env, timeoutMs: 400_000 },
    );
  const [a, b] = await Promise.all([writer(archive), writer(outbox)]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);

  const reference = localLake();
  await withLake(reference, (l) => sync(l, new DirectorySource(archive)));
  const tail = tempDir();
  writeSegments(tail, events.slice(cut), { segment });
  await withLake(reference, (l) => sync(l, new DirectorySource(tail)));
  const expected = await withLake(reference, projectionDigest, { readOnly: true });

  return async (lake) => {
    expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(n);
    expect(await count(lake, "SELECT count(DISTINCT event_id) FROM memory.events")).toBe(n);
    const digest = await projectionDigest(lake);
    for (const table of Object.keys(expected).filter((t) => t !== "events"))
      expect(digest[table], table).toEqual(expected[table]);
    expect(await count(lake, "SELECT count(DISTINCT origin) FROM memory.sync_cursors")).toBe(2);
  };
}
