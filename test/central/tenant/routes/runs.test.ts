import { describe, expect, it } from "vitest";
import type { Intent } from "../../../../contract";
import {
  advanceClock,
  call,
  connectAgent,
  json,
  newKey,
  newTenant,
  putSettings,
  STEADY,
  submit,
  usage,
} from "../../support";

describe("forking a run", () => {
  it("goes to the agent whose session holds the entry, though a later attempt ran elsewhere", async () => {
    const { tenant, admin } = await newTenant("fork");
    await putSettings(admin, STEADY);
    const key = (await newKey(admin, "agent")).key;
    const first = await connectAgent(key, tenant, "host-a");
    const original = await submit(admin, { targets: [{ app: "lab-notes" }] });
    const attempt1 = await first.take(await first.next("dispatch"));
    const started = (entry: string) => ({
      intent_id: original.intent.intent_id,
      intent_type: "task",
      app: "lab-notes",
      attempt: 0,
      model: "faux/m",
      tree_ref: { session_file: "s.jsonl", entry_id: entry },
    });
    await first.emit([first.event("run_started", { ...started("a1"), attempt: 1 }, attempt1)]);
    // host-a goes silent; attempt 2 runs on host-b and ends there.
    const second = await connectAgent(key, tenant, "host-b");
    await advanceClock(tenant, 61_500);
    const attempt2 = await second.take(await second.next("dispatch"));
    await second.emit([
      second.event("run_started", { ...started("b1"), attempt: 2 }, attempt2),
      second.event(
        "run_completed",
        {
          result: "ok",
          usage: usage(),
          duration_ms: 1,
          tree_ref: { session_file: "s.jsonl", entry_id: "b2" },
        },
        attempt2,
      ),
    ]);
    const fork = async (entry: string) =>
      json<{ intent: Intent }>(
        await call("POST", `/v1/runs/${original.run.run_id}/fork`, {
          key: admin,
          body: { entry_id: entry },
        }),
        201,
      );
    expect((await fork("a1")).intent.targets).toEqual([{ agent_id: "host-a" }]);
    expect((await fork("b1")).intent.targets).toEqual([{ agent_id: "host-b" }]);
  });
});
