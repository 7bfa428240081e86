import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";

/** A child process the local stack (or a test) started, in its own process group. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process has exited. */
  exited: Promise<number | string>;
  /** The last lines it printed, for error messages. */
  output(): string;
  /**
   * Sends `signal` to the whole group (wrangler's workerd, a shell's children), waits up to
   * `graceMs`, then SIGKILLs what is left. Safe to call twice.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Echo each output line to our stderr as `[name] line`. */
  echo?: boolean;
  /** Append everything it prints to this file. */
  logFile?: string;
  /** Lines kept for output(). */
  keepLines?: number;
}

const live = new Set<ManagedProcess>();
// Whatever happens to this process, its children must not outlive it.
process.once("exit", () => {
  for (const proc of live) killGroup(proc.child, "SIGKILL");
});

export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ManagedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  const keep = options.keepLines ?? 400;
  const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : null;
  let partial = "";
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!line.trim()) continue;
      log?.write(`${line}\n`);
      lines.push(line);
      if (options.echo) process.stderr.write(`[${name}] ${line}\n`);
    }
    if (lines.length > keep) lines.splice(0, lines.length - keep);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(managed);
      log?.end();
      resolve(code ?? signal ?? "unknown");
    });
  });
  const managed: ManagedProcess = {
    name,
    child,
    exited,
    output: () => lines.join("\n"),
    async stop(signal = "SIGTERM", graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, signal);
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
        const result = await exited;
        clearTimeout(timer);
        // A group member (workerd under wrangler) may outlive its parent for a moment.
        killGroup(child, "SIGKILL");
        return result;
      }
      return exited;
    },
  };
  live.add(managed);
  return managed;
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Polls `url` until it answers 2xx; fails early if the process exits. */
export async function waitHealthy(
  url: string,
  proc: ManagedProcess,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(`${proc.name} exited before it was healthy:\n${proc.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > until) {
      await proc.stop("SIGKILL", 0);
      throw new Error(
        `${proc.name} was not healthy at ${url} within ${timeoutMs} ms:\n${proc.output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Whether nothing listens on 127.0.0.1:`port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
