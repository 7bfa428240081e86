import { resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, type ManagedProcess } from "../../../../cli/local-stack/processes";
import { zenohAdapter } from "../../../../edge/adapters/zenoh/adapter";
import type { EdgeRuntime } from "../../../../edge/runtime";
import { fakeVllm } from "../../../helpers/fake-vllm";
import { startZenohPython, startZenohRouter } from "../../../helpers/zenoh";
import { makeApp, ofKind, openRuntime } from "../../helpers/runtime";
import { adapterHarness, declarationIssues, runAndCancelWhen } from "../helpers";

/**
 * Against real Zenoh: a router (the zenoh runtime with the official remote-api plugin, built
 * from crates by `npm run peers`) and a Python peer on eclipse-zenoh serving queryables (one in
 * front of an OpenAI-compatible server standing in for vLLM), a subscriber and a publisher.
 */
let router: Awaited<ReturnType<typeof startZenohRouter>>;
let peer: ManagedProcess;
let vllm: Awaited<ReturnType<typeof fakeVllm>>;
let locator = "";
beforeAll(async () => {
  vllm = await fakeVllm((body) => {
    const obs = JSON.parse(String((body.messages as Array<{ content: string }>)[0]!.content));
    return { text: JSON.stringify({ dx: obs.gripper_open ? 0.05 : 0, gripper: "close" }) };
  });
  router = await startZenohRouter();
  peer = await startZenohPython("zenoh-peer", resolve("test/peers/zenoh/vla_queryable.py"), [
    "--router",
    router.endpoint,
    "--vllm",
    vllm.url,
  ]);
  locator = router.locator;
}, 60_000);
afterAll(async () => {
  await peer?.stop();
  await router?.proc.stop();
  await vllm?.close();
});

const harness = adapterHarness(zenohAdapter);
let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await harness.closeAll();
});

const declaration = (overrides: Record<string, unknown> = {}) => ({
  kind: "zenoh",
  name: "lab-zenoh",
  locator,
  timeout_ms: 5_000,
  tools: [
    {
      tool: "vla_infer",
      description: "Ask the VLA policy for the next action given an observation.",
      op: "get",
      key_expr: "ai/inference/vla",
      input_schema: {
        type: "object",
        properties: { id: { type: "string" }, gripper_open: { type: "boolean" } },
        required: ["id"],
      },
    },
    {
      tool: "slow_infer",
      description: "A slow model.",
      op: "get",
      key_expr: "ai/inference/slow",
      timeout_ms: 600,
    },
    {
      tool: "broken_infer",
      description: "A broken model.",
      op: "get",
      key_expr: "ai/inference/broken",
    },
    {
      tool: "nobody_home",
      description: "No queryable.",
      op: "get",
      key_expr: "ai/inference/none",
      timeout_ms: 500,
    },
    {
      tool: "robot_cmd",
      description: "Send a command to a robot.",
      op: "put",
      key_expr: "robot/cmd/{robot}",
      input_schema: {
        type: "object",
        properties: { robot: { type: "string" } },
        required: ["robot"],
      },
    },
    {
      tool: "robot_echo",
      description: "Echoed commands.",
      op: "subscribe",
      key_expr: "robot/echo/*",
      timeout_ms: 3_000,
    },
    {
      tool: "robot_odom",
      description: "Odometry.",
      op: "subscribe",
      key_expr: "robot/odom",
      count: 3,
    },
  ],
  ...overrides,
});

const open = (overrides: Record<string, unknown> = {}) => harness.tools(declaration(overrides));

