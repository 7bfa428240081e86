import type { JsonValue } from "../../../contract";

/**
 * The rosbridge v2 JSON protocol, as roslibjs 2.x speaks it to a ROS 2 rosbridge_server: the
 * operations this client sends and the ones it reads back. Ids follow roslibjs
 * (`<op>:<name>:<n>`), so a rosbridge log reads the same for either client.
 */
export type ClientOp =
  | { op: "advertise"; id: string; topic: string; type: string }
  | { op: "unadvertise"; id: string; topic: string }
  | { op: "publish"; id: string; topic: string; msg: JsonValue }
  | {
      op: "subscribe";
      id: string;
      topic: string;
      type: string;
      throttle_rate?: number;
      queue_length?: number;
    }
  | { op: "unsubscribe"; id: string; topic: string }
  | {
      op: "call_service";
      id: string;
      service: string;
      type?: string;
      args: JsonValue;
      timeout?: number;
    }
  | {
      op: "send_action_goal";
      id: string;
      action: string;
      action_type: string;
      args: JsonValue;
      feedback: true;
    }
  | { op: "cancel_action_goal"; id: string; action: string };

export type ServerOp =
  | { op: "publish"; topic: string; msg: JsonValue }
  | { op: "service_response"; id: string; service: string; values?: JsonValue; result: boolean }
  | { op: "action_feedback"; id: string; action: string; values: JsonValue }
  | {
      op: "action_result";
      id: string;
      action: string;
      values?: JsonValue;
      status: number;
      result: boolean;
    }
  | { op: "status"; id?: string; level: string; msg: string };

/** action_msgs/msg/GoalStatus. */
export const GOAL_STATUS: Readonly<Record<number, string>> = {
  0: "unknown",
  1: "accepted",
  2: "executing",
  3: "canceling",
  4: "succeeded",
  5: "canceled",
  6: "aborted",
};
export const GOAL_SUCCEEDED = 4;

/** Reads one frame from the server; anything that is not a known operation is ignored. */
export function parseServerOp(text: string): ServerOp | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const op = (value as { op?: unknown }).op;
  switch (op) {
    case "publish":
    case "service_response":
    case "action_feedback":
    case "action_result":
    case "status":
      return value as ServerOp;
    default:
      return null;
  }
}
