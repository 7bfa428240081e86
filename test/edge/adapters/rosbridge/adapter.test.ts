import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rosbridgeAdapter } from "../../../../edge/adapters/rosbridge/adapter";
import type { EdgeRuntime } from "../../../../edge/runtime";
import { FakeRosbridge } from "../../../helpers/fake-rosbridge";
import { crashMidRun } from "../../helpers/edge-process";
import { makeApp, ofKind, openRuntime } from "../../helpers/runtime";
import { adapterHarness, declarationIssues, runAndCancelWhen, until } from "../helpers";

let ros: FakeRosbridge;
beforeAll(async () => {
  ros = await FakeRosbridge.start();
  ros.services.set("/add_two_ints", (args) => {
    const { a, b } = args as { a: number; b: number };
    return { result: true, values: { sum: a + b } };
  });
  ros.services.set("/arm/enable", () => ({ result: false, values: "motor driver fault" }));
  ros.services.set("/hang", () => "never");
  ros.actions.set("/fibonacci", {
    feedback: [{ sequence: [0, 1] }, { sequence: [0, 1, 1] }, { sequence: [0, 1, 1, 2] }],
    interval_ms: 20,
    result: { sequence: [0, 1, 1, 2, 3] },
  });
  ros.actions.set("/navigate", {
    feedback: Array.from({ length: 500 }, (_, i) => ({ distance_remaining: 500 - i })),
    interval_ms: 50,
    result: { reached: true },
  });
  ros.actions.set("/dock", {
    feedback: [],
    interval_ms: 10,
    result: { reason: "blocked" },
    status: 6,
  });
});
afterAll(() => ros.close());

const harness = adapterHarness(rosbridgeAdapter);
let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await harness.closeAll();
});

const declaration = (overrides: Record<string, unknown> = {}) => ({
  kind: "rosbridge",
  name: "arm",
  url: ros.url,
  timeout_ms: 2_000,
  tools: [
    {
      tool: "ros_cmd_vel",
      description: "Drive the base.",
      op: "publish",
      topic: "/cmd_vel",
      type: "geometry_msgs/msg/Twist",
    },
    {
      tool: "ros_joint_states",
      description: "Read joint states.",
      op: "subscribe",
      topic: "/joint_states",
      type: "sensor_msgs/msg/JointState",
      count: 2,
      timeout_ms: 500,
    },
    {
      tool: "ros_bad_topic",
      description: "Unknown type.",
      op: "subscribe",
      topic: "/odd",
      type: "nope_msgs/msg/Odd",
    },
    {
      tool: "ros_add",
      description: "Add two ints.",
      op: "service",
      service: "/add_two_ints",
      type: "example_interfaces/srv/AddTwoInts",
    },
    { tool: "ros_enable", description: "Enable the arm.", op: "service", service: "/arm/enable" },
    {
      tool: "ros_hang",
      description: "Never answers.",
      op: "service",
      service: "/hang",
      timeout_ms: 300,
    },
    {
      tool: "ros_fib",
      description: "Fibonacci action.",
      op: "action",
      action: "/fibonacci",
      type: "example_interfaces/action/Fibonacci",
    },
    {
      tool: "ros_navigate",
      description: "Navigate.",
      op: "action",
      action: "/navigate",
      type: "nav2_msgs/action/NavigateToPose",
    },
    {
      tool: "ros_dock",
      description: "Dock.",
      op: "action",
      action: "/dock",
      type: "nav2_msgs/action/Dock",
    },
  ],
  ...overrides,
});

const open = (overrides: Record<string, unknown> = {}) => harness.tools(declaration(overrides));

