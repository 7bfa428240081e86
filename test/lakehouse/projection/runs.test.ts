import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import {
  type AgentEvent,
  AgentEvent as AgentEventSchema,
  emptyUsage,
  parse,
  replayRun,
  runStateOf,
  type StoredEvent,
} from "../../../contract";
import { DirectorySource, type Lake, rebuild, sync } from "../../../lakehouse";
import { PAYLOADS } from "../../contract/fixtures";
import {
  LogBuilder,
  localLake,
  projectionDigest,
  tableRows,
  tempDir,
  withCursors,
  withLake,
  writeLog,
} from "../fixture";

/**
 * Memory's `runs` are the contract's fold (contract/runs): each touched run replayed from its
 * events with `replayRun`, as central (the owner) and the edge keep it. These tests check that
 * the rows say what the fold says, for central's log and for outboxes, and the behaviours that
 * matter to someone reading runs from a partial or messy log.
 */

/** What the fold says of each run in `events` (with cursors if they carry them). */
function folded(events: readonly (AgentEvent | StoredEvent)[]) {
  const byRun = new Map<string, AgentEvent[]>();
  for (const e of events) {
    if (!e.run_id) continue;
    const list = byRun.get(e.run_id) ?? [];
    list.push(e);
    byRun.set(e.run_id, list);
  }
  return new Map(
    [...byRun].map(([runId, log]) => {
      const life = replayRun(log);
      const state = runStateOf(life);
      return [
        runId,
        {
          row: {
            status: state.status,
            attempts: life.attempt,
            intent_id: life.intent_id,
            app: life.app,
            agent_id: life.agent_id,
            intent_type: life.intent_type,
            dispatched_at: state.timings.dispatched_at,
            started_at: state.timings.started_at,
            finished_at: state.timings.finished_at,
            tokens_in: state.usage.tokens_in,
            tokens_out: state.usage.tokens_out,
            cache_read_tokens: state.usage.cache_read_tokens,
            cache_write_tokens: state.usage.cache_write_tokens,
            cost_usd: state.usage.cost_usd,
            model_calls: state.usage.model_calls,
            tool_calls: state.usage.tool_calls,
            error_category: state.error?.category ?? null,
            error_reason: state.error?.reason ?? null,
            error_message: state.error?.message ?? null,
            result: life.result,
            settled_event_id: life.settled_by,
            anomalies: life.anomalies,
          },
          intent_status: life.intent_status,
        },
      ];
    }),
  );
}

/** Each run's row in the lake equals the fold's, and its intent's status the fold's too. */
async function expectRowsAreTheFold(lake: Lake, events: readonly (AgentEvent | StoredEvent)[]) {
  const expected = folded(events);
  const rows = new Map((await tableRows(lake, "runs")).map((r) => [r.run_id as string, r]));
  const intents = new Map((await tableRows(lake, "intents")).map((r) => [r.run_id as string, r]));
  expect([...rows.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [runId, { row, intent_status }] of expected) {
    const { cost_usd, ...rest } = row;
    const actual = rows.get(runId)!;
    expect({ runId, ...pick(actual, Object.keys(rest)) }).toEqual({ runId, ...rest });
    expect(actual.cost_usd as number | null).toBe(cost_usd);
    if (row.intent_id) expect(intents.get(runId)?.status).toBe(intent_status);
  }
}

function pick(row: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, row[k]]));
}

const tree = { session_file: "s.jsonl", entry_id: null };
const failure = {
  category: "infrastructure",
  reason: "agent_crashed",
  message: "the agent process exited",
} as const;
const usage = emptyUsage();

