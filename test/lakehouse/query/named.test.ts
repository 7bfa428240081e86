import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import {
  costsSql,
  DirectorySource,
  denialsSql,
  failedRunsSql,
  type LakeLocation,
  readQuery,
  runsSql,
  slowToolsSql,
  sync,
} from "../../../lakehouse";
import { LogBuilder, localLake, tempDir, withLake, writeLog } from "../fixture";

let location: LakeLocation;
const events = [...syntheticEvents({ events: 5_000, days: 2, seed: 13 })];
const end = Date.parse(events.at(-1)!.ts);

beforeAll(async () => {
  const log = tempDir();
  writeLog(join(log, "000000000001-000000005000.ndjson"), events);
  location = localLake();
  await withLake(location, (lake) => sync(lake, new DirectorySource(log)));
});

const read = (sql: string) =>
  withLake(location, async (lake) => (await readQuery(lake.connection, sql)).rows, {
    readOnly: true,
  });

describe("named queries", () => {
  it("lists a failure central has not ruled on yet among the runs failed since a time", async () => {
    // An outbox alone: the edge reports the failure, central's ruling (finished_at) is not here.
    const log = new LogBuilder();
    const run_id = log.id();
    const at = { run_id, attempt: 1 };
    const started = log.add(
      "run_started",
      {
        intent_id: log.id(),
        intent_type: "task",
        app: "lab-notes",
        attempt: 1,
        model: null,
        tree_ref: { session_file: "s.jsonl", entry_id: null },
        resumed: false,
        forked_from: null,
        origin: "central",
      },
      at,
    );
    const usage = { tokens_in: 0, tokens_out: 0, cost_usd: 0 };
    const error = { category: "infrastructure", reason: "agent_crashed", message: "exited" };
    const failed = log.add(
      "run_failed",
      { error, usage, duration_ms: 5, tree_ref: null },
      { ...at, ms: 3_600_000 },
    );
    const dir = tempDir();
    writeLog(join(dir, "000000000000.ndjson"), log.events);
    const outbox = localLake();
    await withLake(outbox, (lake) => sync(lake, new DirectorySource(dir)));
    // Started before the time asked about, failed after it.
    const since = new Date(Date.parse(started.ts) + 60_000);
    const rows = await withLake(
      outbox,
      async (lake) => (await readQuery(lake.connection, failedRunsSql({ since }))).rows,
      { readOnly: true },
    );
    expect(rows).toMatchObject([{ run_id, finished_at: null, error_reason: "agent_crashed" }]);
    expect(Date.parse(failed.ts)).toBeGreaterThan(since.getTime());
  });

  it("answers the named queries from the views, consistently with the tables", async () => {
    const since = new Date(end - 86_400_000);
    const failed = await read(failedRunsSql({ since, limit: 10_000 }));
    const direct = await read(
      `SELECT count(*) AS n FROM memory.runs WHERE status = 'failed' AND finished_at >= '${since.toISOString()}'::TIMESTAMPTZ`,
    );
    expect(failed.length).toBe(direct[0]!.n);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.error_reason !== null)).toBe(true);

    const costs = await read(costsSql({}));
    const totals = await read(
      // A call through the gateway counts once: the edge's observation of it is not rolled up.
      "SELECT count(*) AS calls, sum(cost_usd) AS cost, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced FROM memory.model_calls WHERE NOT (observer = 'edge' AND provider = 'auraison')",
    );
    expect(costs.reduce((s, r) => s + (r.calls as number), 0)).toBe(totals[0]!.calls);
    expect(costs.reduce((s, r) => s + (r.unpriced_calls as number), 0)).toBe(totals[0]!.unpriced);
    expect(costs.reduce((s, r) => s + ((r.cost_usd as number) ?? 0), 0)).toBeCloseTo(
      totals[0]!.cost as number,
      6,
    );

    const tools = await read(slowToolsSql({ limit: 3 }));
    expect(tools).toHaveLength(3);
    const exact = await read(
      `SELECT round(avg(duration_ms))::BIGINT AS avg_ms FROM memory.tool_calls WHERE tool = '${tools[0]!.tool}' AND status IN ('ok', 'error')`,
    );
    expect(tools[0]!.avg_ms).toBe(exact[0]!.avg_ms);
    expect(tools.map((t) => t.avg_ms as number)).toEqual(
      tools.map((t) => t.avg_ms as number).sort((a, b) => b - a),
    );

    const denials = await read(denialsSql({ app: "dea", limit: 10_000 }));
    const deny = await read(
      "SELECT count(*) AS n FROM memory.policy_decisions WHERE effect = 'deny' AND app = 'dea'",
    );
    expect(denials.length).toBe(deny[0]!.n);

    const recent = await read(runsSql({ status: "completed", limit: 5 }));
    expect(recent).toHaveLength(5);
    expect(recent.every((r) => r.status === "completed")).toBe(true);
  });
});
