import type { ExtensionAPI, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import { Type } from "typebox";
import type { AdapterCallIdentity, ExecutionAdapter } from "../adapters/adapter";
import type { RunContext } from "../runs/run-context";

/**
 * Registers every execution adapter's tools as pi tools of one run. Calls reach them after the
 * policy hook (pi's `tool_call`), and the event bridge logs them like any tool; each call learns
 * which run and tool call it serves, pi's abort signal (the run stopping) and a progress channel
 * (tool_call_progress events).
 */
export function adapterTools(
  run: RunContext,
  adapters: readonly ExecutionAdapter[],
): ExtensionFactory {
  return (pi: ExtensionAPI) => {
    for (const adapter of adapters) {
      for (const tool of adapter.tools) {
        pi.registerTool({
          name: tool.name,
          label: `${adapter.name}: ${tool.name}`,
          description: tool.description,
          promptSnippet: tool.description.split("\n")[0],
          parameters: Type.Unsafe<Record<string, unknown>>(tool.input_schema),
          async execute(toolCallId, params, signal, onUpdate) {
            const result = await tool.execute(params, {
              signal,
              progress: (text) => onUpdate?.({ content: [{ type: "text", text }], details: {} }),
              call: callIdentity(run, toolCallId),
              secrets: run.secrets,
            });
            return {
              content: [{ type: "text", text: result.text ?? JSON.stringify(result.output) }],
              details: { adapter: adapter.name, kind: adapter.kind, output: result.output },
            };
          },
        });
      }
    }
  };
}

/**
 * Who a tool call is, as remote systems record it (a Ray job's submission id and metadata, a
 * ROS goal's id): the run, the attempt the call ran under (the run's current one unless said),
 * the call, the agent and the intent.
 */
export function callIdentity(
  run: RunContext,
  toolCallId: string,
  attempt = run.record.attempt,
): AdapterCallIdentity {
  const { record } = run;
  return {
    run_id: record.run_id,
    attempt,
    tool_call_id: toolCallId,
    agent_id: run.agentId,
    app: run.app.app,
    tenant: record.intent.policy_ctx.tenant,
    intent: {
      intent_id: record.intent.intent_id,
      type: record.intent.type,
      params: record.intent.params,
    },
  };
}
