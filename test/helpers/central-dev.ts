import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT, wranglerBin } from "../../cli/wrangler";
import {
  type KeyCreated,
  KeyCreated as KeyCreatedSchema,
  parse,
  type Role,
  TenantCreated,
} from "../../contract";

/**
 * The real central under `wrangler dev` on 127.0.0.1, for tests that need a real socket (edge,
 * memory, end to end). Each instance has its own free port, its own temp `--persist-to` state
 * and its own bootstrap key; `restart()` keeps the state (a Durable Object restart, or a
 * central outage when you wait before it), `stop()` ends the whole process group.
 */
export interface CentralDev {
  url: string;
  bootstrapKey: string;
  persistDir: string;
  /** Process group of wrangler and its workerd (for measuring them); null while stopped. */
  pid(): number | null;
  /** wrangler's recent output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export interface CentralDevOptions {
  /** Reuse a state directory (default: a fresh temp dir). */
  persistDir?: string;
  bootstrapKey?: string;
  /** How long to wait for /health (default 90 s: the first build is slow on 2 cores). */
  startTimeoutMs?: number;
  /** wrangler's log level; benchmarks use "warn" so printing logs does not compete for CPU. */
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

export async function startCentralDev(options: CentralDevOptions = {}): Promise<CentralDev> {
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "auraison-central-"));
  const bootstrapKey = options.bootstrapKey ?? `aur_boot_${randomBytes(32).toString("base64url")}`;
  const port = await freePort();
  const timeout = options.startTimeoutMs ?? 90_000;
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  let child: ChildProcess | null = null;

  const start = async () => {
    const inspector = await freePort();
    lines.length = 0;
    const proc = spawn(
      process.execPath,
      [
        wranglerBin(),
        "dev",
        "--config",
        join(PROJECT_ROOT, "wrangler.toml"),
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspector),
        "--persist-to",
        persistDir,
        "--var",
        `AURAISON_BOOTSTRAP_KEY:${bootstrapKey}`,
        "--show-interactive-dev-session=false",
        "--log-level",
        options.logLevel ?? "log",
      ],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    running.add(proc);
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(line);
      if (lines.length > 400) lines.splice(0, lines.length - 400);
    };
    proc.stdout!.on("data", keep);
    proc.stderr!.on("data", keep);
    proc.once("exit", () => running.delete(proc));
    child = proc;
    await waitHealthy(url, proc, timeout, () => lines.join("\n"));
  };

  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    killGroup(proc, "SIGTERM");
    const timer = setTimeout(() => killGroup(proc, "SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    // workerd may outlive wrangler for a moment; make sure the port is free again.
    killGroup(proc, "SIGKILL");
    await waitPortFree(port, 10_000);
  };

  await start();
  return {
    url,
    bootstrapKey,
    persistDir,
    pid: () => child?.pid ?? null,
    output: () => lines.join("\n"),
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}

/** Creates a tenant with the bootstrap key; returns its first admin key. */
export async function createTenant(
  url: string,
  bootstrapKey: string,
  tenant: string,
): Promise<string> {
  const response = await fetch(`${url}/v1/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${bootstrapKey}`, "content-type": "application/json" },
    body: JSON.stringify({ tenant }),
  });
  const body = await response.text();
  if (response.status !== 201)
    throw new Error(`POST /v1/tenants answered ${response.status}: ${body}`);
  return parse(TenantCreated, JSON.parse(body), "TenantCreated").admin_key.key;
}

/** Creates an API key with an admin key; returns the key (its secret). */
export async function createKey(
  url: string,
  adminKey: string,
  role: Role,
  name: string,
  app?: string,
): Promise<string> {
  return (await createKeyRecord(url, adminKey, role, name, app)).key;
}

/** Like createKey, with the whole record (id, prefix, …). */
export async function createKeyRecord(
  url: string,
  adminKey: string,
  role: Role,
  name: string,
  app?: string,
): Promise<KeyCreated> {
  const response = await fetch(`${url}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ role, name, ...(app ? { app } : {}) }),
  });
  const body = await response.text();
  if (response.status !== 201)
    throw new Error(`POST /v1/keys answered ${response.status}: ${body}`);
  return parse(KeyCreatedSchema, JSON.parse(body), "KeyCreated");
}

async function waitHealthy(
  url: string,
  proc: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(
        `wrangler dev exited (${proc.exitCode ?? proc.signalCode}) before it was healthy:\n${output()}`,
      );
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {}
    if (Date.now() > until) {
      killGroup(proc, "SIGKILL");
      throw new Error(
        `wrangler dev was not healthy at ${url} within ${timeoutMs} ms:\n${output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {}
}

/** A port nothing listens on right now, from the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

async function waitPortFree(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`port ${port} is still in use after stopping wrangler dev`);
}
