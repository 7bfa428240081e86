import { afterEach, describe, expect, it } from "vitest";
import { type AgentEvent, ApiError } from "../../../contract";
import { rpcApp } from "../../../edge/rpc/app";
import type { AgentHealth } from "../../../edge/rpc/schemas";
import type { EdgeRuntime } from "../../../edge/runtime";
import { kinds, makeApp, openRuntime } from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const health = (): AgentHealth => ({
  agent_id: "host-1.lab-notes",
  app: "lab-notes",
  tenant: "lab",
  status: "online",
  pid: process.pid,
  central: { url: null, connected: false, last_error: null },
  running: [],
  outbox: { size: 0, pending: 0, rejected: 0 },
  model: "faux/faux-1",
});

async function call(app: ReturnType<typeof rpcApp>, method: string, path: string, body?: unknown) {
  const res = await app.request(path, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: typeof body === "string" ? body : JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("local RPC", () => {
  it("refuses bad input with 400 and the field path, in central's error shape", async () => {
    runtime = await openRuntime(makeApp(), [{ text: "x" }]);
    const app = rpcApp(runtime, health);
    const badBudget = await call(app, "POST", "/runs", { prompt: "x", budget: { max_tokens: -1 } });
    expect(badBudget.status).toBe(400);
    const parsed = ApiError.parse(badBudget.json);
    expect(parsed.error.code).toBe("invalid_request");
    expect(parsed.error.issues?.map((i) => i.path)).toEqual(["budget.max_tokens"]);
    const typo = await call(app, "POST", "/runs", { prompt: "x", budgt: {} });
    expect(ApiError.parse(typo.json).error.issues?.[0]?.code).toBe("unrecognized_keys");
    const notJson = await call(app, "POST", "/runs", "{nope");
    expect(notJson.status).toBe(400);
    expect(ApiError.parse(notJson.json).error.issues?.[0]?.code).toBe("invalid_json");
    const noPrompt = await call(app, "POST", "/runs", {});
    expect(ApiError.parse(noPrompt.json).error.issues?.[0]?.path).toBe("prompt");
    expect((await call(app, "GET", "/runs/01a1ffd8-f261-735f-9d67-5b635864709c")).status).toBe(404);
    expect((await call(app, "GET", "/nothing")).status).toBe(404);
  });

  it("starts, lists, follows and cancels runs; refuses work beyond capacity", async () => {
    runtime = await openRuntime(makeApp(), [
      { tool: "bash", args: { command: "sleep 30" } },
      { text: "late" },
    ]);
    const app = rpcApp(runtime, health);
    const started = await call(app, "POST", "/runs", { prompt: "sleep" });
    expect(started.status).toBe(202);
    const runId = started.json.run_id as string;
    expect(started.json.status).toBe("running");
    const busy = await call(app, "POST", "/runs", { prompt: "another" });
    expect(busy.status).toBe(429);
    expect(ApiError.parse(busy.json).error.code).toBe("no_capacity");
    const list = await call(app, "GET", "/runs");
    expect((list.json.runs as Array<{ run_id: string }>).map((r) => r.run_id)).toEqual([runId]);

    const stream = await app.request(`/runs/${runId}/events?follow=1`);
    expect(stream.headers.get("content-type")).toBe("application/x-ndjson");
    const reading = stream.text();
    for (
      let i = 0;
      i < 200 && !kinds(await runtime.eventsOf(runId)).includes("tool_call_started");
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const cancelled = await call(app, "POST", `/runs/${runId}/cancel`, {
      reason: "changed my mind",
    });
    expect(cancelled.status).toBe(200);
    const events = (await reading)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AgentEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    const last = events.at(-1)!;
    expect(last.kind).toBe("run_cancelled");
    expect(last.kind === "run_cancelled" && last.payload).toMatchObject({
      reason: "changed my mind",
      by: "local",
    });
    expect((await call(app, "GET", `/runs/${runId}`)).json.status).toBe("cancelled");
    expect((await call(app, "POST", `/runs/${runId}/cancel`, {})).status).toBe(409);
  });

  it("forks a run from an entry of its session", async () => {
    runtime = await openRuntime(makeApp(), [{ text: "first" }, { text: "second" }]);
    const app = rpcApp(runtime, health);
    const source = await runtime.startLocal({ type: "task", params: {}, prompt: "q" });
    await source.done;
    const fork = await call(app, "POST", `/runs/${source.runId}/fork`, { prompt: "and now?" });
    expect(fork.status).toBe(202);
    expect(fork.json.forked_from).toMatchObject({ run_id: source.runId });
    for (
      let i = 0;
      i < 200 && runtime.runs.get(fork.json.run_id as string)?.status === "running";
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    expect(runtime.runs.get(fork.json.run_id as string)?.result).toBe("second");
    const badFork = await call(app, "POST", `/runs/${source.runId}/fork`, { entry: "x" });
    expect(badFork.status).toBe(400);
  });
});