describe("zenoh adapter (real router and eclipse-zenoh peer)", { timeout: 60_000 }, () => {
  it("queries a queryable: the observation goes out as JSON, the model's action comes back", async () => {
    const tools = open();
    const progress: string[] = [];
    const out = await tools.vla_infer!.execute(
      { id: "obs-1", gripper_open: true },
      { progress: (p) => progress.push(p) },
    );
    expect(out.output).toEqual({
      key_expr: "ai/inference/vla",
      encoding: "application/json",
      payload: {
        action: { dx: 0.05, gripper: "close" },
        model: "openvla-7b",
        observation_id: "obs-1",
      },
    });
    expect(progress).toEqual(["reply 1 from ai/inference/vla"]);
    const sent = vllm.requests.at(-1)!.body.messages as Array<{ role: string; content: string }>;
    expect(sent.map((m) => [m.role, JSON.parse(m.content)])).toEqual([
      ["user", { id: "obs-1", gripper_open: true }],
    ]);
  });

  it("fails on an error reply, on no queryable, and on a queryable slower than the timeout", async () => {
    const tools = open();
    await expect(tools.broken_infer!.execute({}, {})).rejects.toThrow(
      /the queryable answered an error: model not loaded/,
    );
    await expect(tools.nobody_home!.execute({}, {})).rejects.toThrow(
      /no queryable answered on ai\/inference\/none/,
    );
    const started = Date.now();
    await expect(tools.slow_infer!.execute({}, {})).rejects.toThrow(
      /query on ai\/inference\/slow timed out after 600 ms/,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("puts on a key filled from the arguments, and collects samples from a subscription", async () => {
    const tools = open();
    const echo = tools.robot_echo!.execute({ count: 1 }, {});
    let echoed = false;
    void echo.finally(() => {
      echoed = true;
    });
    // The put reaches the echo only once the subscription is declared: repeat it until then.
    for (let i = 0; i < 50 && !echoed; i++) {
      const put = await tools.robot_cmd!.execute({ robot: "arm1", joint: 2, angle: 0.5 }, {});
      expect(put.output).toEqual({ put: true, key_expr: "robot/cmd/arm1" });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await echo).output).toEqual({
      key_expr: "robot/echo/*",
      samples: [
        {
          key_expr: "robot/echo/arm1",
          encoding: "application/json",
          payload: { joint: 2, angle: 0.5 },
        },
      ],
    });
    await expect(tools.robot_cmd!.execute({ robot: "a/b" }, {})).rejects.toThrow(
      /must be one key chunk/,
    );
    const progress: string[] = [];
    const odom = await tools.robot_odom!.execute({}, { progress: (p) => progress.push(p) });
    const samples = (odom.output as { samples: Array<{ payload: { seq: number } }> }).samples;
    expect(samples).toHaveLength(3);
    expect(samples[1]!.payload.seq).toBe(samples[0]!.payload.seq + 1);
    expect(progress).toEqual(["1/3 from robot/odom", "2/3 from robot/odom", "3/3 from robot/odom"]);
  });

  it("fails fast when the router is not there, and refuses bad declarations with the field at fault", async () => {
    const down = open({ locator: `ws/127.0.0.1:${await freePort()}`, connect_timeout_ms: 1_000 });
    await expect(down.vla_infer!.execute({ id: "x" }, {})).rejects.toThrow(
      /cannot reach the zenoh router's remote-api/,
    );
    expect(declarationIssues(zenohAdapter, declaration({ locator: "tcp/127.0.0.1:7447" }))).toEqual(
      ["locator"],
    );
    const d = declaration();
    (d.tools[4] as Record<string, unknown>).key_expr = "robot/cmd/{name}";
    expect(declarationIssues(zenohAdapter, d)).toEqual(["tools[4].key_expr"]);
  });

  it("fills key parameters only from declared properties and the call's own arguments", async () => {
    for (const param of ["constructor", "toString", "__proto__"]) {
      const d = declaration();
      (d.tools[4] as Record<string, unknown>).key_expr = `robot/cmd/{${param}}`;
      expect(declarationIssues(zenohAdapter, d), param).toEqual(["tools[4].key_expr"]);
    }
    for (const param of ["constructor", "toString"]) {
      const d = declaration();
      Object.assign(d.tools[4]!, {
        key_expr: `robot/cmd/{${param}}`,
        input_schema: { type: "object", properties: { [param]: { type: "string" } } },
      });
      const tools = harness.tools(d);
      await expect(tools.robot_cmd!.execute({}, {}), param).rejects.toThrow(
        `missing key parameter '${param}'`,
      );
      expect((await tools.robot_cmd!.execute({ [param]: "arm2" }, {})).output).toEqual({
        put: true,
        key_expr: "robot/cmd/arm2",
      });
    }
    // An argument named `__proto__` goes out in the payload like any other.
    await open().vla_infer!.execute(JSON.parse('{"id": "obs-3", "__proto__": {"x": 1}}'), {});
    const sent = vllm.requests.at(-1)!.body.messages as Array<{ content: string }>;
    expect(Object.entries(JSON.parse(sent[0]!.content))).toEqual([
      ["id", "obs-3"],
      ["__proto__", { x: 1 }],
    ]);
  });

  it("in a run: cancelling the run cancels the query in flight", async () => {
    const app = makeApp({ adapters: { "lab-zenoh": declaration({ timeout_ms: 60_000 }) } });
    runtime = await openRuntime(app, [
      { tool: "vla_infer", args: { id: "obs-9" } },
      { tool: "slow_infer", args: {} },
      { text: "never" },
    ]);
    const { record, events } = await runAndCancelWhen(runtime, "infer", (evs) =>
      ofKind(evs, "tool_call_started").some((e) => e.payload.tool === "slow_infer"),
    );
    expect(record.status).toBe("cancelled");
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => [f.tool, f.status])).toEqual([
      ["vla_infer", "ok"],
      ["slow_infer", "error"],
    ]);
    expect(JSON.parse(finished[0]!.result!)).toMatchObject({
      payload: { action: { gripper: "close" } },
    });
    expect(finished[1]!.error_message).toMatch(
      /query on ai\/inference\/slow was stopped: the run is stopping/,
    );
    expect(finished[1]!.duration_ms).toBeLessThan(5_000);
  });

  it("says when the router did not take a put, and reconnects once it is back", async () => {
    const tools = open({ connect_timeout_ms: 1_000 });
    await tools.robot_cmd!.execute({ robot: "r1" }, {});
    await router.proc.stop();
    await expect(tools.robot_cmd!.execute({ robot: "r1" }, {})).rejects.toThrow(
      /the zenoh router did not confirm the put: Remote api request timeout/,
    );
    router = await startZenohRouter(router.ports);
    expect((await tools.robot_cmd!.execute({ robot: "r1" }, {})).output).toEqual({
      put: true,
      key_expr: "robot/cmd/r1",
    });
  });
});
