import { spawn } from "node:child_process";
import { z } from "zod";
import { parse } from "../../contract";
import type { AdapterFactory } from "../../edge/adapters/adapter";
import { CallDeadline, resultOf } from "../../edge/adapters/call";
import { AdapterName, DeclaredTool, TimeoutMs } from "../../edge/adapters/declaration";
import { resolveReferences } from "../../edge/adapters/references";

/** `{"kind": "process", ...}`: programs on the lab host as tools, their output as progress. */
const ProcessDeclaration = z.strictObject({
  kind: z.literal("process"),
  name: AdapterName,
  tools: z
    .array(
      z.strictObject({
        ...DeclaredTool,
        command: z.string().min(1),
        args: z.array(z.string()).default([]),
        timeout_ms: TimeoutMs.default(60_000),
      }),
    )
    .min(1),
});

export const processAdapter: AdapterFactory = (declaration, { file, env }) => {
  const d = parse(ProcessDeclaration, declaration, file);
  return {
    kind: "process",
    name: d.name,
    tools: d.tools.map((t, i) => {
      const command = resolveReferences(t.command, env, file, `tools[${i}].command`);
      return {
        name: t.tool,
        description: t.description,
        input_schema: { type: "object", properties: { stdin: { type: "string" } } },
        async execute(args, { signal, progress }) {
          const deadline = new CallDeadline(t.tool, t.timeout_ms, signal);
          // spawn kills the program when the signal aborts: the run stopped or time ran out.
          const child = spawn(command, t.args, { signal: deadline.signal });
          child.stdin.end(typeof args.stdin === "string" ? args.stdin : "");
          let stdout = "";
          child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk;
            progress?.(stdout.trimEnd().split("\n").at(-1) ?? "");
          });
          const code = await deadline.guard(
            () =>
              new Promise<number | null>((resolve, reject) => {
                child.once("error", reject);
                child.once("close", resolve);
              }),
          );
          if (code !== 0) throw new Error(`${t.tool} exited with ${code}: ${stdout.slice(-2_000)}`);
          return resultOf({ stdout });
        },
      };
    }),
  };
};
