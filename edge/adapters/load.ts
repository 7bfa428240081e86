import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ContractValidationError, own } from "../../contract";
import type { AdapterFactory, ExecutionAdapter } from "./adapter";
import { errorText } from "./call";

/** pi's built-in tools; an adapter tool may not shadow them. */
const BUILTIN_TOOLS = new Set(["read", "bash", "edit", "write", "grep", "find", "ls"]);

/**
 * Builds every adapter declared in `<app>/adapters/*.json`, in file name order. `secrets` are the
 * tenant secrets the app declares (app.json), which per-call references may name.
 */
export function loadAdapters(
  dir: string,
  kinds: Readonly<Record<string, AdapterFactory>>,
  env: NodeJS.ProcessEnv = process.env,
  secrets: readonly string[] = [],
): ExecutionAdapter[] {
  const adapters: ExecutionAdapter[] = [];
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
    const factory = typeof kind === "string" ? own(kinds, kind) : undefined;
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
    const adapter = factory(declaration, { file, env, secrets });
    files.set(adapter, file);
    adapters.push(adapter);
  }
  checkToolNames(adapters);
  return adapters;
}

const files = new WeakMap<ExecutionAdapter, string>();

/** Adapters that could not start (a peer down, a server that exits): which, and why. */
export class AdapterStartError extends Error {
  constructor(readonly failures: string[]) {
    super(`adapters failed to start: ${failures.join("; ")}`);
    this.name = "AdapterStartError";
  }
}

/**
 * Starts every adapter that has to connect or discover its tools before the agent takes work
 * (in parallel), then checks the tool names again, now that all of them are known. On any
 * failure the adapters already started are closed.
 */
export async function startAdapters(adapters: readonly ExecutionAdapter[]): Promise<void> {
  const results = await Promise.allSettled(adapters.map((a) => a.start?.()));
  const failed = results.flatMap((r, i) =>
    r.status === "rejected"
      ? [`${adapters[i]!.name} (${adapters[i]!.kind}): ${errorText(r.reason)}`]
      : [],
  );
  try {
    if (failed.length > 0) throw new AdapterStartError(failed);
    checkToolNames(adapters);
  } catch (error) {
    await Promise.allSettled(adapters.map((a) => a.close?.()));
    throw error;
  }
}

/** Tool names must be unique across the app and may not shadow pi's built-ins. */
function checkToolNames(adapters: readonly ExecutionAdapter[]): void {
  const owner = new Map<string, string>();
  for (const adapter of adapters) {
    const file = files.get(adapter) ?? adapter.name;
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
  }
}

function invalid(file: string, path: string, expected: string, message: string) {
  return new ContractValidationError(file, [{ path, expected, message, code: "invalid_adapter" }]);
}
