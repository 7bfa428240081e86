import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { replaceFileSync } from "../../edge/state-files";
import { PROJECT_ROOT, wranglerBin } from "../wrangler";
import { envFileText } from "./bootstrap-key";
import { type ManagedProcess, spawnManaged, waitHealthy } from "./processes";

export interface LocalCentralOptions {
  port: number;
  /** Durable Object and R2 state (`wrangler dev --persist-to`). */
  persistDir: string;
  /** Either the bootstrap key itself, or env files wrangler reads it from. */
  bootstrap: { key: string } | { envFiles: readonly string[] };
  /** Echo wrangler's output with a `[central]` prefix. */
  echo?: boolean;
  /** Append wrangler's output to this file. */
  logFile?: string;
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  inspectorPort?: number;
  startTimeoutMs?: number;
  /** More Worker vars and secrets, e.g. AURAISON_GATEWAY_KEK. */
  vars?: Record<string, string>;
  /** Called with wrangler's process as soon as it is spawned, before it is healthy. */
  onSpawn?: (proc: ManagedProcess) => void;
}

/** Central under `wrangler dev` on 127.0.0.1, healthy when this resolves. */
export async function startLocalCentral(options: LocalCentralOptions): Promise<{
  url: string;
  process: ManagedProcess;
}> {
  const args = [
    wranglerBin(),
    "dev",
    "--config",
    join(PROJECT_ROOT, "wrangler.toml"),
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--persist-to",
    options.persistDir,
    "--show-interactive-dev-session=false",
    "--log-level",
    options.logLevel ?? "log",
    // The Workers AI binding is remote-only: --local keeps wrangler from needing a Cloudflare
    // login for it (the binding is there, and answers only when deployed).
    "--local",
  ];
  if (options.inspectorPort !== undefined)
    args.push("--inspector-port", String(options.inspectorPort));
  // Secrets reach wrangler in 0600 env files, never as arguments (which `ps` shows everyone).
  const secrets: Record<string, string> = { ...options.vars };
  if ("key" in options.bootstrap) secrets.AURAISON_BOOTSTRAP_KEY = options.bootstrap.key;
  else for (const file of options.bootstrap.envFiles) args.push("--env-file", file);
  if (Object.keys(secrets).length > 0) {
    mkdirSync(options.persistDir, { recursive: true, mode: 0o700 });
    const file = join(options.persistDir, "worker-secrets.env");
    replaceFileSync(file, envFileText(secrets));
    args.push("--env-file", file);
  }
  const proc = spawnManaged("central", process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      // Miniflare otherwise fetches Request.cf from workers.cloudflare.com at every start
      // (a stack trace in the log when offline); the placeholder it falls back to is enough.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      CI: "true",
      NO_COLOR: "1",
    },
    echo: options.echo ?? false,
    ...(options.logFile ? { logFile: options.logFile } : {}),
  });
  options.onSpawn?.(proc);
  const url = `http://127.0.0.1:${options.port}`;
  // The first build on a cold machine takes a while.
  await waitHealthy(`${url}/health`, proc, options.startTimeoutMs ?? 120_000);
  return { url, process: proc };
}
