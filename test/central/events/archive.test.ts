import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gunzip } from "../../../central/events/archive";
import { readSse } from "../../../cli/sse";
import { StoredEvent, uuidv7 } from "../../../contract";
import {
  advanceClock,
  call,
  central,
  events,
  json,
  newKey,
  newTenant,
  putSettings,
  submit,
} from "../support";

const HOUR = 3_600_000;

/** Seals every two events at once; `retention_ms` says whether they then leave SQLite at once. */
function archiveEvery2(retention_ms: number) {
  return {
    archive: { segment_max_events: 2, seal_after_ms: 0, retention_ms, dedupe_window_ms: HOUR },
  };
}

/** Deletes the tenant's R2 segments: a read that reaches the archive fails from then on. */
async function dropArchive(tenant: string): Promise<void> {
  const listed = await env.ARCHIVE.list({ prefix: `events/${tenant}/` });
  expect(listed.objects.length).toBeGreaterThan(0);
  await env.ARCHIVE.delete(listed.objects.map((o) => o.key));
}

async function ingest(
  tenant: string,
  agentKey: string,
  count: number,
  runId: string | null = null,
) {
  const batch = Array.from({ length: count }, (_, i) => ({
    event_id: uuidv7(),
    tenant,
    run_id: runId,
    agent_id: i % 2 ? "edge-odd" : "edge-even",
    source: "edge",
    seq: i,
    kind: i % 3 ? "heartbeat" : "error",
    payload:
      i % 3
        ? { status: "online", running: [], outbox_pending: 0, load: null }
        : { category: "tool", code: "e", message: `event ${i}`, fatal: false },
    ts: new Date().toISOString(),
  }));
  await json(await call("POST", "/v1/events", { key: agentKey, body: { events: batch } }), 200);
  return batch;
}

