import type { ExtensionAPI, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import { Type } from "typebox";
import type { ExecutionAdapter } from "../adapters/adapter";

/** Registers every execution adapter's tools as pi tools. */
export function adapterTools(adapters: readonly ExecutionAdapter[]): ExtensionFactory {
  return (pi: ExtensionAPI) => {
    for (const adapter of adapters) {
      for (const tool of adapter.tools) {
        pi.registerTool({
          name: tool.name,
          label: `${adapter.name}: ${tool.name}`,
          description: tool.description,
          promptSnippet: tool.description.split("\n")[0],
          parameters: Type.Unsafe<Record<string, unknown>>(tool.input_schema),
          async execute(_toolCallId, params, signal, onUpdate) {
            const result = await tool.execute(params, {
              signal,
              progress: (text) => onUpdate?.({ content: [{ type: "text", text }], details: {} }),
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
