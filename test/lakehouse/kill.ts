import { spawn } from "node:child_process";
import { BIN } from "../helpers/cli";

/**
 * Starts an `auraison memory ...` command that prints a `batch:` line per batch (sync, rebuild)
 * and SIGKILLs it once it has printed `after` of them.
 */
export function runAndKill(args: string[], env: NodeJS.ProcessEnv, after: number) {
  return new Promise<{ signal: NodeJS.Signals | null; batches: number }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let batches = 0;
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      batches = (stderr.match(/^batch: /gm) ?? []).length;
      if (batches >= after) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === null)
        reject(new Error(`${args.join(" ")} exited (${code}) before it was killed:\n${stderr}`));
      else resolve({ signal, batches });
    });
  });
}
