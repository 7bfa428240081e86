import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents, writeSegments } from "../../../bench/memory-synthetic";
import {
  type Cursor,
  DirectorySource,
  type EventSource,
  type Lake,
  readQuery,
  rebuildFrom,
  resolveLakeLocation,
  type SourceBatch,
  sync,
} from "../../../lakehouse";
import { runCli } from "../../helpers/cli";
import { localLake, projectionDigest, tempDir, withLake } from "../fixture";
import { runAndKill } from "../kill";

/** A source that fails on its `failAt`-th read, as a disk or central going away would. */
class FailingSource implements EventSource {
  readonly origin: string;
  private reads = 0;

  constructor(
    private readonly inner: EventSource,
    private readonly failAt: number,
  ) {
    this.origin = inner.origin;
  }

  async next(cursors: readonly Cursor[], max: number): Promise<SourceBatch | null> {
    this.reads += 1;
    if (this.reads >= this.failAt) throw new Error("the archive disk went away");
    return this.inner.next(cursors, max);
  }

  isOutage(): boolean {
    return false;
  }
}

/** Everything a reader sees: every table, the cursors and quarantine, and the named views. */
async function everything(lake: Lake): Promise<Record<string, unknown[]>> {
  const read = async (sql: string) => (await readQuery(lake.connection, sql)).rows;
  return {
    ...(await projectionDigest(lake)),
    origins: await read("SELECT DISTINCT origin FROM memory.events ORDER BY ALL"),
    cursors: await read(
      "SELECT origin, file, position, lines, complete FROM memory.sync_cursors ORDER BY ALL",
    ),
    quarantine: await read("SELECT * FROM memory.quarantine ORDER BY ALL"),
    failed: await read("SELECT * FROM memory.failed_runs ORDER BY ALL"),
    costs: await read("SELECT * FROM memory.cost_by_app_model ORDER BY ALL"),
  };
}

function logs() {
  const events = [...syntheticEvents({ events: 12_000, days: 1, seed: 23 })];
  const before = tempDir();
  writeSegments(before, events.slice(0, 5_000), { segment: 2_500 });
  const replacement = tempDir();
  writeSegments(replacement, events, { segment: 3_000 });
  return { before, replacement };
}

describe("memory rebuild --from-dir", () => {
  it("that fails mid-way leaves the previous lake exactly as it was", async () => {
    const { before, replacement } = logs();
    await withLake(localLake(), async (lake) => {
      await sync(lake, new DirectorySource(before), { compact: false });
      const previous = await everything(lake);
      expect(previous.events).toHaveLength(5_000);

      // Three batches are written (inside the rebuild's transaction) before the source fails.
      const failing = new FailingSource(new DirectorySource(replacement), 4);
      let batches = 0;
      await expect(
        rebuildFrom(lake, failing, { batchSize: 3_000, onBatch: () => (batches += 1) }),
      ).rejects.toThrow(/the archive disk went away/);
      expect(batches).toBeGreaterThanOrEqual(1);
      expect(await everything(lake)).toEqual(previous);

      // The same lake takes a rebuild that completes, which replaces everything.
      const done = await rebuildFrom(lake, new DirectorySource(replacement), { batchSize: 3_000 });
      expect(done.events).toBe(12_000);
      const clean = localLake();
      await withLake(clean, (l) => sync(l, new DirectorySource(replacement)));
      const expected = await withLake(clean, projectionDigest, { readOnly: true });
      expect(await projectionDigest(lake)).toEqual(expected);
    });
  }, 240_000);

  it("killed mid-way (SIGKILL) leaves the previous lake as it was; the re-run replaces it", async () => {
    const { before, replacement } = logs();
    const home = tempDir();
    const env = { AURAISON_HOME: home };
    const sync0 = await runCli(["memory", "sync", "--from-dir", before], {
      env,
      timeoutMs: 120_000,
    });
    expect(sync0.code, sync0.stderr).toBe(0);
    const location = resolveLakeLocation({}, join(home, "lake"), {});
    const previous = await withLake(location, everything, { readOnly: true });

    const args = ["memory", "rebuild", "--from-dir", replacement, "--batch-size", "2000"];
    const killed = await runAndKill(args, env, 3);
    expect(killed.signal).toBe("SIGKILL");
    expect(await withLake(location, everything, { readOnly: true })).toEqual(previous);

    const rerun = await runCli(args, { env, timeoutMs: 180_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const clean = localLake();
    await withLake(clean, (l) => sync(l, new DirectorySource(replacement)));
    const expected = await withLake(clean, projectionDigest, { readOnly: true });
    await withLake(location, async (l) => expect(await projectionDigest(l)).toEqual(expected), {
      readOnly: true,
    });
  }, 300_000);
});
