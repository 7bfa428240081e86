import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { DirectorySource, LakeConfigError, openLake, readQuery, sync } from "../../../lakehouse";
import { count, localLake, tempDir, withLake } from "../fixture";

describe("time travel", () => {
  it("reads the lake as of a snapshot id or a time, views included", async () => {
    const lines = [...syntheticEvents({ events: 2_000, days: 1, seed: 31 })].map(
      ({ cursor: _c, ...e }) => JSON.stringify(e),
    );
    const outbox = tempDir();
    const segment = join(outbox, "000000000000.ndjson");
    writeFileSync(segment, `${lines.slice(0, 800).join("\n")}\n`);
    const location = localLake();
    const then = await withLake(location, async (lake) => {
      await sync(lake, new DirectorySource(outbox), { compact: false });
      const snapshot = await readQuery(
        lake.connection,
        "SELECT snapshot_id, snapshot_time FROM ducklake_snapshots('memory') ORDER BY snapshot_id DESC LIMIT 1",
      );
      const row = snapshot.rows[0] as { snapshot_id: number; snapshot_time: string };
      return {
        version: row.snapshot_id,
        time: new Date(Date.parse(row.snapshot_time) + 1),
        runs: await count(lake, "SELECT count(*) FROM memory.runs"),
        failed: await count(lake, "SELECT count(*) FROM memory.failed_runs"),
      };
    });
    await new Promise((r) => setTimeout(r, 20));
    appendFileSync(segment, `${lines.slice(800).join("\n")}\n`);
    await withLake(location, (lake) => sync(lake, new DirectorySource(outbox), { compact: false }));

    for (const at of [{ version: then.version }, { time: then.time }]) {
      await withLake(
        location,
        async (lake) => {
          expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(800);
          expect(await count(lake, "SELECT count(*) FROM memory.runs")).toBe(then.runs);
          expect(await count(lake, "SELECT count(*) FROM memory.failed_runs")).toBe(then.failed);
        },
        { at },
      );
    }
    await withLake(
      location,
      async (lake) => expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(2_000),
      { readOnly: true },
    );
    await expect(openLake(location, { at: { version: 10_000 } })).rejects.toBeInstanceOf(
      LakeConfigError,
    );
  });
});