/** Builds one run's events: central's decisions and one edge agent's reports. */
class Run {
  readonly id: string;
  readonly intent: string;
  constructor(
    private readonly log: LogBuilder,
    private readonly agent = "lab-notes-1",
    intent?: string,
  ) {
    this.id = log.id();
    this.intent = intent ?? log.id();
  }
  private at(attempt: number | null, agent = this.agent, ms?: number) {
    return { run_id: this.id, attempt, agent_id: agent, ...(ms === undefined ? {} : { ms }) };
  }
  dispatched(attempt: number) {
    return this.log.add(
      "run_dispatched",
      {
        intent_id: this.intent,
        agent_id: this.agent,
        attempt,
        ack_deadline: "2026-06-01T11:00:00.000Z",
      },
      this.at(attempt, "central"),
    );
  }
  started(attempt: number, origin?: "central" | "local") {
    return this.log.add(
      "run_started",
      {
        intent_id: this.intent,
        intent_type: "task",
        app: "lab-notes",
        attempt,
        model: "anthropic/claude-haiku-4-5",
        tree_ref: tree,
        resumed: false,
        forked_from: null,
        ...(origin ? { origin } : {}),
      },
      this.at(attempt),
    );
  }
  completed(attempt: number) {
    return this.log.add(
      "run_completed",
      { result: `done by attempt ${attempt}`, usage, duration_ms: 5, tree_ref: null },
      this.at(attempt),
    );
  }
  failed(attempt: number, by: "edge" | "central" = "edge") {
    return this.log.add(
      "run_failed",
      { error: failure, usage, duration_ms: 5, tree_ref: null },
      this.at(attempt, by === "central" ? "central" : this.agent),
    );
  }
  cancelled(attempt: number | null, by: "edge" | "central", reason: string) {
    return this.log.add(
      "run_cancelled",
      { reason, by: null, usage, tree_ref: null },
      this.at(attempt, by === "central" ? "central" : this.agent),
    );
  }
  leaseExpired(attempt: number, next: "retry" | "fail") {
    return this.log.add(
      "lease_expired",
      {
        agent_id: this.agent,
        attempt,
        next,
        retry_at: next === "retry" ? "2026-06-01T11:00:00.000Z" : null,
      },
      this.at(attempt, "central"),
    );
  }
  /** A call the edge made straight to a provider (counted as observed), of `tokens` each way. */
  modelCall(attempt: number, tokens: number) {
    return this.log.add(
      "model_call",
      {
        ...(PAYLOADS.model_call as object),
        call_id: `call-${this.log.id()}`,
        input_tokens: tokens,
        output_tokens: tokens,
        cost_usd: 1e306,
        observer: "edge",
      },
      this.at(attempt),
    );
  }
  message(attempt: number) {
    return this.log.add(
      "message",
      { role: "assistant", text: "working", entry_id: "e1", turn: 1 },
      this.at(attempt),
    );
  }
}

/** Syncs central's log (with cursors) and an outbox (without) into one lake. */
async function syncBoth(
  central: readonly AgentEvent[],
  outbox: readonly AgentEvent[],
  check: (lake: Lake, stored: (AgentEvent | StoredEvent)[]) => Promise<void>,
) {
  const archive = tempDir();
  const edge = tempDir();
  const stored = withCursors(central);
  if (central.length) writeLog(join(archive, "000000000001.ndjson"), stored);
  if (outbox.length) writeLog(join(edge, "000000000000.ndjson"), outbox);
  await withLake(localLake(), async (lake) => {
    await sync(lake, new DirectorySource(archive), { compact: false });
    await sync(lake, new DirectorySource(edge), { compact: false });
    await check(lake, [...stored, ...outbox]);
  });
}

