import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "./errors";

/** The repository root: where wrangler.toml and central/ live. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The project's own wrangler, so the CLI never depends on a global install. */
export function wranglerBin(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve("wrangler/package.json");
  } catch {
    // wrangler is a devDependency: an edge host's `npm install --omit=dev` has none.
    throw new CliError(
      "wrangler is not installed here (an edge host's `npm install --omit=dev`?): central's commands need a full `npm install`",
    );
  }
  return join(dirname(manifest), "bin", "wrangler.js");
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
