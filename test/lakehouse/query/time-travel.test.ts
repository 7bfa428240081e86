import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import {
  DirectorySource,
  type Lake,
  LakeConfigError,
  type LakeLocation,
  openLake,
  readQuery,
  type SnapshotRef,
  snapshots,
  sync,
} from "../../../lakehouse";
import { count, localLake, tempDir, withLake } from "../fixture";

/** A lake synced from `batches` appends of synthetic events, a few milliseconds apart. */
async function syncedLake(batches: number[]): Promise<LakeLocation> {
  const lines = [
    ...syntheticEvents({ events: batches.reduce((a, b) => a + b), days: 1, seed: 7 }),
  ].map(({ cursor: _c, ...e }) => JSON.stringify(e));
  const outbox = tempDir();
  const segment = join(outbox, "000000000000.ndjson");
  const location = localLake();
  let done = 0;
  for (const size of batches) {
    appendFileSync(segment, `${lines.slice(done, done + size).join("\n")}\n`);
    done += size;
    await withLake(location, (lake) => sync(lake, new DirectorySource(outbox), { compact: false }));
    await new Promise((r) => setTimeout(r, 5));
  }
  return location;
}

/** The snapshot a lake attached at `at` reads, and the note it gave for it. */
async function readAt(location: LakeLocation, at: SnapshotRef) {
  return withLake(
    location,
    async (lake: Lake) => ({
      snapshot: await count(lake, "SELECT id FROM memory.current_snapshot()"),
      note: lake.note,
    }),
    { at },
  );
}

/** The snapshots as `memory snapshots` prints them, oldest first. */
async function printedSnapshots(location: LakeLocation) {
  const { rows } = await withLake(location, (lake) => snapshots(lake, 1_000), { readOnly: true });
  return rows
    .map((r) => ({ id: r.snapshot_id as number, time: r.snapshot_time as string }))
    .reverse();
}

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
        time: new Date(row.snapshot_time),
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

  it("reads the snapshot a time printed by `memory snapshots` names, though it lost its microseconds", async () => {
    const location = await syncedLake([300, 200]);
    const printed = await printedSnapshots(location);
    expect(printed.length).toBeGreaterThanOrEqual(4);
    const created = printed.find((s) => s.id === 1)!;
    for (const { id, time } of printed) {
      expect(time).toMatch(/\.\d{3}Z$/);
      // The end of the millisecond: a later snapshot in the same millisecond is read too.
      const last = Math.max(...printed.filter((s) => s.time === time).map((s) => s.id));
      const { snapshot } = await readAt(location, { time: new Date(time) });
      expect(snapshot, `--at ${time} (snapshot ${id})`).toBe(Math.max(last, created.id));
    }
    // One millisecond earlier is before it, unless another snapshot shares that millisecond.
    const data = printed.at(-1)!;
    const before = new Date(Date.parse(data.time) - 1);
    const earlier = printed.filter((s) => Date.parse(s.time) <= before.getTime()).at(-1)!;
    expect((await readAt(location, { time: before })).snapshot).toBe(earlier.id);
  }, 120_000);

  it("answers a time or snapshot before the lake's tables as of their creation: tables, no rows", async () => {
    const location = await syncedLake([300]);
    const printed = await printedSnapshots(location);
    // Snapshot 0 holds the lake's schema only; its tables come in the next.
    expect(printed[0]!.id).toBe(0);
    const created = printed[1]!;
    const ats: SnapshotRef[] = [
      { version: 0 },
      { time: new Date(printed[0]!.time) },
      { time: new Date(Date.parse(printed[0]!.time) - 60_000) },
    ];
    // A time between the schema and the tables, when the clock shows one.
    const between = Date.parse(created.time) - 1;
    if (between > Date.parse(printed[0]!.time)) ats.push({ time: new Date(between) });
    for (const at of ats)
      await withLake(
        location,
        async (lake) => {
          expect(lake.note).toMatch(/answering as of its creation \(no data yet\)/);
          expect(lake.note).toContain(
            "version" in at ? "after snapshot 0" : `after ${at.time.toISOString()}`,
          );
          expect(await count(lake, "SELECT id FROM memory.current_snapshot()")).toBe(created.id);
          expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(0);
          expect(await count(lake, "SELECT count(*) FROM memory.runs")).toBe(0);
          expect(await count(lake, "SELECT count(*) FROM memory.failed_runs")).toBe(0);
        },
        { at },
      );
    expect((await readAt(location, { version: created.id })).note).toBeUndefined();
    const latest = printed.at(-1)!;
    expect(await readAt(location, { version: latest.id })).toEqual({
      snapshot: latest.id,
      note: undefined,
    });
    await withLake(
      location,
      async (lake) => expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(300),
      { at: { time: new Date(latest.time) } },
    );
  }, 120_000);
});