describe("rosbridge adapter (against a protocol-level rosbridge server)", () => {
  it("publishes (advertising first) and collects messages from a subscription", async () => {
    const tools = open();
    const out = await tools.ros_cmd_vel!.execute({ linear: { x: 0.2 } }, {});
    expect(out.output).toEqual({
      published: true,
      topic: "/cmd_vel",
      type: "geometry_msgs/msg/Twist",
    });
    await until(() => ros.ops("publish").length === 1);
    expect(ros.ops("advertise").at(-1)).toMatchObject({
      op: "advertise",
      topic: "/cmd_vel",
      type: "geometry_msgs/msg/Twist",
    });
    expect(ros.ops("publish").at(-1)).toMatchObject({
      op: "publish",
      topic: "/cmd_vel",
      msg: { linear: { x: 0.2 } },
    });
    expect(ros.ops("publish").at(-1)!.id).toMatch(/^publish:\/cmd_vel:\d+$/);

    const progress: string[] = [];
    const reading = tools.ros_joint_states!.execute({}, { progress: (p) => progress.push(p) });
    await until(() => ros.subscriberCount("/joint_states") === 1);
    ros.publish("/joint_states", { position: [0.1] });
    ros.publish("/joint_states", { position: [0.2] });
    ros.publish("/joint_states", { position: [0.3] });
    expect((await reading).output).toEqual({
      topic: "/joint_states",
      messages: [{ position: [0.1] }, { position: [0.2] }],
    });
    expect(progress).toEqual(["1/2 from /joint_states", "2/2 from /joint_states"]);
    expect(ros.ops("subscribe").at(-1)).toMatchObject({
      topic: "/joint_states",
      type: "sensor_msgs/msg/JointState",
    });
    await until(() => ros.ops("unsubscribe").length === 1);
    expect(ros.subscriberCount("/joint_states")).toBe(0);
  });

  it("fails a subscription on timeout (saying how many came) and on the server's status error", async () => {
    const tools = open();
    await expect(tools.ros_joint_states!.execute({ count: 3 }, {})).rejects.toThrow(
      /waiting for 3 message\(s\) on \/joint_states timed out after 500 ms \(got 0 of 3\)/,
    );
    await expect(tools.ros_bad_topic!.execute({}, {})).rejects.toThrow(
      /Unable to import msg class nope_msgs/,
    );
  });

  it("calls services: values back, a failed response or a silent service as failed calls", async () => {
    const tools = open();
    expect((await tools.ros_add!.execute({ a: 2, b: 3 }, {})).output).toEqual({ sum: 5 });
    expect(ros.ops("call_service").at(-1)).toMatchObject({
      service: "/add_two_ints",
      type: "example_interfaces/srv/AddTwoInts",
      args: { a: 2, b: 3 },
    });
    await expect(tools.ros_enable!.execute({}, {})).rejects.toThrow(
      /service \/arm\/enable failed: motor driver fault/,
    );
    await expect(tools.ros_hang!.execute({}, {})).rejects.toThrow(
      /service \/hang timed out after 300 ms/,
    );
  });

  it("runs an action goal with feedback as progress; a goal that ends aborted fails the call", async () => {
    const tools = open();
    const feedback: string[] = [];
    const out = await tools.ros_fib!.execute({ order: 4 }, { progress: (p) => feedback.push(p) });
    expect(out.output).toEqual({ status: "succeeded", result: { sequence: [0, 1, 1, 2, 3] } });
    expect(feedback).toEqual([
      '{"sequence":[0,1]}',
      '{"sequence":[0,1,1]}',
      '{"sequence":[0,1,1,2]}',
    ]);
    expect(ros.ops("send_action_goal").at(-1)).toMatchObject({
      action: "/fibonacci",
      action_type: "example_interfaces/action/Fibonacci",
      args: { order: 4 },
      feedback: true,
    });
    await expect(tools.ros_dock!.execute({}, {})).rejects.toThrow(
      /goal ended aborted: \{"reason":"blocked"\}/,
    );
  });

  it("cancels the goal when the call is stopped, and when it times out", async () => {
    const tools = open();
    const stop = new AbortController();
    const going = tools.ros_navigate!.execute({}, { signal: stop.signal });
    await until(() => ros.activeGoals === 1);
    stop.abort();
    await expect(going).rejects.toThrow(
      /stopped: the run is stopping; action \/navigate: goal cancelled \(the goal ended canceled\)/,
    );
    const goal = ros.ops("send_action_goal").at(-1)!;
    expect(ros.ops("cancel_action_goal").at(-1)).toEqual({
      op: "cancel_action_goal",
      id: goal.id,
      action: "/navigate",
    });
    expect(ros.activeGoals).toBe(0);

    const slow = open({ timeout_ms: 300 });
    await expect(slow.ros_navigate!.execute({}, {})).rejects.toThrow(
      /action \/navigate timed out after 300 ms; .*goal cancelled/,
    );
    expect(ros.activeGoals).toBe(0);
  });

  it("fails calls in flight when the connection drops, and reconnects on the next call", async () => {
    const tools = open();
    const going = tools.ros_navigate!.execute({}, {});
    await until(() => ros.activeGoals === 1);
    ros.dropConnections();
    await expect(going).rejects.toThrow(
      /connection to rosbridge at ws:\/\/127\.0\.0\.1:\d+ was lost/,
    );
    expect((await tools.ros_add!.execute({ a: 1, b: 1 }, {})).output).toEqual({ sum: 2 });
    const down = open({ url: "ws://127.0.0.1:1" });
    await expect(down.ros_add!.execute({ a: 1, b: 1 }, {})).rejects.toThrow(
      /cannot connect to rosbridge at ws:\/\/127\.0\.0\.1:1/,
    );
  });

  it("cancels a goal from a new connection when the connection drops mid-goal, or says it could not", async () => {
    const tools = open();
    const going = tools.ros_navigate!.execute({}, {});
    await until(() => ros.activeGoals === 1);
    const goal = ros.ops("send_action_goal").at(-1)!;
    // rosbridge stays up and, as the real one does, goes on with the goal of a client that left.
    ros.cutConnections();
    await expect(going).rejects.toThrow(
      `action /navigate: connection to rosbridge at ${ros.url} was lost during the goal; sent cancel_action_goal for ${goal.id} on a new connection`,
    );
    await until(() => ros.activeGoals === 0);
    expect(ros.ops("cancel_action_goal").at(-1)).toEqual({
      op: "cancel_action_goal",
      id: goal.id,
      action: "/navigate",
    });

    const gone = await FakeRosbridge.start();
    gone.actions.set("/navigate", { feedback: [1, 2, 3], interval_ms: 1_000, result: null });
    const cut = open({ url: gone.url, connect_timeout_ms: 500 });
    const stranded = cut.ros_navigate!.execute({}, {});
    await until(() => gone.activeGoals === 1);
    await gone.close();
    await expect(stranded).rejects.toThrow(
      /was lost during the goal; could not send cancel_action_goal for send_action_goal:\/navigate:\d+, so the goal may still run: cannot connect to rosbridge/,
    );
  });

  it("drops a connection whose path went silent once a call times out with nothing heard, and reconnects", async () => {
    const tools = open({ timeout_ms: 300 });
    expect((await tools.ros_add!.execute({ a: 1, b: 1 }, {})).output).toEqual({ sum: 2 });
    const before = ros.accepted;
    ros.silence();
    await expect(tools.ros_add!.execute({ a: 1, b: 2 }, {})).rejects.toThrow(
      /service \/add_two_ints timed out after 300 ms/,
    );
    expect((await tools.ros_add!.execute({ a: 1, b: 3 }, {})).output).toEqual({ sum: 4 });
    const published = ros.ops("publish").length;
    await tools.ros_cmd_vel!.execute({ linear: { x: 0.1 } }, {});
    await until(() => ros.ops("publish").length === published + 1);
    expect(ros.accepted).toBe(before + 1);
  });

  it("refuses bad declarations with the field at fault", () => {
    const issues = (d: unknown) => declarationIssues(rosbridgeAdapter, d);
    expect(issues(declaration({ url: "http://x" }))).toEqual(["url"]);
    const d = declaration();
    (d.tools[6] as Record<string, unknown>).type = "example_interfaces/msg/Fibonacci";
    expect(issues(d)).toEqual(["tools[6].type"]);
    const dup = declaration();
    dup.tools[1]!.tool = "ros_cmd_vel";
    expect(issues(dup)).toEqual(["tools[1].tool"]);
    expect(() =>
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
      rosbridgeAdapter(declaration({ url: "ws://${ROS_HOST}:9090" }), {
        file: "arm.json",
        env: {},
      }),
    ).toThrow(/ROS_HOST is not set/);
  });

  it("after a crash (SIGKILL) mid-goal, the restarted agent cancels the goal the call left running", async () => {
    const app = makeApp({ adapters: { arm: declaration({ timeout_ms: 60_000 }) } });
    const { events } = await crashMidRun(
      app,
      [{ tool: "ros_navigate", args: { pose: { x: 3 } } }, { text: "navigation interrupted" }],
      (evs) => ofKind(evs, "tool_call_progress").some((e) => e.payload.tool === "ros_navigate"),
      async () => {
        // rosbridge keeps a goal whose client went away.
        await new Promise((r) => setTimeout(r, 300));
        expect(ros.activeGoals).toBe(1);
      },
    );
    const goal = ros.ops("send_action_goal").at(-1)!;
    const started = ofKind(events, "tool_call_started")[0]!;
    expect(goal.id).toBe(
      `send_action_goal:/navigate:auraison-${started.run_id}-${started.attempt}-${started.payload.tool_call_id.replace(/[^A-Za-z0-9_-]/g, "_")}`,
    );
    expect(ros.ops("cancel_action_goal").at(-1)).toEqual({
      op: "cancel_action_goal",
      id: goal.id,
      action: "/navigate",
    });
    expect(ros.activeGoals).toBe(0);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ tool: "ros_navigate", error_type: "interrupted" });
    expect(finished[0]!.error_message).toContain(
      `Asked rosbridge to cancel the goal it sent to /navigate (${goal.id}).`,
    );
    expect(ofKind(events, "run_completed")).toHaveLength(1);
  });

  it("in a run: feedback becomes tool_call_progress, and cancelling the run cancels the goal", async () => {
    const app = makeApp({ adapters: { arm: declaration() } });
    runtime = await openRuntime(app, [
      { tool: "ros_add", args: { a: 20, b: 22 } },
      { tool: "ros_navigate", args: { pose: { x: 1 } } },
      { text: "never reached" },
    ]);
    const goalsBefore = ros.ops("cancel_action_goal").length;
    const { record, events, cancelled } = await runAndCancelWhen(
      runtime,
      "add, then navigate",
      (evs) => ofKind(evs, "tool_call_progress").some((e) => e.payload.tool === "ros_navigate"),
    );
    expect(cancelled).toBe(true);
    expect(record.status).toBe("cancelled");
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => [f.tool, f.status])).toEqual([
      ["ros_add", "ok"],
      ["ros_navigate", "error"],
    ]);
    expect(JSON.parse(finished[0]!.result!)).toEqual({ sum: 42 });
    expect(finished[1]!.error_message).toMatch(/goal cancelled \(the goal ended canceled\)/);
    expect(ofKind(events, "tool_call_progress")[0]!.payload.partial).toMatch(/distance_remaining/);
    expect(ros.ops("cancel_action_goal").length).toBe(goalsBefore + 1);
    expect(ros.activeGoals).toBe(0);
    expect(events.at(-1)!.kind).toBe("run_cancelled");
  });
});
