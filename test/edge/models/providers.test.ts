import { afterEach, describe, expect, it } from "vitest";
import { HEADERS } from "../../../contract";
import type { ModelSettings } from "../../../edge/models/model-settings";
import { resolveModelSettings } from "../../../edge/models/resolve";
import type { EdgeRuntime } from "../../../edge/runtime";
import { closedPort, openAiUpstream } from "../helpers/openai-upstream";
import { makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";

const KEY = `aur_agent_lab_${"k".repeat(43)}`;
let runtime: EdgeRuntime | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  for (const close of closers.splice(0)) await close();
});

describe("models", () => {
  it("uses central's gateway as an OpenAI-compatible provider, with the agent key and run attribution", async () => {
    const gateway = await openAiUpstream("hello from the gateway");
    closers.push(gateway.close);
    const models: ModelSettings = resolveModelSettings({
      app: "lab",
      env: {},
      gateway: { url: gateway.url, key: KEY },
      fallback: {},
    });
    expect(models.primary).toEqual({ provider: "auraison", id: "auto" });
    runtime = await openRuntime(makeApp(), [], { models });
    runtime.centralReachable = () => true;
    const { record, events } = await runTask(runtime, "hi");
    expect(record.status).toBe("completed");
    expect(record.result).toBe("hello from the gateway");
    expect(gateway.calls).toHaveLength(1);
    const call = gateway.calls[0]!;
    expect(call.path).toBe("/v1/chat/completions");
    expect(call.body.model).toBe("auto");
    expect(call.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(call.headers[HEADERS.run]).toBe(record.run_id);
    expect(call.headers[HEADERS.agent]).toBe("host-1.lab-notes");
    expect(call.headers[HEADERS.app]).toBe("lab-notes");
    expect(call.headers[HEADERS.intentType]).toBe("task");
    const modelCall = ofKind(events, "model_call")[0]!.payload;
    expect(modelCall).toMatchObject({
      provider: "auraison",
      request_model: "auto",
      alias: "auto",
      input_tokens: 42,
      output_tokens: 7,
      scripted: false,
      cost_usd: null,
    });
    expect(ofKind(events, "run_started")[0]!.payload.model).toBe("auraison/auto");
  });

  it("starts runs on the local fallback while central is unreachable", async () => {
    const fallback = await openAiUpstream("hello from the lab GPU");
    closers.push(fallback.close);
    const models = resolveModelSettings({
      app: "lab",
      env: {},
      gateway: { url: `http://127.0.0.1:${await closedPort()}`, key: KEY },
      fallback: { baseUrl: `${fallback.url}/v1`, model: "llama3.1:8b" },
    });
    runtime = await openRuntime(makeApp(), [], { models });
    runtime.centralReachable = () => false;
    const { record, events } = await runTask(runtime, "hi");
    expect(record.result).toBe("hello from the lab GPU");
    expect(record.model).toBe("fallback/llama3.1:8b");
    expect(fallback.calls[0]!.body.model).toBe("llama3.1:8b");
    expect(fallback.calls[0]!.headers[HEADERS.run]).toBeUndefined();
    expect(ofKind(events, "run_started")[0]!.payload.model).toBe("fallback/llama3.1:8b");
  });

  it("switches a run to the fallback when the gateway goes away mid-run", async () => {
    const fallback = await openAiUpstream("finished locally");
    closers.push(fallback.close);
    const models = resolveModelSettings({
      app: "lab",
      env: {},
      gateway: { url: `http://127.0.0.1:${await closedPort()}`, key: KEY },
      fallback: { baseUrl: `${fallback.url}/v1`, model: "qwen2.5" },
    });
    runtime = await openRuntime(makeApp(), [], { models });
    runtime.centralReachable = () => true;
    const { record, events } = await runTask(runtime, "hi");
    expect(record.status).toBe("completed");
    expect(record.result).toBe("finished locally");
    expect(record.model).toBe("fallback/qwen2.5");
    const errors = ofKind(events, "error").map((e) => e.payload.code);
    expect(errors).toContain("model_fallback");
    const calls = ofKind(events, "model_call").map((e) => [
      e.payload.provider,
      e.payload.error_type,
    ]);
    expect(calls.at(-1)).toEqual(["fallback", null]);
    expect(
      calls
        .slice(0, -1)
        .every(([provider, error]) => provider === "auraison" && error === "connection"),
    ).toBe(true);
  }, 20_000);

  it("refuses model settings that cannot work", () => {
    expect(() =>
      resolveModelSettings({ app: "lab", env: {}, gateway: null, fallback: {} }),
    ).toThrow(/no model/);
    expect(() =>
      resolveModelSettings({
        app: "lab",
        env: {},
        model: "auraison/fast",
        gateway: null,
        fallback: {},
      }),
    ).toThrow(/no central/);
    expect(() =>
      resolveModelSettings({
        app: "lab",
        env: {},
        gateway: null,
        fallback: { baseUrl: "http://x" },
      }),
    ).toThrow(/go together/);
    expect(
      resolveModelSettings({
        app: "lab",
        env: {},
        model: "anthropic/claude-sonnet-4-5",
        gateway: null,
        fallback: {},
      }).primary,
    ).toEqual({
      provider: "anthropic",
      id: "claude-sonnet-4-5",
    });
    expect(
      resolveModelSettings({
        app: "lab",
        env: {},
        gateway: null,
        fallback: { baseUrl: "http://x/v1", model: "m" },
      }).primary,
    ).toEqual({
      provider: "fallback",
      id: "m",
    });
  });

  it("fails a run clearly when its model is unknown or has no key", async () => {
    runtime = await openRuntime(makeApp(), [], {
      models: resolveModelSettings({
        app: "lab",
        env: {},
        model: "nope/nothing",
        gateway: null,
        fallback: {},
      }),
    });
    const unknown = await runTask(runtime, "hi");
    expect(unknown.record.error).toMatchObject({ category: "model", reason: "model_not_found" });
    await runtime.close();
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      runtime = await openRuntime(makeApp(), [], {
        models: resolveModelSettings({
          app: "lab",
          env: {},
          model: "anthropic/claude-sonnet-4-5",
          gateway: null,
          fallback: {},
        }),
      });
      const keyless = await runTask(runtime, "hi");
      expect(keyless.record.error).toMatchObject({
        category: "model",
        reason: "model_unavailable",
      });
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
  });
});
