import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Archive } from "../../../central/events/archive";
import { EventLog } from "../../../central/events/event-log";
import { EventReader } from "../../../central/events/reader";
import { createLogger } from "../../../central/log";
import { uuidv7 } from "../../../contract";
import { advanceClock, call, json, newKey, newTenant, putSettings } from "../support";
import type { TenantAgent } from "../test-worker";

const HOUR = 3_600_000;

async function ingest(tenant: string, agentKey: string, count: number): Promise<void> {
  const batch = Array.from({ length: count }, (_, i) => ({
    event_id: uuidv7(),
    tenant,
    run_id: null,
    agent_id: "edge-1",
    source: "edge",
    seq: i,
    kind: "heartbeat",
    payload: { status: "online", running: [], outbox_pending: 0, load: null },
    ts: new Date().toISOString(),
  }));
  await json(await call("POST", "/v1/events", { key: agentKey, body: { events: batch } }), 200);
}

/** The tenant's R2 bucket, whose first `get` waits until the test releases it. */
function heldBucket(bucket: R2Bucket) {
  let entered!: () => void;
  let release!: () => void;
  const firstGet = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held: Pick<R2Bucket, "get"> = {
    get: (async (key: string) => {
      entered();
      await released;
      return bucket.get(key);
    }) as R2Bucket["get"],
  };
  return { bucket: held as R2Bucket, firstGet, release };
}

describe("EventReader", () => {
  // Reading a segment from R2 lets other requests in; the page must read SQLite from the prune
  // line as it is after the read, not as it was before (central/events/reader.ts).
  it("skips no event the archive prunes while a page waits on an R2 segment", async () => {
    const { tenant, admin } = await newTenant("rd");
    const agentKey = (await newKey(admin, "agent")).key;
    const archive = (retention_ms: number) => ({
      archive: {
        segment_max_events: 10,
        seal_after_ms: 24 * HOUR,
        retention_ms,
        dedupe_window_ms: 24 * HOUR,
      },
    });
    // Cursors 1-10 sealed and pruned: only in R2.
    await putSettings(admin, archive(0));
    await ingest(tenant, agentKey, 10);
    await advanceClock(tenant, 0);
    // Cursors 11-30 sealed (two full segments) but kept in SQLite for an hour; 31-35 unsealed.
    await putSettings(admin, archive(HOUR));
    await ingest(tenant, agentKey, 25);
    await advanceClock(tenant, 0);

    const cursors = await runInDurableObject(
      env.TENANT.getByName(tenant),
      async (agent: TenantAgent, state) => {
        // A reader like the tenant's own, over the same storage, with the held bucket.
        const r2 = heldBucket(env.ARCHIVE);
        const log = new EventLog(state.storage, () => Date.now());
        const archived = new Archive(
          state.storage,
          r2.bucket,
          tenant,
          log,
          () => Date.now(),
          createLogger(),
        );
        const reader = new EventReader(log, archived);
        expect(archived.prunedThrough()).toBe(10);

        const page = reader.page(0, 1000, {});
        await r2.firstGet; // the page waits on segment 1-10 from R2...
        await agent.advanceClock(HOUR + 1_000); // ...while the archive prunes 11-30 from SQLite
        expect(archived.prunedThrough()).toBe(30);
        r2.release();
        const { items, has_more } = await page;
        expect(has_more).toBe(false);
        return items.map((i) => i.cursor);
      },
    );
    expect(cursors).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
  });
});
