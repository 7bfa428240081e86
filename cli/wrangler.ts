import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: where wrangler.toml and central/ live. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The project's own wrangler, so the CLI never depends on a global install. */
export function wranglerBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
}

export function spawnWrangler(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdio?: "inherit" | "pipe" } = {},
): ChildProcess {
  return spawn(process.execPath, [wranglerBin(), ...args], {
    cwd: PROJECT_ROOT,
    env: { WRANGLER_SEND_METRICS: "false", ...process.env, ...options.env },
    stdio: options.stdio === "pipe" ? ["ignore", "pipe", "pipe"] : "inherit",
  });
}
