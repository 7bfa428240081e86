import { type JsonValue, parse, redactedExcerpt } from "../../../contract";
import type { AdapterFactory, AdapterTool } from "../adapter";
import { CallDeadline, resultOf } from "../call";
import { collectingTool } from "../collect";
import { resolveUrl } from "../references";
import { GoalCancelled, goalIdOf, RosbridgeClient } from "./client";
import { RosbridgeDeclaration, type RosbridgeTool } from "./declaration";

const PROGRESS_CHARS = 2_000;

/** ROS 2 topics, services and actions through a rosbridge server, each declared one a tool. */
export const rosbridgeAdapter: AdapterFactory = (declaration, { file, env }) => {
  const d = parse(RosbridgeDeclaration, declaration, file);
  const client = new RosbridgeClient(
    resolveUrl(d.url, env, file, "url", "ws"),
    d.connect_timeout_ms,
  );
  return {
    kind: "rosbridge",
    name: d.name,
    tools: d.tools.map((t) => rosTool(t, client, d)),
    close: () => client.close(),
  };
};

function rosTool(t: RosbridgeTool, client: RosbridgeClient, d: RosbridgeDeclaration): AdapterTool {
  const timeoutMs = ("timeout_ms" in t ? t.timeout_ms : undefined) ?? d.timeout_ms;
  switch (t.op) {
    case "publish":
      return {
        name: t.tool,
        description: t.description,
        input_schema: t.input_schema,
        async execute(args, { signal }) {
          const deadline = new CallDeadline(`publish on ${t.topic}`, timeoutMs, signal);
          await deadline.guard(() =>
            client.publish(t.topic, t.type, args as JsonValue, deadline.signal),
          );
          return resultOf({ published: true, topic: t.topic, type: t.type });
        },
      };
    case "subscribe":
      return collectingTool<JsonValue>({
        tool: t.tool,
        description: t.description,
        count: t.count,
        max_count: t.max_count,
        timeoutMs,
        what: `message(s) on ${t.topic}`,
        source: () => t.topic,
        subscribe: (onItem, onError, signal) =>
          client.subscribe(
            t.topic,
            t.type,
            onItem,
            onError,
            signal,
            t.throttle_rate === undefined ? {} : { throttle_rate: t.throttle_rate },
          ),
        result: (messages) => resultOf({ topic: t.topic, messages }),
      });
    case "service":
      return {
        name: t.tool,
        description: t.description,
        input_schema: t.input_schema,
        async execute(args, { signal }) {
          const deadline = new CallDeadline(`service ${t.service}`, timeoutMs, signal);
          const values = await deadline.guard(() =>
            client.callService(t.service, t.type, args as JsonValue, deadline.signal),
          );
          return resultOf(values);
        },
      };
    case "action":
      return {
        name: t.tool,
        description: t.description,
        input_schema: t.input_schema,
        async execute(args, { signal, progress, call }) {
          const deadline = new CallDeadline(`action ${t.action}`, timeoutMs, signal);
          let outcome: Awaited<ReturnType<RosbridgeClient["sendGoal"]>>;
          try {
            outcome = await client.sendGoal(
              t.action,
              t.type,
              args as JsonValue,
              (feedback) => progress?.(redactedExcerpt(JSON.stringify(feedback), PROGRESS_CHARS)),
              deadline.signal,
              d.cancel_grace_ms,
              call && goalIdOf(t.action, call),
            );
          } catch (error) {
            if (error instanceof GoalCancelled && deadline.aborted)
              throw new Error(`${deadline.error().message}; ${error.message}`);
            throw error;
          }
          if (!outcome.succeeded)
            throw new Error(
              `action ${t.action}: the goal ended ${outcome.status}${outcome.values === null ? "" : `: ${redactedExcerpt(JSON.stringify(outcome.values), 2_000)}`}`,
            );
          return resultOf({ status: outcome.status, result: outcome.values });
        },
        async interrupted(_args, call) {
          const goalId = goalIdOf(t.action, call);
          await client.cancelGoal(t.action, goalId, AbortSignal.timeout(d.connect_timeout_ms));
          return `Asked rosbridge to cancel the goal it sent to ${t.action} (${goalId}).`;
        },
      };
  }
}
