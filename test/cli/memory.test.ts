import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents, writeSegments } from "../../bench/memory-synthetic";
import { SCHEMA_VERSION } from "../../lakehouse";
import { BIN, runCli } from "../helpers/cli";
import { type FakeCentral, startFakeCentral } from "../lakehouse/fake-central";
import { tempDir } from "../lakehouse/fixture";

const home = tempDir("auraison-cli-memory-");
const env = { AURAISON_HOME: home };
const events = [...syntheticEvents({ events: 4_000, days: 2, seed: 41 })];
const logDir = tempDir();
writeSegments(logDir, events, { segment: 1_000 });
const end = events.at(-1)!.ts;
const dayBefore = new Date(Date.parse(end) - 86_400_000).toISOString();

const cli = (args: string[], timeoutMs = 60_000) => runCli(["memory", ...args], { env, timeoutMs });
const json = async (args: string[]) => {
  const result = await cli([...args, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
};

beforeAll(async () => {
  const result = await cli(["sync", "--from-dir", logDir, "--batch-size", "1500"]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/^synced 4000 events from dir:.* in 3 batches/);
  expect(result.stderr.match(/^batch: /gm)).toHaveLength(3);
}, 120_000);

describe("auraison memory", () => {
  it("lists its commands", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const sub of [
      "sync",
      "rebuild",
      "sql",
      "runs",
      "costs",
      "slow-tools",
      "denials",
      "snapshots",
      "status",
      "compact",
    ])
      expect(help.stdout).toMatch(new RegExp(`^  ${sub}\\b`, "m"));
  });

  it("answers the named queries as a table, JSON or CSV", async () => {
    const failed = await json(["runs", "--failed", "--since", dayBefore, "--limit", "1000"]);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => typeof r.error_reason === "string")).toBe(true);
    const [{ n }] = (await json([
      "sql",
      `SELECT count(*) AS n FROM runs WHERE status = 'failed' AND finished_at >= '${dayBefore}'`,
    ])) as [{ n: number }];
    expect(failed).toHaveLength(n);

    const costs = await cli(["costs", "--csv"]);
    expect(costs.code).toBe(0);
    expect(costs.stdout.split("\r\n")[0]).toBe(
      "app,provider,model,calls,tokens_in,tokens_out,cost_usd,unpriced_calls,fallbacks,cache_hits",
    );

    const tools = await cli(["slow-tools", "--limit", "3"]);
    expect(tools.code).toBe(0);
    const lines = tools.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^TOOL\s+CALLS\s+AVG_MS\s+MAX_MS\s+ERRORS\s+BLOCKED$/);
    expect(lines).toHaveLength(4);

    const denials = await json(["denials", "--app", "dea", "--limit", "5"]);
    expect(denials.length).toBeGreaterThan(0);
    expect(denials.every((d) => d.app === "dea" && typeof d.rule_id === "string")).toBe(true);
  }, 120_000);

  it("shows status and snapshots, and travels back to a snapshot", async () => {
    const status = (await cli(["status", "--json"])) as { code: number; stdout: string };
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      events: 4_000,
      schemaVersion: SCHEMA_VERSION,
      quarantined: 0,
    });
    const snapshots = await json(["snapshots"]);
    // Tables by name, never by DuckLake's internal ids.
    const changed = snapshots.flatMap((s) => Object.values(s.changes as Record<string, string[]>));
    expect(changed.flat()).toContain("events");
    expect(changed.flat().some((t) => /^\d+$/.test(t))).toBe(false);
    const table = await cli(["snapshots"]);
    expect(table.stdout).toMatch(/tables_inserted_into: [^;\n]*events/);
    const batches = snapshots
      .filter((s) => JSON.stringify(s.changes).includes("tables_inserted_into"))
      .map((s) => s.snapshot_id as number);
    // The first batch (1500 events) went to Parquet; a small last one may be inlined instead.
    expect(batches.length).toBeGreaterThanOrEqual(2);
    const at = String(Math.min(...batches));
    const [{ n }] = (await json(["sql", "SELECT count(*) AS n FROM events", "--at", at])) as [
      { n: number },
    ];
    expect(n).toBe(1_500);
  }, 60_000);

  it("answers SQL as a user writes it: headers as named, ids as text, times before the lake", async () => {
    const counted = await cli(["sql", "SELECT count(*), count(*) AS n FROM runs"]);
    expect(counted.code, counted.stderr).toBe(0);
    expect(counted.stdout.split("\n")[0]).toMatch(/^count_star\(\) +n$/);
    const [run] = (await json(["sql", "SELECT run_id FROM runs LIMIT 1"])) as [{ run_id: string }];
    const prefix = run.run_id.slice(0, 6);
    const [{ like, total }] = (await json([
      "sql",
      `SELECT count(*) FILTER (WHERE run_id LIKE '${prefix}%') AS "like", count(*) FILTER (WHERE starts_with(run_id, '${prefix}')) AS total FROM runs`,
    ])) as [{ like: number; total: number }];
    expect(like).toBeGreaterThan(0);
    expect(like).toBe(total);
    // The lake was created by this test's sync moments ago: an hour back, nothing had happened.
    const before = await cli(["sql", "SELECT count(*) AS n FROM events", "--at", "1h", "--json"]);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual([{ n: 0 }]);
    expect(before.stderr).toContain("answering as of its creation");
  }, 120_000);

  it("travels to the snapshot a printed time names, and before the lake's tables to their creation", async () => {
    const snapshots = (await json(["snapshots", "--limit", "1000"])) as {
      snapshot_id: number;
      snapshot_time: string;
    }[];
    const count = async (at: string) => {
      const result = await cli(["sql", "SELECT count(*) AS n FROM events", "--at", at, "--json"]);
      expect(result.code, result.stderr).toBe(0);
      return { n: (JSON.parse(result.stdout) as [{ n: number }])[0].n, note: result.stderr };
    };
    // The first batch's snapshot and the latest, each as its printed time (to the millisecond).
    const batch = snapshots
      .filter((s) => JSON.stringify(s).includes("tables_inserted_into"))
      .at(-1)!;
    for (const { snapshot_id, snapshot_time } of [batch, snapshots[0]!]) {
      expect(snapshot_time).toMatch(/\.\d{3}Z$/);
      expect((await count(snapshot_time)).n).toBe((await count(String(snapshot_id))).n);
    }
    expect((await count(batch.snapshot_time)).n).toBe(1_500);
    // Snapshot 0 holds the lake's schema; its tables came in snapshot 1.
    const zero = snapshots.find((s) => s.snapshot_id === 0)!;
    for (const at of ["0", zero.snapshot_time]) {
      const before = await count(at);
      expect(before.n).toBe(0);
      expect(before.note).toContain("answering as of its creation");
    }
  }, 120_000);

  it("says what is wrong with a lake location, without a stack trace or a key", async () => {
    const s3 = await runCli(
      ["memory", "--data-path", "s3://AKIA1:hunter2@bad host/", "sql", "SELECT 1"],
      { env: { ...env, S3_ACCESS_KEY_ID: "a", S3_SECRET_ACCESS_KEY: "b" } },
    );
    expect(s3.code).toBe(2);
    expect(s3.stderr).toBe(
      "auraison: --data-path 's3://AKIA1:***@bad host/' is not a valid s3:// URL (s3://<bucket>/<prefix>)\n",
    );
    // The catalog file given as the lake directory.
    const catalog = join(home, "lake", "catalog.sqlite");
    for (const command of [["sync", "--from-dir", logDir], ["runs"]]) {
      const result = await cli(["--lake", catalog, ...command]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `auraison: --lake ${catalog} is a file, not a directory: the lake is the directory that holds catalog.sqlite and data/\n`,
      );
    }
    const underFile = await cli([
      "--catalog",
      `sqlite:${join(catalog, "c.sqlite")}`,
      "--lake",
      tempDir(),
      "sync",
      "--from-dir",
      logDir,
    ]);
    expect(underFile.code).toBe(2);
    expect(underFile.stderr).toBe(
      `auraison: cannot create the directory of the lake's catalog sqlite:${catalog}/c.sqlite: ${catalog} is a file, not a directory\n`,
    );
  }, 120_000);

  it("stops quietly when the reader of its output goes away (| head)", async () => {
    const piped = spawnSync(
      "bash",
      [
        "-c",
        `node "${BIN}" memory sql "SELECT * FROM range(200000)" --csv | head -2; echo "exit \${PIPESTATUS[0]}" >&2`,
      ],
      { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 },
    );
    expect(piped.stdout).toBe("range\r\n0\r\n");
    expect(piped.stderr).toBe("exit 0\n");
  }, 120_000);

  it("exits 2 for bad input and 5 for a lake that is not there", async () => {
    const write = await cli(["sql", "DROP TABLE runs"]);
    expect(write.code).toBe(2);
    expect(write.stderr).toContain("read-only");
    expect((await cli(["sql", "SELECT * FROM nowhere"])).code).toBe(2);
    expect((await cli(["runs", "--since", "yesterday"])).code).toBe(2);
    const noSnapshot = await cli(["sql", "SELECT 1", "--at", "999999"]);
    expect(noSnapshot.code).toBe(2);
    expect(noSnapshot.stderr).toContain("auraison memory snapshots");
    expect((await cli(["sync", "--from-dir", logDir, "--from", "http://x"])).code).toBe(2);
    expect((await cli(["sync", "--from-dir", join(logDir, "missing")])).code).toBe(2);
    const missing = await runCli(["memory", "runs"], { env: { AURAISON_HOME: tempDir() } });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("no lake at");
  }, 120_000);

  it("rebuilds and compacts", async () => {
    const rebuilt = await cli(["rebuild"]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^rebuilt \d+ runs from 4000 events/);
    const compacted = await cli(["compact", "--json"]);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(JSON.parse(compacted.stdout)).toHaveProperty("after.files");
    // What compact says it flushed is what status no longer shows inlined.
    const report = JSON.parse(compacted.stdout);
    expect(report.before.inlinedRows).toBeGreaterThan(0);
    expect(report.after.inlinedRows).toBe(0);
    const status = JSON.parse((await cli(["status", "--json"])).stdout);
    expect(status.files.inlinedRows).toBe(0);
  }, 120_000);
});

describe("auraison memory sync --from <central>", () => {
  let central: FakeCentral;
  beforeAll(async () => {
    central = await startFakeCentral("aegean-lab", 200);
    central.append(events.slice(0, 900).map(({ cursor: _c, ...e }) => e));
  });
  afterAll(async () => {
    await central.close();
  });

  it("pages central's log with the key, then only what is new", async () => {
    const own = { AURAISON_HOME: tempDir() };
    const first = await runCli(
      ["memory", "sync", "--from", central.url, "--key", central.key, "--json"],
      { env: own, timeoutMs: 60_000 },
    );
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      events: 900,
      origin: `central:${central.url}#aegean-lab`,
    });
    const again = await runCli(["memory", "sync", "--json"], {
      env: { ...own, AURAISON_URL: central.url, AURAISON_KEY: central.key },
      timeoutMs: 60_000,
    });
    expect(JSON.parse(again.stdout)).toMatchObject({ events: 0, batches: 0 });
    const denied = await runCli(
      ["memory", "sync", "--from", central.url, "--key", "aur_admin_lab_x"],
      { env: own },
    );
    expect(denied.code).toBe(4);
  }, 120_000);
});
