import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents, writeSegments } from "../../../bench/memory-synthetic";
import { DirectorySource, resolveLakeLocation, sync } from "../../../lakehouse";
import { runCli } from "../../helpers/cli";
import { count, localLake, projectionDigest, tempDir, withLake } from "../fixture";
import { runAndKill } from "../kill";

describe("a sync killed mid-way", () => {
  it("re-runs to exactly the rows of a clean run: no duplicates, nothing lost", async () => {
    const logDir = tempDir();
    writeSegments(logDir, syntheticEvents({ events: 40_000, days: 1, seed: 99 }), {
      segment: 10_000,
    });
    const home = tempDir();
    const env = { AURAISON_HOME: home };
    const args = ["memory", "sync", "--from-dir", logDir, "--batch-size", "2500"];

    const killed = await runAndKill(args, env, 3);
    expect(killed.signal).toBe("SIGKILL");
    const lake = resolveLakeLocation({}, join(home, "lake"), {});
    await withLake(
      lake,
      async (l) => {
        // What the killed process committed is whole batches, each with its cursor.
        const events = await count(l, "SELECT count(*) FROM memory.events");
        expect(events % 2_500).toBe(0);
        expect(events).toBeGreaterThanOrEqual(3 * 2_500);
        expect(events).toBeLessThan(40_000);
        expect(await count(l, "SELECT sum(lines) FROM memory.sync_cursors")).toBe(events);
      },
      { readOnly: true },
    );

    const rerun = await runCli(args, { env, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const clean = localLake();
    await withLake(clean, (l) => sync(l, new DirectorySource(logDir)));
    const expected = await withLake(clean, projectionDigest, { readOnly: true });
    await withLake(
      lake,
      async (l) => {
        expect(await count(l, "SELECT count(*) FROM memory.events")).toBe(40_000);
        expect(await count(l, "SELECT count(DISTINCT event_id) FROM memory.events")).toBe(40_000);
        expect(await projectionDigest(l)).toEqual(expected);
      },
      { readOnly: true },
    );
  }, 180_000);
});
