import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ContractValidationError } from "../../contract";
import type { AdapterFactory, ExecutionAdapter } from "./adapter";

/** pi's built-in tools; an adapter tool may not shadow them. */
const BUILTIN_TOOLS = new Set(["read", "bash", "edit", "write", "grep", "find", "ls"]);

/** Builds every adapter declared in `<app>/adapters/*.json`, in file name order. */
export function loadAdapters(
  dir: string,
  kinds: Readonly<Record<string, AdapterFactory>>,
  env: NodeJS.ProcessEnv = process.env,
): ExecutionAdapter[] {
  const adapters: ExecutionAdapter[] = [];
  const owner = new Map<string, string>();
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()) {
    const file = join(dir, name);
    let declaration: unknown;
    try {
      declaration = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw invalid(file, "$", "JSON", error instanceof Error ? error.message : String(error));
    }
    const kind = (declaration as { kind?: unknown } | null)?.kind;
    const factory = typeof kind === "string" ? kinds[kind] : undefined;
    if (!factory) {
      throw invalid(
        file,
        "kind",
        `one of ${Object.keys(kinds)
          .map((k) => JSON.stringify(k))
          .join(" | ")}`,
        `unknown adapter kind ${JSON.stringify(kind)}`,
      );
    }
    const adapter = factory(declaration, { file, env });
    for (const tool of adapter.tools) {
      if (BUILTIN_TOOLS.has(tool.name))
        throw invalid(file, "tool", "a new tool name", `'${tool.name}' is a built-in pi tool`);
      const other = owner.get(tool.name);
      if (other)
        throw invalid(
          file,
          "tool",
          "a unique tool name",
          `'${tool.name}' is also declared in ${other}`,
        );
      owner.set(tool.name, file);
    }
    adapters.push(adapter);
  }
  return adapters;
}

function invalid(file: string, path: string, expected: string, message: string) {
  return new ContractValidationError(file, [{ path, expected, message, code: "invalid_adapter" }]);
}
