import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { AgentEvent, IngestResult, parse } from "../../../contract";
import { resolveLakeLocation } from "../../../lakehouse";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { runCli } from "../../helpers/cli";
import { count, tableRows, tempDir, withLake } from "../fixture";

/** Memory against the real central under `wrangler dev`: ingest with an agent key, then sync. */
let central: CentralDev;

beforeAll(async () => {
  central = await startCentralDev();
}, 180_000);
afterAll(async () => {
  await central?.stop();
});

async function ingest(key: string, events: readonly object[]) {
  const response = await fetch(`${central.url}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  const text = await response.text();
  expect(response.status, text).toBeLessThan(300);
  return parse(IngestResult, JSON.parse(text), "IngestResult");
}

describe("memory sync --from a real central", () => {
  it("projects what agents posted to POST /v1/events, then only what is new", async () => {
    const tenant = "memory-e2e";
    const admin = await createTenant(central.url, central.bootstrapKey, tenant);
    const agentKey = await createKey(central.url, admin, "agent", "lab-hosts");
    // Agents post only their own (edge) events; central's come from central itself.
    const events = [
      ...syntheticEvents({
        events: 3_000,
        days: 1,
        seed: 77,
        tenant,
        start: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    ]
      .filter((e) => e.source === "edge")
      .map(({ cursor: _c, ...e }) => e);
    const first = events.slice(0, 1_000);
    const rest = events.slice(1_000);
    for (let i = 0; i < first.length; i += 500) {
      const result = await ingest(agentKey, first.slice(i, i + 500));
      expect(result.rejected).toEqual([]);
    }

    const home = tempDir();
    const env = { AURAISON_HOME: home };
    const sync = () =>
      runCli(["memory", "sync", "--from", central.url, "--key", admin, "--json"], {
        env,
        timeoutMs: 120_000,
      });
    const one = await sync();
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({
      events: 1_000,
      quarantined: 0,
      origin: `central:${central.url}#${tenant}`,
    });

    for (let i = 0; i < rest.length; i += 500) await ingest(agentKey, rest.slice(i, i + 500));
    const two = await sync();
    expect(two.code, two.stderr).toBe(0);
    expect(JSON.parse(two.stdout)).toMatchObject({ events: rest.length, duplicates: 0 });

    const lake = resolveLakeLocation({}, `${home}/lake`, {});
    await withLake(
      lake,
      async (l) => {
        expect(await count(l, "SELECT count(*) FROM memory.events")).toBe(events.length);
        expect(await count(l, "SELECT count(DISTINCT cursor) FROM memory.events")).toBe(
          events.length,
        );
        const stored = new Map((await tableRows(l, "events")).map((r) => [r.event_id, r]));
        // Stored as the contract reads it: defaults filled in.
        for (const e of events.slice(0, 200))
          expect(JSON.parse(stored.get(e.event_id)!.payload as string)).toEqual(
            parse(AgentEvent, e, "event").payload,
          );
        const settled = await count(
          l,
          "SELECT count(*) FROM memory.runs WHERE status IN ('completed', 'failed') AND len(anomalies) = 0",
        );
        expect(settled).toBeGreaterThan(10);
      },
      { readOnly: true },
    );
  }, 300_000);
});
