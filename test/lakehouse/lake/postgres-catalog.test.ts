import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents, writeSegments } from "../../../bench/memory-synthetic";
import {
  DirectorySource,
  MIGRATIONS,
  openLake,
  resolveLakeLocation,
  sync,
} from "../../../lakehouse";
import { runCli } from "../../helpers/cli";
import { count, localLake, projectionDigest, tempDir, withLake, writeLog } from "../fixture";
import { startPostgres, type TestPostgres } from "../postgres";

let pg: TestPostgres;

beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

describe("PostgreSQL catalog", () => {
  it("takes two concurrent writers of overlapping logs: every event once, runs derived as by one", async () => {
    const events = [...syntheticEvents({ events: 8_000, days: 1, seed: 17 })];
    // Central's archive holds the first 6000 events; an edge outbox the last 5000 (3000 in common).
    const archive = tempDir();
    writeSegments(archive, events.slice(0, 6_000), { segment: 2_000 });
    const outbox = tempDir();
    writeLog(
      join(outbox, "000000000000.ndjson"),
      events.slice(3_000).map(({ cursor: _c, ...e }) => e),
    );
    const data = tempDir();
    const lake = ["memory", "--catalog", `postgres:${pg.conninfo}`, "--data-path", data];
    const writer = (dir: string) =>
      runCli([...lake, "sync", "--from-dir", dir, "--batch-size", "400"], { timeoutMs: 240_000 });
    const [a, b] = await Promise.all([writer(archive), writer(outbox)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);

    const reference = localLake();
    await withLake(reference, (l) => sync(l, new DirectorySource(archive)));
    const tail = tempDir();
    writeSegments(tail, events.slice(6_000), { segment: 2_000 });
    await withLake(reference, (l) => sync(l, new DirectorySource(tail)));
    const expected = await withLake(reference, projectionDigest, { readOnly: true });

    const shared = resolveLakeLocation({ catalog: `postgres:${pg.conninfo}` }, tempDir(), {});
    await withLake(
      shared,
      async (l) => {
        expect(await count(l, "SELECT count(*) FROM memory.events")).toBe(8_000);
        expect(await count(l, "SELECT count(DISTINCT event_id) FROM memory.events")).toBe(8_000);
        const digest = await projectionDigest(l);
        for (const table of Object.keys(expected).filter((t) => t !== "events"))
          expect(digest[table], table).toEqual(expected[table]);
        expect(await count(l, "SELECT count(DISTINCT origin) FROM memory.sync_cursors")).toBe(2);
      },
      { readOnly: true },
    );

    const read = await runCli([...lake, "runs", "--failed", "--limit", "3", "--json"]);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toHaveLength(3);
  }, 300_000);

  it("lets writers that start at once create a new lake together", async () => {
    const conninfo = await pg.database("fresh");
    const location = resolveLakeLocation(
      { catalog: `postgres:${conninfo}`, dataPath: tempDir() },
      tempDir(),
      {},
    );
    const lakes = await Promise.all([1, 2, 3, 4].map(() => openLake(location, { env: {} })));
    try {
      const applied = await lakes[0]!.connection.runAndReadAll(
        "SELECT version FROM memory.schema_migrations ORDER BY version",
      );
      expect(applied.getRows().flat()).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      for (const lake of lakes) lake.close();
    }
  }, 120_000);
});