describe("memory's runs are the contract's fold", () => {
  it("row for row, on a synthetic log from central and on the same runs from outboxes", async () => {
    const log = [...syntheticEvents({ events: 4_000, days: 1, seed: 21 })].map((e) =>
      parse(AgentEventSchema, e, "synthetic"),
    );
    const runs = [...new Set(log.map((e) => e.run_id).filter((r): r is string => r !== null))];
    // Half the runs come from central's archive, the other half from edge outboxes: only the
    // edge's events, without cursors.
    const fromOutbox = new Set(runs.filter((_, i) => i % 2 === 1));
    const central = log.filter((e) => !e.run_id || !fromOutbox.has(e.run_id));
    const outbox = log.filter((e) => e.run_id && fromOutbox.has(e.run_id) && e.source === "edge");
    await syncBoth(central, outbox, async (lake, stored) => {
      await expectRowsAreTheFold(lake, stored);
      const rows = await tableRows(lake, "runs");
      const statuses = new Set(rows.map((r) => r.status));
      for (const status of ["completed", "failed", "running"]) expect(statuses).toContain(status);
      expect(rows.some((r) => (r.attempts as number) > 1)).toBe(true);
    });
  }, 120_000);

  it("settles runs by the fold's rules: retries, lost leases, superseded attempts, anomalies", async () => {
    const log = new LogBuilder();
    const done = new Run(log);
    done.dispatched(1);
    done.started(1);
    const completed = done.completed(1);

    const retried = new Run(log);
    retried.dispatched(1);
    retried.started(1);
    retried.leaseExpired(1, "retry");
    retried.dispatched(2);
    retried.started(2);
    const second = retried.completed(2);
    // The first attempt's agent comes back and reports: the run is not ended again.
    retried.cancelled(1, "edge", "the run moved to another agent");
    retried.completed(1);

    const gaveUp = new Run(log);
    gaveUp.dispatched(1);
    gaveUp.started(1);
    gaveUp.leaseExpired(1, "fail");
    const ruled = gaveUp.failed(1, "central");

    const late = new Run(log);
    late.dispatched(1);
    late.started(1);
    late.completed(1);
    const tooLate = late.cancelled(1, "central", "too late");

    const early = new Run(log);
    early.cancelled(null, "central", "user changed their mind");

    const waiting = new Run(log);
    waiting.dispatched(1);
    waiting.started(1);
    waiting.message(1);

    await syncBoth(log.events, [], async (lake, stored) => {
      await expectRowsAreTheFold(lake, stored);
      const rows = new Map((await tableRows(lake, "runs")).map((r) => [r.run_id as string, r]));
      expect(rows.get(done.id)).toMatchObject({
        status: "completed",
        attempts: 1,
        settled_event_id: completed.event_id,
        anomalies: [],
      });
      const r = rows.get(retried.id)!;
      expect(r).toMatchObject({
        status: "completed",
        attempts: 2,
        settled_event_id: second.event_id,
      });
      expect(r.anomalies).toHaveLength(2);
      expect((r.anomalies as string[])[0]).toContain(
        "attempt 1 had already been sent back to the queue",
      );
      expect(rows.get(gaveUp.id)).toMatchObject({
        status: "failed",
        settled_event_id: ruled.event_id,
        error_reason: "agent_crashed",
        anomalies: [],
      });
      const l = rows.get(late.id)!;
      expect(l).toMatchObject({ status: "completed" });
      expect((l.anomalies as string[])[0]).toContain(`run_cancelled ${tooLate.event_id}`);
      expect((l.anomalies as string[])[0]).toContain("the run was already completed");
      expect(rows.get(early.id)).toMatchObject({
        status: "cancelled",
        attempts: 0,
        error_category: "cancelled",
        error_reason: "cancelled",
        error_message: "user changed their mind",
      });
      expect(rows.get(waiting.id)).toMatchObject({
        status: "running",
        finished_at: null,
        settled_event_id: null,
      });
      const intents = new Map((await tableRows(lake, "intents")).map((i) => [i.run_id, i]));
      expect(intents.get(waiting.id)).toMatchObject({ status: "active" });
      expect(intents.get(retried.id)).toMatchObject({ status: "completed", attempts: 2 });
      expect(intents.get(gaveUp.id)).toMatchObject({ status: "failed" });
      // One ProjectionEvent per settled run, from the event that settled it.
      const settled = [...rows.values()].flatMap((x) => x.settled_event_id ?? []).sort();
      expect(settled).toHaveLength(5);
      const projections = await tableRows(lake, "projections");
      expect(projections.map((p) => p.source_event_id).sort()).toEqual(settled);
    });
  });

  it("keeps a run whose calls' tokens add up past a 64-bit integer, at the largest safe count", async () => {
    // Each count is a safe integer, as the contract wants; 1,100 of the largest add up past
    // BIGINT, which failed the sync's transaction on every try: the lake stopped for good.
    const log = new LogBuilder();
    const huge = new Run(log);
    huge.started(1, "local");
    for (let i = 0; i < 1_100; i++) huge.modelCall(1, Number.MAX_SAFE_INTEGER);
    huge.completed(1);
    // A log may name one intent in two runs: its tokens add up past the largest safe count too.
    const twin = new Run(log, "lab-notes-1", huge.intent);
    twin.started(1, "local");
    twin.modelCall(1, Number.MAX_SAFE_INTEGER);
    twin.completed(1);
    const after = new Run(log);
    after.started(1, "local");
    after.completed(1);
    await syncBoth([], log.events, async (lake, stored) => {
      const rows = new Map((await tableRows(lake, "runs")).map((r) => [r.run_id as string, r]));
      expect(pick(rows.get(huge.id)!, ["tokens_in", "cost_usd"])).toEqual(
        pick(folded(stored).get(huge.id)!.row, ["tokens_in", "cost_usd"]),
      );
      expect(rows.get(huge.id)).toMatchObject({
        status: "completed",
        tokens_in: Number.MAX_SAFE_INTEGER,
        tokens_out: Number.MAX_SAFE_INTEGER,
        cost_usd: Number.MAX_VALUE,
        model_calls: 1_100,
      });
      expect(rows.get(after.id)).toMatchObject({ status: "completed" });
      const [intent] = (await tableRows(lake, "intents")).filter(
        (i) => i.intent_id === huge.intent,
      );
      expect(intent).toMatchObject({
        tokens_in: Number.MAX_SAFE_INTEGER,
        tokens_out: Number.MAX_SAFE_INTEGER,
        cost_usd: Number.MAX_VALUE,
      });
    });
  });

  it("from outboxes alone: fills in what only central logs, and shows a failure awaiting central's ruling", async () => {
    const log = new LogBuilder();
    // An edge run (`edge run`): the edge owns it, its failure ends it.
    const own = new Run(log);
    own.started(1, "local");
    const ended = own.failed(1);
    // Central's run, from the outbox: the dispatches and the retry are central's, not here.
    const theirs = new Run(log);
    theirs.started(1, "central");
    theirs.failed(1);
    theirs.started(2, "central");
    theirs.failed(2);
    // A resumed start of the same attempt is no transition.
    const resumed = new Run(log);
    resumed.started(1);
    resumed.started(1);
    resumed.completed(1);
    // Clocks that disagree: the edge's start is stamped before central's dispatch.
    const skewed = new Run(log);
    const dispatch = skewed.dispatched(1);
    const start = skewed.started(1);
    skewed.completed(1);
    const late = new Date(Date.parse(start.ts) + 5).toISOString();
    const events = log.events.map((e) => (e === dispatch ? { ...e, ts: late } : e));

    await syncBoth([], events, async (lake, stored) => {
      await expectRowsAreTheFold(lake, stored);
      const rows = new Map((await tableRows(lake, "runs")).map((r) => [r.run_id as string, r]));
      expect(rows.get(own.id)).toMatchObject({
        status: "failed",
        settled_event_id: ended.event_id,
        error_reason: "agent_crashed",
      });
      expect(rows.get(theirs.id)).toMatchObject({
        status: "failed",
        attempts: 2,
        error_reason: "agent_crashed",
        // Central has not ruled in this log: failed as reported, not settled.
        finished_at: null,
        settled_event_id: null,
        anomalies: [],
      });
      expect(rows.get(resumed.id)).toMatchObject({ status: "completed", anomalies: [] });
      expect(rows.get(skewed.id)).toMatchObject({
        status: "completed",
        attempts: 1,
        anomalies: [],
      });
    });
  });
});

