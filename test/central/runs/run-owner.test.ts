import { describe, expect, it } from "vitest";
import { type RunList, uuidv7 } from "../../../contract";
import {
  advanceClock,
  call,
  connectAgent,
  events,
  eventually,
  FAST,
  json,
  newKey,
  newTenant,
  putSettings,
  runState,
  submit,
  usage,
} from "../support";

describe("central follows a run an edge started", () => {
  it("shows it in runs list and runs show once its events arrive, and asks the edge to cancel it", async () => {
    const { tenant, admin } = await newTenant("own");
    const agentKey = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(agentKey, tenant, "bench-1");
    const run = { run_id: uuidv7(), attempt: 1 };
    await agent.emit([
      agent.event(
        "run_started",
        {
          intent_id: uuidv7(),
          intent_type: "task",
          app: "lab-notes",
          attempt: 1,
          model: "scripted/lab-notes",
          tree_ref: { session_file: "sessions/local.jsonl", entry_id: null },
          origin: "local",
        },
        run,
      ),
    ]);
    const shown = await runState(admin, run.run_id);
    expect(shown).toMatchObject({
      status: "running",
      app: "lab-notes",
      agent_id: "bench-1",
      attempt: 1,
      waiting: null,
    });
    const list = await json<RunList>(await call("GET", "/v1/runs", { key: admin }), 200);
    expect(list.runs.map((r) => r.run_id)).toContain(run.run_id);

    const cancelled = await call("POST", `/v1/runs/${run.run_id}/cancel`, {
      key: admin,
      body: { reason: "enough" },
    });
    expect(cancelled.status).toBe(200);
    expect(await agent.next("cancel")).toMatchObject({ run_id: run.run_id, reason: "enough" });
    // The edge rules on its own run: it stays running until the edge reports how it ended.
    expect((await runState(admin, run.run_id)).status).toBe("running");
    await agent.emit([
      agent.event(
        "run_cancelled",
        { reason: "enough", by: null, usage: usage(), tree_ref: null },
        run,
      ),
    ]);
    expect(await runState(admin, run.run_id)).toMatchObject({
      status: "cancelled",
      error: { reason: "cancelled_on_edge" },
    });
  });
});

describe("a queued run waits for its target, and times out when none comes", () => {
  it("says what it waits for, and fails with queue_timeout under the tenant's settings", async () => {
    const { tenant, admin } = await newTenant("wait");
    await putSettings(admin, { ...FAST, dispatch: { ...FAST.dispatch, queue_timeout_ms: 60_000 } });
    const accepted = await submit(admin, { targets: [{ app: "labnotes-typo" }] });
    expect(accepted.run).toMatchObject({
      status: "pending",
      targets: [{ app: "labnotes-typo" }],
      waiting: { reason: "no_agent" },
    });
    expect(Date.parse(accepted.run.waiting!.until!)).toBe(
      Date.parse(accepted.run.waiting!.since!) + 60_000,
    );
    await advanceClock(tenant, 50_000);
    expect((await runState(admin, accepted.run.run_id)).status).toBe("pending");
    await advanceClock(tenant, 10_100);
    const failed = await runState(admin, accepted.run.run_id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ category: "timeout", reason: "queue_timeout" });
    expect(failed.error!.message).toContain("app labnotes-typo");
    expect(failed.waiting).toBeNull();
  });
});

describe("what central records of text from outside it", () => {
  it("redacts an agent's refusal and a canceller's reason in the run and its events", async () => {
    const { tenant, admin } = await newTenant("red");
    await putSettings(admin, { retry: { max_attempts: 1 } });
    const agentKey = (await newKey(admin, "agent")).key;
    const agent = await connectAgent(agentKey, tenant, "refuser");
    const refused = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const dispatch = await agent.next("dispatch");
    agent.send({
      type: "refuse",
      run_id: dispatch.run_id,
      attempt: dispatch.attempt,
      reason: "no_capacity",
      message: "cannot: password=hunter2-SUPERSECRET-value",
    });
    await eventually(
      async () => (await runState(admin, refused.run.run_id)).status === "failed",
      8_000,
      "the refused run to fail",
    );
    const queued = await submit(admin, { targets: [{ app: "nobody" }] });
    await json(
      await call("POST", `/v1/runs/${queued.run.run_id}/cancel`, {
        key: admin,
        body: { reason: "stop: password=hunter2-SUPERSECRET-value" },
      }),
      200,
    );
    for (const runId of [refused.run.run_id, queued.run.run_id]) {
      const run = await runState(admin, runId);
      expect(run.error!.message).toContain("password=[REDACTED]");
      const log = await events(admin, `&run=${runId}`);
      expect(log.events.some((e) => e.kind === "run_failed" || e.kind === "run_cancelled")).toBe(
        true,
      );
      expect(JSON.stringify([run, log])).not.toContain("hunter2");
    }
  });
});
