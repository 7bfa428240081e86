import type { ExtensionAPI, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import type { LoopSettings } from "../config/app-config";
import { argsDigest } from "../events/digest";
import type { RunContext } from "../runs/run-context";
import type { EventBridge } from "./event-bridge";

interface Call {
  key: string;
  failed: boolean | null;
}

/**
 * Stuck-loop detection: the same tool with the same arguments again and again (or the same
 * call failing again and again) within the recent calls. At the threshold the agent is steered
 * with a message before its next model call; if it keeps going, the run is stopped with
 * reason stuck_loop. Registered before the policy guard, so a stopped run's call never runs.
 */
export function loopGuard(
  run: RunContext,
  bridge: EventBridge,
  settings: LoopSettings,
): ExtensionFactory {
  const recent: Call[] = [];
  const byId = new Map<string, Call>();
  const steeredAt = new Map<string, number>();

  bridge.onToolFinished(({ toolCallId, status }) => {
    const call = byId.get(toolCallId);
    if (call) call.failed = status !== "ok";
    byId.delete(toolCallId);
  });

  return (pi: ExtensionAPI) => {
    pi.on("tool_call", async (event) => {
      if (run.control.stopped) return undefined;
      const digest = argsDigest(event.input);
      const key = `${event.toolName}\u0000${digest}`;
      const same = recent.filter((c) => c.key === key);
      const repeats = same.length + 1;
      const failing = same.length > 0 && same.every((c) => c.failed === true);
      const call: Call = { key, failed: null };
      recent.push(call);
      if (recent.length > settings.window) recent.shift();
      byId.set(event.toolCallId, call);

      const threshold = failing ? settings.failing_threshold : settings.repeat_threshold;
      const steered = steeredAt.get(key);
      if (steered !== undefined && repeats >= steered + settings.stop_after) {
        await run.emitter.emit("loop_detected", {
          tool: event.toolName,
          args_digest: digest,
          repeats,
          threshold,
          action: "stop",
          failing,
        });
        const message = `stuck in a loop: '${event.toolName}' was called ${repeats} times with the same arguments${failing ? ", failing each time" : ""}, and kept going after being told to change course`;
        run.control.stop({
          kind: "fail",
          error: { category: "stuck_loop", reason: "stuck_loop", message },
        });
        bridge.markBlocked(event.toolCallId, "stuck_loop");
        return { block: true, reason: message };
      }
      if (steered === undefined && repeats >= threshold) {
        steeredAt.set(key, repeats);
        await run.emitter.emit("loop_detected", {
          tool: event.toolName,
          args_digest: digest,
          repeats,
          threshold,
          action: "steer",
          failing,
        });
        pi.sendMessage(
          {
            customType: "auraison.loop_guard",
            content: `Loop guard: you have called \`${event.toolName}\` ${repeats} times with identical arguments${failing ? " and it failed every time" : ""}. Repeating it will not help. Change the arguments, take a different approach, or finish with what you have; ${settings.stop_after} more identical call(s) will stop the run.`,
            display: true,
          },
          { deliverAs: "steer" },
        );
      }
      return undefined;
    });
  };
}
