import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { CentralUnreachableError, Failure } from "../../../contract";
import { CentralSource, sync } from "../../../lakehouse";
import { type FakeCentral, startFakeCentral } from "../fake-central";
import { count, localLake, tableRows, withLake } from "../fixture";

let central: FakeCentral;
const events = [...syntheticEvents({ events: 1_200, days: 1, seed: 21 })].map(
  ({ cursor: _c, ...e }) => e,
);

beforeAll(async () => {
  central = await startFakeCentral("aegean-lab", 100);
});
afterAll(async () => {
  await central.close();
});

describe("CentralSource", () => {
  it("pages GET /v1/events from the lake's cursor and resumes there", async () => {
    central.append(events.slice(0, 700));
    const source = new CentralSource({ url: `${central.url}/`, key: central.key });
    expect(source.origin).toBe(`central:${central.url}#aegean-lab`);
    await withLake(localLake(), async (lake) => {
      const first = await sync(lake, source, { batchSize: 250 });
      expect(first).toMatchObject({ events: 700, batches: 3 });
      expect(central.pages.slice(0, 3)).toEqual([0, 100, 200]);
      const cursors = await tableRows(lake, "sync_cursors", ["updated_at"]);
      expect(cursors).toEqual([
        {
          origin: source.origin,
          file: "",
          position: 700,
          lines: 700,
          complete: false,
          fingerprint: null,
        },
      ]);

      central.pages.length = 0;
      central.append(events.slice(700));
      const second = await sync(lake, source, { batchSize: 250 });
      expect(second.events).toBe(500);
      expect(central.pages[0]).toBe(700);
      expect(await count(lake, "SELECT count(*) FROM memory.events")).toBe(1_200);
      expect(await count(lake, "SELECT max(cursor) FROM memory.events")).toBe(1_200);
      expect(await sync(lake, source)).toMatchObject({ batches: 0, events: 0 });
    });
  });

  it("quarantines an invalid event in a page instead of refusing the page", async () => {
    const other = await startFakeCentral("lab", 50);
    try {
      const good = events.slice(0, 3);
      other.append([good[0]!, { ...good[1]!, kind: "teleported" }, good[2]!]);
      await withLake(localLake(), async (lake) => {
        const report = await sync(lake, new CentralSource({ url: other.url, key: other.key }));
        expect(report).toMatchObject({ events: 2, quarantined: 1 });
        const [row] = await tableRows(lake, "quarantine");
        expect(row).toMatchObject({ position: "cursor 2", kind: "teleported" });
        expect(row!.reason).toMatch(/^invalid AgentEvent at kind/);
      });
    } finally {
      await other.close();
    }
  });

  it("fails with central's error for a bad key and says when central is unreachable", async () => {
    await withLake(localLake(), async (lake) => {
      const denied = sync(
        lake,
        new CentralSource({ url: central.url, key: "aur_admin_lab_wrong" }),
      );
      await expect(denied).rejects.toBeInstanceOf(Failure);
      await expect(denied).rejects.toMatchObject({ status: 401, code: "unauthorized" });
      const down = sync(lake, new CentralSource({ url: "http://127.0.0.1:9", key: central.key }));
      await expect(down).rejects.toBeInstanceOf(CentralUnreachableError);
      expect(await count(lake, "SELECT count(*) FROM memory.sync_cursors")).toBe(0);
    });
  });

  it("follows through an outage of central: waits, backs off, and carries on from its cursor", async () => {
    const flaky = await startFakeCentral("lab", 100);
    try {
      flaky.append(events.slice(0, 300));
      const stop = new AbortController();
      const outages: number[] = [];
      let synced = 0;
      await withLake(localLake(), async (lake) => {
        const following = sync(lake, new CentralSource({ url: flaky.url, key: flaky.key }), {
          follow: true,
          pollMs: 50,
          signal: stop.signal,
          onOutage: (error, failures) => {
            expect(error).toBeInstanceOf(Failure);
            outages.push(failures);
          },
          onBatch: (batch) => {
            synced += batch.events;
            if (outages.length === 0) {
              flaky.failNext(3);
              flaky.append(events.slice(300, 500));
            }
          },
        });
        await until(async () => synced === 500);
        stop.abort();
        const report = await following;
        expect(outages).toEqual([1, 2, 3]);
        expect(report.events).toBe(500);
      });
    } finally {
      await flaky.close();
    }
  });

  it("does not wait out a refused key, even when following", async () => {
    await withLake(localLake(), async (lake) => {
      const following = sync(
        lake,
        new CentralSource({ url: central.url, key: "aur_admin_lab_no" }),
        {
          follow: true,
          pollMs: 50,
        },
      );
      await expect(following).rejects.toMatchObject({ status: 401 });
    });
  });
});

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
