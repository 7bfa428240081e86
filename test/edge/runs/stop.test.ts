import { afterEach, describe, expect, it } from "vitest";
import { resolveModelSettings } from "../../../edge/models/resolve";
import type { EdgeRuntime } from "../../../edge/runtime";
import { openAiUpstream } from "../helpers/openai-upstream";
import { makeApp, ofKind, openRuntime } from "../helpers/runtime";

const KEY = `aur_agent_lab_${"k".repeat(43)}`;
let runtime: EdgeRuntime | null = null;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await runtime?.close();
  runtime = null;
  for (const close of closers.splice(0)) await close();
});

/** A model behind an OpenAI-compatible server that keeps asking for a slow tool. */
async function slowModel() {
  const upstream = await openAiUpstream([
    { tool: "bash", args: { command: "sleep 20" } },
    { tool: "bash", args: { command: "echo again" } },
    "done",
  ]);
  closers.push(upstream.close);
  const models = resolveModelSettings({
    app: "lab",
    env: {},
    gateway: { url: upstream.url, key: KEY },
    fallback: {},
  });
  runtime = await openRuntime(makeApp(), [], { models });
  runtime.centralReachable = () => true;
  return { upstream, runtime };
}

describe("a stop takes effect before the next model call", () => {
  it("a cancelled run stops its tool and sends the model nothing more", async () => {
    const { upstream, runtime } = await slowModel();
    const execution = await runtime.startLocal({ type: "task", params: {}, prompt: "go" });
    for (let i = 0; i < 400; i++) {
      const events = await runtime.eventsOf(execution.runId);
      if (events.some((e) => e.kind === "tool_call_started")) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(runtime.runs.cancel(execution.runId, "enough", "key_1")).toBe(true);
    const record = await execution.done;
    const events = await runtime.eventsOf(record.run_id);
    expect(record.status).toBe("cancelled");
    expect(upstream.calls).toHaveLength(1);
    expect(ofKind(events, "model_call")).toHaveLength(1);
  });

  it("a run past its wall-time budget sends the model nothing more", async () => {
    const { upstream, runtime } = await slowModel();
    const began = Date.now();
    const execution = await runtime.startLocal({
      type: "task",
      params: {},
      prompt: "go",
      budget: { max_wall_ms: 1_000 },
    });
    const record = await execution.done;
    const events = await runtime.eventsOf(record.run_id);
    expect(record.error).toMatchObject({ reason: "budget_exceeded" });
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(upstream.calls).toHaveLength(1);
    expect(ofKind(events, "model_call")).toHaveLength(1);
  });
});
