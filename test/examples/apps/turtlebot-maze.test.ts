import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import { ofKind, runTask } from "../../edge/helpers/runtime";
import { expectScriptedRun, openExampleApp, planExampleApp } from "../../helpers/example-app";
import { FakeRosbridge } from "../../helpers/fake-rosbridge";
import { ROS_MCP_PYTHONPATH, requirePeer } from "../../helpers/peers";

/**
 * The turtlebot-maze reference app, offline: its scripted model drives its real skills (the
 * route and goal scripts over the seeded maze), the real ros-mcp-server (ros-mcp from PyPI, over
 * MCP stdio) and its rosbridge adapter, both against the protocol-level rosbridge server
 * (labelled: ROS 2 does not install here), which plays rosapi, Nav2's NavigateToPose action
 * server and a robot whose AMCL pose follows the goals it reaches.
 */
type Point = { x: number; y: number };
let ros: FakeRosbridge;
let robot: Point = { x: 0, y: 0 };
let amcl: NodeJS.Timeout;
let runtime: EdgeRuntime;
let workdir = "";
let skills = "";

beforeAll(async () => {
  ros = await FakeRosbridge.start();
  ros.knownTypes.add("geometry_msgs/msg/PoseWithCovarianceStamped").add("nav_msgs/msg/Odometry");
  // rosapi's answers on a TurtleBot running Nav2 (ros-mcp-server asks rosapi about the graph).
  const topics = {
    "/amcl_pose": "geometry_msgs/msg/PoseWithCovarianceStamped",
    "/cmd_vel": "geometry_msgs/msg/Twist",
    "/map": "nav_msgs/msg/OccupancyGrid",
    "/odom": "nav_msgs/msg/Odometry",
    "/scan": "sensor_msgs/msg/LaserScan",
  };
  ros.services.set("/rosapi/topics", () => ({
    result: true,
    values: { topics: Object.keys(topics), types: Object.values(topics) },
  }));
  ros.services.set("/rosapi/action_servers", () => ({
    result: true,
    values: { action_servers: ["/navigate_to_pose", "/follow_waypoints", "/spin"] },
  }));
  ros.actions.set("/navigate_to_pose", (goal) => {
    const target = (goal as { pose: { pose: { position: Point } } }).pose.pose.position;
    const distance = Math.hypot(target.x - robot.x, target.y - robot.y);
    return {
      feedback: [1, 0.5, 0.1].map((f) => ({
        distance_remaining: Number((distance * f).toFixed(3)),
        number_of_recoveries: 0,
      })),
      interval_ms: 20,
      result: { error_code: 0, error_msg: "" },
      onResult: () => {
        robot = { x: target.x, y: target.y };
      },
    };
  });
  amcl = setInterval(
    () =>
      ros.publish("/amcl_pose", {
        header: { frame_id: "map" },
        pose: { pose: { position: { ...robot, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } },
      }),
    25,
  );
  const app = await openExampleApp("turtlebot-maze", {
    TURTLEBOT_ROSBRIDGE_HOST: "127.0.0.1",
    TURTLEBOT_ROSBRIDGE_PORT: new URL(ros.url).port,
    ROS_MCP_PYTHONPATH: requirePeer(ROS_MCP_PYTHONPATH, "ros-mcp"),
  });
  runtime = app.runtime;
  workdir = app.workdir;
  skills = join(app.dir, "skills");
});
afterAll(async () => {
  clearInterval(amcl);
  await runtime?.close();
  await ros?.close();
});

describe("examples/apps/turtlebot-maze (scripted model; ros-mcp-server and protocol-level rosbridge)", () => {
  it("routes start to exit and drives it with one Nav2 NavigateToPose goal per corridor", async () => {
    const { record, events } = await runTask(runtime, "drive to the exit");
    expect(record.status).toBe("completed");
    expectScriptedRun(events, [
      ["mcp__ros__get_topics", "mcp__ros__get_actions", "mcp__ros__subscribe_once", "read"],
      ["bash"],
      ["bash"],
      ["nav_navigate_to_pose"],
      ["nav_navigate_to_pose"],
      ["nav_navigate_to_pose"],
      ["nav_navigate_to_pose"],
      ["nav_pose", "nav_cmd_vel"],
    ]);
    // rosbridge received the four goals, in route order, as the goal script wrote them.
    const goals = ros.ops("send_action_goal");
    expect(goals.map((g) => [g.action, g.action_type, g.feedback])).toEqual(
      Array(4).fill(["/navigate_to_pose", "nav2_msgs/action/NavigateToPose", true]),
    );
    const script = execFileSync(
      "bash",
      [join(skills, "navigate/scripts/goal.sh"), "d", "e", "f", "exit"],
      { cwd: workdir, encoding: "utf8" },
    );
    expect(goals.map((g) => g.args)).toEqual(
      script
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    );
    expect(robot).toEqual({ x: 4, y: 4 });
    // ros-mcp-server asked rosapi about the graph and took one pose (no subscription id), the
    // rosbridge adapter took the others.
    expect(ros.ops("call_service").map((f) => [f.service, f.type])).toEqual([
      ["/rosapi/topics", "rosapi_msgs/srv/Topics"],
      ["/rosapi/action_servers", "rosapi_msgs/srv/ActionServers"],
    ]);
    const pose = "geometry_msgs/msg/PoseWithCovarianceStamped";
    expect(ros.ops("subscribe").map((f) => [f.topic, f.type, f.id === undefined])).toEqual([
      ["/amcl_pose", pose, true],
      ["/amcl_pose", pose, false],
    ]);
    expect(ros.ops("unsubscribe").map((f) => f.topic)).toEqual(["/amcl_pose", "/amcl_pose"]);
    expect(ros.ops("publish")).toEqual([
      expect.objectContaining({
        topic: "/cmd_vel",
        msg: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
      }),
    ]);
    expect(ros.activeGoals).toBe(0);

    // Nav2's feedback is the goals' progress; the last pose read is the exit.
    const progress = ofKind(events, "tool_call_progress").map((e) => e.payload.partial);
    expect(progress.some((p) => p.includes('"distance_remaining":2'))).toBe(true);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    const lastPose = finished.filter((f) => f.tool === "nav_pose").at(-1)!;
    expect(JSON.parse(lastPose.result!).messages[0].pose.pose.position).toEqual({
      x: 4,
      y: 4,
      z: 0,
    });
    const graph = (tool: string) => JSON.parse(finished.find((f) => f.tool === tool)!.result!);
    expect(graph("mcp__ros__get_topics")).toMatchObject({ topic_count: 5 });
    expect(graph("mcp__ros__get_actions").actions).toContain("/navigate_to_pose");
    expect(graph("mcp__ros__subscribe_once").msg.pose.pose.position).toEqual({ x: 0, y: 0, z: 0 });
    const route = finished.find((f) => f.tool === "bash")!;
    expect(route.result).toContain("d\ne\nf\nexit\nlength_m 8");
    expect(record.result).toContain("not from a model");
  });

  it("the navigate skill's PDDL domain gives the same route with auraison plan pddl", async () => {
    const plan = await planExampleApp("turtlebot-maze");
    expect(plan).toMatchObject({ cost: 8, optimal: true });
    expect(plan.actions).toEqual(["(move start d)", "(move d e)", "(move e f)", "(move f exit)"]);
    expect(plan.skills).toEqual(Array(4).fill(["navigate"]));
    const script = execFileSync(
      "bash",
      [join(skills, "navigate/scripts/route.sh"), "start", "exit"],
      { cwd: workdir, encoding: "utf8" },
    );
    expect(script.trim().split("\n").slice(0, -1)).toEqual(
      plan.actions.map((a) => a.slice(1, -1).split(" ")[2]),
    );
    const registered = runtime.skills.find((s) => s.name === "navigate")!;
    expect(registered.pddl).toContain("(:action move");
    expect(registered.params).toMatchObject({ required: ["to"] });
  });
});
