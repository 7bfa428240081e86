import type { ExtensionAPI, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import type { LoopSettings } from "../config/app-config";
import { argsDigest } from "../events/digest";
import type { RunContext } from "../runs/run-context";
import type { EventBridge } from "./event-bridge";

/** How a call failed, whatever its error said: the same failing call again is a loop. */
const FAILED = "failed";

interface Call {
  /** The tool and its arguments. */
  key: string;
  /** null while it runs, then FAILED or the digest of its result. */
  outcome: string | null;
}

/**
 * Stuck-loop detection: the same tool with the same arguments returning the same result again
 * and again (or the same call failing again and again) within the recent calls. A poll whose
 * result changes is progress, not a loop. At the threshold the agent is steered with a message
 * before its next model call; if it keeps going, the run is stopped with reason stuck_loop.
 * Registered before the policy guard, so a stopped run's call never runs.
 */
export function loopGuard(
  run: RunContext,
  bridge: EventBridge,
  settings: LoopSettings,
): ExtensionFactory {
  const recent: Call[] = [];
  const byId = new Map<string, Call>();
  const steeredAt = new Map<string, number>();

  bridge.onToolFinished(({ toolCallId, status, resultDigest }) => {
    const call = byId.get(toolCallId);
    if (call) call.outcome = status === "ok" ? resultDigest : FAILED;
    byId.delete(toolCallId);
  });

  return (pi: ExtensionAPI) => {
    pi.on("tool_call", async (event) => {
      if (run.control.stopped) return undefined;
      const digest = argsDigest(event.input);
      const key = `${event.toolName}\u0000${digest}`;
      const same = recent.filter((c) => c.key === key);
      // This call is taken to end as the latest of them did: those that ended otherwise are not
      // repeats of it; those still running (a batch of the same call) are.
      const latest = same.findLast((c) => c.outcome !== null)?.outcome ?? null;
      const repeats = same.filter((c) => c.outcome === null || c.outcome === latest).length + 1;
      const failing = same.length > 0 && same.every((c) => c.outcome === FAILED);
      const call: Call = { key, outcome: null };
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
        const message = `stuck in a loop: '${event.toolName}' was called ${repeats} times with the same arguments${failing ? ", failing each time" : " and the same result"}, and kept going after being told to change course`;
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
            content: `Loop guard: you have called \`${event.toolName}\` ${repeats} times with identical arguments${failing ? " and it failed every time" : " and got the same result"}. Repeating it will not help. Change the arguments, take a different approach, or finish with what you have; ${settings.stop_after} more identical call(s) will stop the run.`,
            display: true,
          },
          { deliverAs: "steer" },
        );
      }
      return undefined;
    });
  };
}
