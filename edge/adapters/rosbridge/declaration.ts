import { z } from "zod";
import { AdapterName, DeclaredTool, InputSchema, TimeoutMs, uniqueTools } from "../declaration";

/** A ROS 2 name: `/arm/joint_states`, `/move_to`. */
const RosName = z.string().regex(/^\/?[A-Za-z_~][A-Za-z0-9_/~]*$/, "a ROS name, e.g. /arm/cmd_vel");
/** A ROS 2 interface type: `geometry_msgs/msg/Twist`, `std_srvs/srv/SetBool`, `pkg/action/X`. */
const RosType = (kind: "msg" | "srv" | "action") =>
  z
    .string()
    .regex(
      new RegExp(`^[A-Za-z][A-Za-z0-9_]*/(?:${kind}/)?[A-Za-z][A-Za-z0-9_]*$`),
      `a ROS 2 ${kind} type, e.g. pkg/${kind}/Name`,
    );

const Publish = z.strictObject({
  ...DeclaredTool,
  op: z.literal("publish"),
  topic: RosName,
  type: RosType("msg"),
  /** The message's schema; the tool's arguments are the message. */
  input_schema: InputSchema.default({ type: "object" }),
});

const Subscribe = z.strictObject({
  ...DeclaredTool,
  op: z.literal("subscribe"),
  topic: RosName,
  type: RosType("msg"),
  /** Messages to collect per call (the model may ask for fewer or more, up to max_count). */
  count: z.number().int().positive().max(1_000).default(1),
  max_count: z.number().int().positive().max(1_000).default(100),
  throttle_rate: z.number().int().nonnegative().optional(),
  timeout_ms: TimeoutMs.optional(),
});

const Service = z.strictObject({
  ...DeclaredTool,
  op: z.literal("service"),
  service: RosName,
  type: RosType("srv").optional(),
  /** The request's schema; the tool's arguments are the request. */
  input_schema: InputSchema.default({ type: "object" }),
  timeout_ms: TimeoutMs.optional(),
});

const Action = z.strictObject({
  ...DeclaredTool,
  op: z.literal("action"),
  action: RosName,
  type: RosType("action"),
  /** The goal's schema; the tool's arguments are the goal. */
  input_schema: InputSchema.default({ type: "object" }),
  timeout_ms: TimeoutMs.optional(),
});

export const RosbridgeTool = z.discriminatedUnion("op", [Publish, Subscribe, Service, Action]);
export type RosbridgeTool = z.infer<typeof RosbridgeTool>;

/** `<app>/adapters/<name>.json` with `"kind": "rosbridge"`: a ROS 2 graph through rosbridge. */
export const RosbridgeDeclaration = z
  .strictObject({
    kind: z.literal("rosbridge"),
    name: AdapterName,
    /** rosbridge_server's WebSocket, e.g. ws://127.0.0.1:9090; may hold ${NAME} references. */
    url: z.string().regex(/^wss?:\/\/\S+$/, "a ws:// or wss:// URL"),
    connect_timeout_ms: TimeoutMs.default(5_000),
    /** The default for every tool without its own timeout_ms. */
    timeout_ms: TimeoutMs.default(30_000),
    /** After a run stops mid-goal: how long to wait for the cancelled goal's final result. */
    cancel_grace_ms: TimeoutMs.default(5_000),
    tools: z.array(RosbridgeTool).min(1).max(256),
  })
  .superRefine((d, ctx) => uniqueTools(d.tools, ctx));
export type RosbridgeDeclaration = z.infer<typeof RosbridgeDeclaration>;