describe("R2 archive", () => {
  it("seals old events into gzip NDJSON segments keyed by tenant and cursor range, prunes them, and pages across R2 and SQLite", async () => {
    const { tenant, admin } = await newTenant("ar");
    const agentKey = (await newKey(admin, "agent")).key;
    const sent = await ingest(tenant, agentKey, 25);
    await putSettings(admin, {
      archive: {
        segment_max_events: 10,
        seal_after_ms: 0,
        retention_ms: 0,
        dedupe_window_ms: 3_600_000,
      },
    });
    const stub = env.TENANT.getByName(tenant);
    // The timer seals every segment and prunes SQLite down to what is unsealed.
    await advanceClock(tenant, 0);
    const keys = (await env.ARCHIVE.list({ prefix: `events/${tenant}/` })).objects.map(
      (o) => o.key,
    );
    expect(keys).toEqual([
      `events/${tenant}/000000000001-000000000010.ndjson.gz`,
      `events/${tenant}/000000000011-000000000020.ndjson.gz`,
      `events/${tenant}/000000000021-000000000025.ndjson.gz`,
    ]);
    const segment = await env.ARCHIVE.get(keys[0]!);
    const lines = (await gunzip(segment!.body)).trimEnd().split("\n");
    expect(lines).toHaveLength(10);
    const first = StoredEvent.parse(JSON.parse(lines[0]!));
    expect(first).toMatchObject({ cursor: 1, event_id: sent[0]!.event_id });
    const live = await runInDurableObject(
      stub,
      (_a, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n,
    );
    expect(live).toBe(0);

    // New events stay in SQLite; the cursor API reads R2 then SQLite without a gap.
    await putSettings(admin, {
      archive: {
        segment_max_events: 10,
        seal_after_ms: 3_600_000,
        retention_ms: 0,
        dedupe_window_ms: 3_600_000,
      },
    });
    const later = await ingest(tenant, agentKey, 5);
    const all: number[] = [];
    let after = 0;
    for (;;) {
      const page = await events(admin, `&after=${after}`, 7);
      all.push(...page.events.map((e) => e.cursor));
      if (!page.has_more) break;
      after = page.next_cursor;
    }
    expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const full = await events(admin);
    expect(full.events.map((e) => e.event_id)).toEqual([...sent, ...later].map((e) => e.event_id));

    // Filters apply in the archive too.
    const odd = await events(admin, "&agent=edge-odd&kind=error");
    expect(odd.events.every((e) => e.agent_id === "edge-odd" && e.kind === "error")).toBe(true);
    expect(odd.events.map((e) => e.cursor)).toEqual(
      full.events
        .filter((e) => e.agent_id === "edge-odd" && e.kind === "error")
        .map((e) => e.cursor),
    );

    // Pruned events still deduplicate: resending them stores nothing.
    const resent = await json<{ stored: number; duplicates: number }>(
      await call("POST", "/v1/events", { key: agentKey, body: { events: sent.slice(0, 10) } }),
      200,
    );
    expect(resent).toEqual({ stored: 0, duplicates: 10, rejected: [] });
  });

  it("reads a run from its first event: found in the first page, R2 untouched while the run is all in SQLite", async () => {
    const { tenant, admin } = await newTenant("ar");
    const agentKey = (await newKey(admin, "agent")).key;
    await putSettings(admin, archiveEvery2(0));
    const early = uuidv7();
    const earlyEvents = await ingest(tenant, agentKey, 2, early);
    // Ten segments of other events after it: more than one page reads from R2 (8 segments).
    await ingest(tenant, agentKey, 20);
    await advanceClock(tenant, 0);
    await putSettings(admin, archiveEvery2(HOUR));
    const late = uuidv7();
    const lateEvents = await ingest(tenant, agentKey, 3, late);
    const ids = (page: { events: { event_id: string }[] }) => page.events.map((e) => e.event_id);

    const latePage = await events(admin, `&run=${late}`);
    expect(ids(latePage)).toEqual(lateEvents.map((e) => e.event_id));
    expect(latePage).toMatchObject({ has_more: false, next_cursor: 25 });
    // A run whose first event is only in R2 is read from there.
    expect(ids(await events(admin, `&run=${early}`))).toEqual(earlyEvents.map((e) => e.event_id));

    await dropArchive(tenant);
    expect(ids(await events(admin, `&run=${late}`))).toEqual(lateEvents.map((e) => e.event_id));
    // A run with no event yet has none anywhere in the log.
    const { run } = await submit(admin, { targets: [{ app: "nobody" }] });
    expect(await events(admin, `&run=${run.run_id}`)).toEqual({
      events: [],
      next_cursor: 25,
      has_more: false,
    });
    // `auraison intent submit --wait` follows a run from cursor 0 on the stream.
    const stream = await central(
      new Request(`http://central/v1/events/stream?run=${late}&after=0`, {
        headers: { authorization: `Bearer ${admin}` },
      }),
    );
    const replayed: string[] = [];
    for await (const message of readSse(stream.body!)) {
      expect(message.event).toBe("event");
      replayed.push(JSON.parse(message.data).event_id);
      if (replayed.length === lateEvents.length) break;
    }
    expect(replayed).toEqual(lateEvents.map((e) => e.event_id));
  });

  it("reads the newest events of a filter across R2 and SQLite, and R2 only when SQLite has too few", async () => {
    const { tenant, admin } = await newTenant("ar");
    const agentKey = (await newKey(admin, "agent")).key;
    await putSettings(admin, archiveEvery2(0));
    // Every third event is an error: cursors 1, 4, 7, 10 in R2, then 13 and 16 in SQLite.
    await ingest(tenant, agentKey, 12);
    await advanceClock(tenant, 0);
    await putSettings(admin, archiveEvery2(HOUR));
    await ingest(tenant, agentKey, 6);
    const cursors = (page: { events: { cursor: number }[] }) => page.events.map((e) => e.cursor);

    const tail = await events(admin, "&kind=error&tail=true", 4);
    expect(cursors(tail)).toEqual([7, 10, 13, 16]);
    expect(tail).toMatchObject({ next_cursor: 16, has_more: false });
    expect(cursors(await events(admin, "&kind=error&tail=true&after=10", 4))).toEqual([13, 16]);

    await dropArchive(tenant);
    expect(cursors(await events(admin, "&kind=error&tail=true", 2))).toEqual([13, 16]);
  });
});
