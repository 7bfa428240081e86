import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManagedProcess } from "../../../cli/local-stack/processes";
import { zenohAdapter } from "../../../edge/adapters/zenoh/adapter";
import type { EdgeRuntime } from "../../../edge/runtime";
import { ofKind, runTask } from "../../edge/helpers/runtime";
import {
  EXAMPLE_APPS,
  expectScriptedRun,
  openExampleApp,
  outputOf,
  planExampleApp,
} from "../../helpers/example-app";
import { FakeRosbridge } from "../../helpers/fake-rosbridge";
import { fakeVllm } from "../../helpers/fake-vllm";
import { startZenohPython, startZenohRouter } from "../../helpers/zenoh";

/**
 * The ar4-physical-ai reference app, offline: its scripted model drives MoveIt and the gripper
 * through its rosbridge adapter against the protocol-level rosbridge server (labelled: ROS 2
 * does not install here), and the VLA policy through its zenoh adapter against a real Zenoh
 * router and an eclipse-zenoh queryable on ai/inference/vla in front of an OpenAI-compatible
 * server standing in for vLLM (no GPU or weights here).
 */
let ros: FakeRosbridge;
let joints: NodeJS.Timeout;
let vllm: Awaited<ReturnType<typeof fakeVllm>>;
let router: Awaited<ReturnType<typeof startZenohRouter>>;
let peer: ManagedProcess;
let runtime: EdgeRuntime;
let gripperOpen = true;

beforeAll(async () => {
  ros = await FakeRosbridge.start();
  ros.actions.set("/move_action", {
    feedback: [{ state: "PLANNING" }, { state: "MONITOR" }],
    interval_ms: 10,
    result: { error_code: { val: 1 }, planning_time: 0.08 },
  });
  ros.actions.set("/gripper_controller/gripper_cmd", (goal) => {
    const position = (goal as { command: { position: number } }).command.position;
    return {
      feedback: [{ position: position === 0 ? 0.012 : 0.03, stalled: false }],
      interval_ms: 10,
      // Closing on a 0.024 m block stalls the fingers at its width.
      result:
        position === 0
          ? { position: 0.012, effort: 20, stalled: true, reached_goal: false }
          : { position: 0.03, effort: 0, stalled: false, reached_goal: true },
      onResult: () => {
        gripperOpen = position > 0;
      },
    };
  });
  joints = setInterval(
    () =>
      ros.publish("/joint_states", {
        name: ["joint_1", "joint_2", "joint_3", "joint_4", "joint_5", "joint_6", "gripper"],
        position: [0, -0.52, 0.87, 0, 1.22, 0, gripperOpen ? 0.03 : 0.012],
      }),
    25,
  );
  vllm = await fakeVllm((body) => {
    const obs = JSON.parse(String((body.messages as Array<{ content: string }>)[0]!.content));
    return {
      text: JSON.stringify({
        dx: 0,
        dy: 0,
        dz: obs.gripper_open ? -0.04 : 0,
        gripper: "close",
        instruction: obs.instruction,
      }),
    };
  });
  router = await startZenohRouter();
  peer = await startZenohPython("zenoh-vla", resolve("test/peers/zenoh/vla_queryable.py"), [
    "--router",
    router.endpoint,
    "--vllm",
    vllm.url,
  ]);
  runtime = (
    await openExampleApp("ar4-physical-ai", {
      AR4_ROSBRIDGE: ros.url.slice("ws://".length),
      AR4_ZENOH: router.locator.slice("ws/".length),
    })
  ).runtime;
}, 60_000);
afterAll(async () => {
  clearInterval(joints);
  await runtime?.close();
  await peer?.stop();
  await router?.proc.stop();
  await vllm?.close();
  await ros?.close();
});

