import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DirectorySource, readQuery, sync } from "../../../lakehouse";
import { LogBuilder, localLake, tempDir, withLake, writeLog } from "../fixture";

const usage = (tokensIn: number, tokensOut: number, cost: number | null) => ({
  tokens_in: tokensIn,
  tokens_out: tokensOut,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  cost_usd: cost,
  model_calls: 1,
  tool_calls: 0,
});

/** A plan of two steps, the first replaced by a repair: central's events and one step's run. */
function planLog() {
  const log = new LogBuilder();
  const plan = log.id();
  const run = log.id();
  const intent = log.id();
  const central = { agent_id: "central" };
  const version = (v: number, round: string, steps: [string, string, string[]][]) =>
    log.add(
      "plan_version",
      {
        plan_id: plan,
        version: v,
        round,
        planner: "model",
        steps: steps.map(([id, target, depends_on]) => ({
          id,
          type: "task",
          targets: [target],
          depends_on,
          action: null,
          requires_approval: false,
        })),
      },
      central,
    );
  const step = (v: number, id: string, status: string, runId: string | null, attempt = 1) =>
    log.add(
      "plan_step",
      {
        plan_id: plan,
        step_id: id,
        version: v,
        status,
        attempt,
        run_id: runId,
        error:
          status === "failed"
            ? { category: "tool", reason: "tool_error", message: "mesh too fine" }
            : null,
      },
      central,
    );
  const status = (s: string, v: number, tokens: number, cost: number | null) =>
    log.add(
      "plan_status",
      {
        plan_id: plan,
        status: s,
        version: v,
        reason: s,
        error: null,
        usage: usage(tokens, 0, cost),
      },
      central,
    );
  version(1, "initial", [
    ["measure", "app lab-notes", []],
    ["simulate", "app sim-bench", ["measure"]],
  ]);
  status("running", 1, 300, 0.001);
  step(1, "measure", "running", run);
  log.add(
    "run_started",
    {
      intent_id: intent,
      intent_type: "task",
      app: "lab-notes",
      attempt: 1,
      model: "faux/m",
      tree_ref: { session_file: "s.jsonl", entry_id: null },
      resumed: false,
      forked_from: null,
    },
    { run_id: run, attempt: 1 },
  );
  // A run's tokens and cost are its counted model calls (the run fold), here one.
  log.add(
    "model_call",
    {
      call_id: log.id(),
      provider: "anthropic",
      request_model: "claude-sonnet-4-5",
      response_model: "claude-sonnet-4-5",
      alias: null,
      response_id: null,
      stream: false,
      input_tokens: 1000,
      output_tokens: 200,
      cost_usd: 0.02,
      latency_ms: 5,
      ttft_ms: null,
      observer: "edge",
    },
    { run_id: run, attempt: 1 },
  );
  log.add(
    "run_completed",
    { result: "42", usage: usage(1000, 200, 0.02), duration_ms: 5, tree_ref: null },
    { run_id: run, attempt: 1 },
  );
  step(1, "measure", "completed", run);
  step(1, "simulate", "running", null);
  step(1, "simulate", "failed", null);
  status("replanning", 1, 1500, 0.021);
  // A repair lists only its new steps; the completed ones stay in their version.
  version(2, "repair", [["simulate-again", "app sim-bench", ["measure"]]]);
  step(2, "simulate-again", "completed", null);
  status("completed", 2, 1700, 0.022);
  return { plan, run, events: log.events };
}

describe("memory's plan views", () => {
  it("show each plan, its steps by version, and its cost beside its runs'", async () => {
    const { plan, run, events } = planLog();
    const outbox = tempDir();
    writeLog(join(outbox, "000000000000.ndjson"), events);
    await withLake(localLake(), async (lake) => {
      await sync(lake, new DirectorySource(outbox), { compact: false });
      const read = async (sql: string) => (await readQuery(lake.connection, sql)).rows;
      expect(
        await read(
          "SELECT plan_id, planner, status, version, replans, tokens, cost_usd FROM memory.plans",
        ),
      ).toEqual([
        {
          plan_id: plan,
          planner: "model",
          status: "completed",
          version: 2,
          replans: 1,
          tokens: 1700,
          cost_usd: 0.022,
        },
      ]);
      const steps = await read(
        "SELECT version, step_id, status, attempts, depends_on, targets, len(run_ids) AS runs FROM memory.plan_steps ORDER BY version, step_id",
      );
      expect(steps).toEqual([
        {
          version: 1,
          step_id: "measure",
          status: "completed",
          attempts: 1,
          depends_on: [],
          targets: ["app lab-notes"],
          runs: 1,
        },
        {
          version: 1,
          step_id: "simulate",
          status: "failed",
          attempts: 1,
          depends_on: ["measure"],
          targets: ["app sim-bench"],
          runs: 0,
        },
        {
          version: 2,
          step_id: "simulate-again",
          status: "completed",
          attempts: 1,
          depends_on: ["measure"],
          targets: ["app sim-bench"],
          runs: 0,
        },
      ]);
      expect(
        await read(
          "SELECT runs, run_tokens, run_cost_usd, total_tokens, planning_tokens FROM memory.plan_costs",
        ),
      ).toEqual([
        {
          runs: 1,
          run_tokens: 1200,
          run_cost_usd: 0.02,
          total_tokens: 1700,
          planning_tokens: 500,
        },
      ]);
      expect(await read(`SELECT run_id FROM memory.runs`)).toEqual([{ run_id: run }]);
    });
  });
});
