import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents, writeSegments } from "../../../bench/memory-synthetic";
import {
  compact,
  DirectorySource,
  type Lake,
  type LakeLocation,
  lakeFiles,
  resolveLakeLocation,
  sync,
} from "../../../lakehouse";
import { runCli } from "../../helpers/cli";
import { count, localLake, projectionDigest, tempDir, withLake } from "../fixture";
import { startPostgres, type TestPostgres } from "../postgres";
import { startS3, type TestS3 } from "../s3";
import { twoWriters } from "../two-writers";

let s3: TestS3;
let pg: TestPostgres | undefined;

beforeAll(async () => {
  s3 = await startS3();
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  await pg?.stop();
});

/** The object keys (under the bucket) of every data and delete file the lake references. */
async function referencedKeys(lake: Lake, bucket: string): Promise<string[]> {
  const tables = await lake.connection.runAndReadAll(
    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory'",
  );
  const keys: string[] = [];
  for (const [table] of tables.getRows()) {
    const files = await lake.connection.runAndReadAll(
      `SELECT data_file, delete_file FROM ducklake_list_files('memory', '${String(table)}')`,
    );
    for (const row of files.getRows())
      for (const file of row)
        if (file !== null) keys.push(String(file).replace(`s3://${bucket}/`, ""));
  }
  return keys.sort();
}

/** The requests to a bucket the server answered with success that match `pattern`. */
function served(server: TestS3, bucket: string) {
  const requests = server.requests().filter((r) => r.includes(`/${bucket}`) && / 20\d$/.test(r));
  return (pattern: RegExp) => requests.filter((r) => pattern.test(r));
}

function twoHalves(events: number, seed: number) {
  const all = [...syntheticEvents({ events, days: 2, seed })];
  const first = tempDir();
  writeSegments(first, all.slice(0, events / 2), { segment: 1_500 });
  const second = tempDir();
  writeSegments(second, all.slice(events / 2), { segment: 1_500 });
  const whole = tempDir();
  writeSegments(whole, all, { segment: 1_500 });
  return { first, second, whole };
}