/**
 * Every table after syncing each batch of events as the source's next segment, and after a
 * rebuild of that lake from its log (in steps of `runsPerStep` runs).
 */
async function incrementalAndRebuilt(batches: readonly AgentEvent[][], runsPerStep?: number) {
  const dir = tempDir();
  return withLake(localLake(), async (lake) => {
    for (const [i, events] of batches.entries()) {
      writeLog(join(dir, `${String(i + 1).padStart(12, "0")}.ndjson`), events);
      await sync(lake, new DirectorySource(dir), { compact: false });
    }
    const incremental = await projectionDigest(lake);
    await rebuild(lake, runsPerStep === undefined ? {} : { runsPerStep });
    return { incremental, rebuilt: await projectionDigest(lake) };
  });
}

describe("an intent named by several runs (a run retried as a new run, a fork)", () => {
  it("has one row over all its runs when a later batch touches only one of them", async () => {
    const log = new LogBuilder();
    const a = new Run(log);
    const b = new Run(log, "lab-notes-1", a.intent);
    a.started(1);
    b.started(1);
    b.message(1);
    const { incremental, rebuilt } = await incrementalAndRebuilt([
      log.events.slice(0, 2),
      log.events.slice(2),
    ]);
    expect(incremental.intents).toHaveLength(1);
    expect(incremental.intents![0]).toMatchObject({
      intent_id: a.intent,
      run_id: b.id,
      attempts: 2,
      status: "active",
    });
    expect(rebuilt.intents).toEqual(incremental.intents);
    expect(rebuilt).toEqual(incremental);
  });

  it("has one row over all its runs when a later batch brings a run the lake did not have", async () => {
    const log = new LogBuilder();
    const a = new Run(log);
    a.started(1);
    a.completed(1);
    const b = new Run(log, "lab-notes-1", a.intent);
    b.started(2);
    const { incremental, rebuilt } = await incrementalAndRebuilt([
      log.events.slice(0, 2),
      log.events.slice(2),
    ]);
    expect(incremental.intents).toHaveLength(1);
    expect(incremental.intents![0]).toMatchObject({ run_id: b.id, attempts: 3, status: "active" });
    expect(rebuilt).toEqual(incremental);
  });

  it("keeps the runs the batch did not touch when it touches the earliest", async () => {
    const log = new LogBuilder();
    const a = new Run(log);
    const b = new Run(log, "lab-notes-1", a.intent);
    a.started(1);
    a.modelCall(1, 100);
    b.started(1);
    b.modelCall(1, 10);
    b.completed(1);
    a.message(1);
    const { incremental, rebuilt } = await incrementalAndRebuilt([
      log.events.slice(0, -1),
      log.events.slice(-1),
    ]);
    expect(incremental.intents).toHaveLength(1);
    // The latest run, which the second batch did not touch, gives the intent's status.
    expect(incremental.intents![0]).toMatchObject({
      run_id: b.id,
      status: "completed",
      attempts: 2,
      tokens_in: 110,
      tokens_out: 110,
      cost_usd: 2e306,
    });
    expect(rebuilt).toEqual(incremental);
  });

  it("has one row when a rebuild derives its runs in different steps", async () => {
    const log = new LogBuilder();
    const a = new Run(log);
    const b = new Run(log, "lab-notes-1", a.intent);
    a.started(1);
    a.completed(1);
    b.started(2);
    b.completed(2);
    // One batch derives both runs at once; a rebuild of one run per step, one after the other.
    const { incremental, rebuilt } = await incrementalAndRebuilt([log.events], 1);
    expect(incremental.intents).toHaveLength(1);
    expect(incremental.intents![0]).toMatchObject({ run_id: b.id, attempts: 3 });
    expect(rebuilt).toEqual(incremental);
  });
});