describe("examples/apps/ar4-physical-ai (scripted model; protocol-level rosbridge, real Zenoh, vLLM stand-in)", {
  timeout: 60_000,
}, () => {
  it("restacks the blocks: MoveIt motions and the gripper over rosbridge, VLA grasps over Zenoh", async () => {
    // A subscriber on the arm's command echo (the peer republishes robot/cmd/<arm> there).
    const echo = zenohAdapter(
      {
        kind: "zenoh",
        name: "echo",
        locator: router.locator,
        tools: [{ tool: "echo", description: "echo", op: "subscribe", key_expr: "robot/echo/ar4" }],
      },
      { file: "echo.json", env: {} },
    );
    const commands = echo.tools[0]!.execute({ count: 2 }, {});
    await new Promise((r) => setTimeout(r, 500));

    const { record, events } = await runTask(runtime, "put red on green and blue on pad3");
    expect(record.status).toBe("completed");
    const pick = [["arm_move"], ["vla_next_action"], ["arm_command"], ["gripper"]];
    const place = [["arm_move"], ["gripper"]];
    expectScriptedRun(events, [
      ["arm_joint_states", "read"],
      ["bash"],
      ...pick,
      ...place,
      ...pick,
      ...place,
      ["arm_joint_states"],
    ]);

    // MoveIt got four goals, as the arm-move skill's script writes them; the gripper closed and
    // opened twice.
    const script = (x: string, y: string, z: string) =>
      JSON.parse(
        execFileSync(
          "bash",
          [join(EXAMPLE_APPS, "ar4-physical-ai/skills/arm-move/scripts/move-goal.sh"), x, y, z],
          { encoding: "utf8" },
        ),
      );
    const goals = ros.ops("send_action_goal");
    expect(goals.filter((g) => g.action === "/move_action").map((g) => g.args)).toEqual([
      script("0.30", "-0.12", "0.18"),
      script("0.30", "0.12", "0.05"),
      script("0.30", "-0.12", "0.14"),
      script("0.30", "0.00", "0.09"),
    ]);
    expect(
      goals
        .filter((g) => g.action === "/gripper_controller/gripper_cmd")
        .map((g) => [
          g.action_type,
          (g.args as { command: { position: number } }).command.position,
        ]),
    ).toEqual([
      ["control_msgs/action/GripperCommand", 0],
      ["control_msgs/action/GripperCommand", 0.03],
      ["control_msgs/action/GripperCommand", 0],
      ["control_msgs/action/GripperCommand", 0.03],
    ]);
    expect(ros.activeGoals).toBe(0);

    // The queryable was queried twice, and asked vLLM with the observation each time.
    expect(
      vllm.requests.map(
        (r) =>
          JSON.parse(String((r.body.messages as Array<{ content: string }>)[0]!.content))
            .instruction,
      ),
    ).toEqual(["grasp the blue block", "grasp the red block"]);
    const vla = ofKind(events, "tool_call_finished").filter(
      (e) => e.payload.tool === "vla_next_action",
    );
    expect(vla.map((e) => outputOf(e))).toEqual([
      expect.objectContaining({
        key_expr: "ai/inference/vla",
        payload: {
          action: {
            dx: 0,
            dy: 0,
            dz: -0.04,
            gripper: "close",
            instruction: "grasp the blue block",
          },
          model: "openvla-7b",
          observation_id: "obs-1",
        },
      }),
      expect.objectContaining({
        payload: expect.objectContaining({ observation_id: "obs-2" }),
      }),
    ]);
    // Both of the arm's commands went over Zenoh to a real subscriber.
    const echoed = (await commands).output as { samples: { key_expr: string; payload: unknown }[] };
    expect(echoed.samples.map((s) => [s.key_expr, s.payload])).toEqual([
      ["robot/echo/ar4", { dx: 0, dy: 0, dz: -0.04, gripper: "close" }],
      ["robot/echo/ar4", { dx: 0, dy: 0, dz: -0.04, gripper: "close" }],
    ]);
    await echo.close?.();
    expect(record.result).toContain("not from a model");
  });

  it("the pick and place skills' PDDL domains merge into the plan the scenario follows", async () => {
    const plan = await planExampleApp("ar4-physical-ai");
    expect(plan).toMatchObject({ cost: 4, optimal: true });
    expect(plan.actions).toEqual([
      "(pick blue red)",
      "(place blue pad3)",
      "(pick red pad1)",
      "(place red green)",
    ]);
    expect(plan.skills).toEqual([["pick"], ["place"], ["pick"], ["place"]]);
    expect(runtime.skills.map((s) => [s.name, s.pddl !== undefined, s.params?.required])).toEqual([
      ["arm-move", false, undefined],
      ["pick", true, ["block"]],
      ["place", true, ["block", "on"]],
    ]);
  });
});