describe("the lake's data in an S3 bucket (moto's S3 server)", () => {
  it("syncs, answers queries, travels in time, compacts, expires and rebuilds with every Parquet byte in the bucket", async () => {
    const bucket = "lab-memory";
    const dataPath = `${await s3.bucket(bucket)}lake/`;
    const { first, second, whole } = twoHalves(6_000, 31);
    const dir = tempDir();
    const env = { ...s3.env, AURAISON_HOME: tempDir() };
    const cli = (...args: string[]) =>
      runCli(["memory", "--lake", dir, "--data-path", dataPath, ...args], {
        env,
        timeoutMs: 180_000,
      });
    const location: LakeLocation = resolveLakeLocation({ dir, dataPath }, dir, {});
    const inLake = <T>(work: (lake: Lake) => Promise<T>, readOnly = true) =>
      withLake(location, work, { readOnly, env: s3.env });

    const synced = await cli("sync", "--from-dir", first);
    expect(synced.code, synced.stderr).toBe(0);
    const keys = await s3.list(bucket, "lake/");
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.endsWith(".parquet"))).toBe(true);
    // Nothing but the catalog is local.
    expect(readdirSync(dir).filter((f) => !f.startsWith("catalog.sqlite"))).toEqual([]);
    const halfway = await inLake(async (l) =>
      count(l, "SELECT max(snapshot_id) FROM ducklake_snapshots('memory')"),
    );

    expect((await cli("sync", "--from-dir", second)).code).toBe(0);
    const sql = async (query: string, ...flags: string[]) => {
      const out = await cli("sql", query, "--json", ...flags);
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as Record<string, unknown>[];
    };
    expect(await sql("SELECT count(*)::INTEGER AS n FROM events")).toEqual([{ n: 6_000 }]);
    expect(await sql("SELECT count(*)::INTEGER AS n FROM events", "--at", String(halfway))).toEqual(
      [{ n: 3_000 }],
    );
    const failed = await cli("runs", "--failed", "--limit", "3", "--json");
    expect(failed.code, failed.stderr).toBe(0);
    expect(JSON.parse(failed.stdout)).toHaveLength(3);

    // The bucket's lake holds what a local lake of the same log holds.
    const reference = localLake();
    await withLake(reference, async (l) => {
      await sync(l, new DirectorySource(first));
      await sync(l, new DirectorySource(second));
    });
    const expected = await withLake(reference, projectionDigest, { readOnly: true });
    expect(await inLake(projectionDigest)).toEqual(expected);

    // Compaction merges files in the bucket; expiring every older snapshot deletes the replaced
    // files from it, leaving exactly the files the lake references.
    await inLake(async (l) => {
      await compact(l.connection, { flushInlinedAt: 0 });
      const files = await lakeFiles(l.connection);
      expect(files).toMatchObject({ deleteFiles: 0, inlinedRows: 0 });
      // Merged files stay, for time travel, until their snapshots expire.
      const stored = (await s3.list(bucket, "lake/")).length;
      expect(stored).toBeGreaterThan(files.files);
      await compact(l.connection, { expireBefore: new Date(Date.now() + 1_000) });
      expect(await s3.list(bucket, "lake/")).toEqual(await referencedKeys(l, bucket));
    }, false);
    expect(await inLake(projectionDigest)).toEqual(expected);

    // A rebuild from the lake's own log, and one from the archive, give the same lake.
    const rebuilt = await cli("rebuild");
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(await inLake(projectionDigest)).toEqual(expected);
    const replayed = await cli("rebuild", "--from-dir", whole, "--batch-size", "2000");
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(await inLake(projectionDigest)).toEqual(expected);

    // What the server answered: uploads, ranged reads, listings, deletes.
    const answered = served(s3, bucket);
    expect(answered(/^PUT \/lab-memory\/lake\/\S+\.parquet /).length).toBeGreaterThan(10);
    expect(answered(/^GET \/lab-memory\/lake\/\S+\.parquet /).length).toBeGreaterThan(10);
    expect(answered(/^GET \/lab-memory\/\?\S*list-type=2/).length).toBeGreaterThan(0);
    expect(
      answered(/^(DELETE \/lab-memory\/lake\/|POST \/lab-memory\/\?delete)/).length,
    ).toBeGreaterThan(0);
  }, 600_000);

  it("uploads a data file larger than one part as an S3 multipart upload", async () => {
    const bucket = "large-files";
    const dataPath = `${await s3.bucket(bucket)}lake/`;
    const log = tempDir();
    writeSegments(log, syntheticEvents({ events: 30_000, days: 1, seed: 7 }), { segment: 10_000 });
    const dir = tempDir();
    const location = resolveLakeLocation({ dir, dataPath }, dir, {});
    await withLake(
      location,
      async (l) => {
        // Uncompressed, so a test-sized log makes a file larger than a part.
        await l.connection.run("CALL memory.set_option('parquet_compression', 'uncompressed')");
        await sync(l, new DirectorySource(log), { compact: false });
        const largest = await count(
          l,
          "SELECT max(data_file_size_bytes) FROM ducklake_list_files('memory', 'events')",
        );
        expect(largest).toBeGreaterThan(5 * 2 ** 20);
        expect(await count(l, "SELECT count(DISTINCT event_id) FROM memory.events")).toBe(30_000);
      },
      // The smallest parts httpfs makes (S3's minimum, 5 MiB): 50 GB over 10,000 parts.
      { env: s3.env, config: { s3_uploader_max_filesize: "50GB" } },
    );
    const answered = served(s3, bucket);
    expect(answered(/^POST \/large-files\/lake\/\S+\.parquet\?uploads/).length).toBeGreaterThan(0);
    expect(
      answered(/^PUT \/large-files\/lake\/\S+\.parquet\?\S*partNumber=2/).length,
    ).toBeGreaterThan(0);
    expect(answered(/^POST \/large-files\/lake\/\S+\.parquet\?uploadId=/).length).toBeGreaterThan(
      0,
    );
  }, 600_000);

  it("takes two writers at once through the PostgreSQL catalog, with the data in the bucket", async () => {
    pg = await startPostgres();
    const bucket = "shared-memory";
    const dataPath = `${await s3.bucket(bucket)}lake/`;
    const lake = ["memory", "--catalog", `postgres:${pg.conninfo}`, "--data-path", dataPath];
    const check = await twoWriters({
      events: 6_000,
      seed: 41,
      lakeArgs: lake,
      env: s3.env,
      batchSize: 500,
    });
    // A reader given only the catalog finds the bucket (and its secret) from it.
    const shared = resolveLakeLocation({ catalog: `postgres:${pg.conninfo}` }, tempDir(), {});
    await withLake(
      shared,
      async (l) => {
        await check(l);
        expect(await s3.list(bucket, "lake/")).toEqual(
          expect.arrayContaining(await referencedKeys(l, bucket)),
        );
      },
      { readOnly: true, env: s3.env },
    );
  }, 600_000);
});
