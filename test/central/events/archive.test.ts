import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gunzip } from "../../../central/events/archive";
import { StoredEvent, uuidv7 } from "../../../contract";
import { advanceClock, call, events, json, newKey, newTenant, putSettings } from "../support";

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
});
