import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalCentral } from "../../cli/local-stack/central";
import { freePort, type ManagedProcess, portFree } from "../../cli/local-stack/processes";
import {
  type KeyCreated,
  KeyCreated as KeyCreatedSchema,
  parse,
  type Role,
  TenantCreated,
} from "../../contract";
import { platformSecrets } from "./platform-secrets";

export { freePort };

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
  /** More Worker vars and secrets, e.g. AURAISON_GATEWAY_KEK. */
  vars?: Record<string, string>;
}

export async function startCentralDev(options: CentralDevOptions = {}): Promise<CentralDev> {
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "auraison-central-"));
  // A directory made here is this process's: it goes when the process does (after the local
  // stack's exit handler has killed wrangler), whether or not central was stopped first.
  if (!options.persistDir)
    process.once("exit", () => rmSync(persistDir, { recursive: true, force: true, maxRetries: 5 }));
  const platform = platformSecrets();
  const bootstrapKey = options.bootstrapKey ?? platform.AURAISON_BOOTSTRAP_KEY;
  const port = await freePort();
  let proc: ManagedProcess | null = null;
  let last: ManagedProcess | null = null;

  const start = async () => {
    const central = await startLocalCentral({
      port,
      persistDir,
      bootstrap: { key: bootstrapKey },
      inspectorPort: await freePort(),
      logLevel: options.logLevel ?? "log",
      startTimeoutMs: options.startTimeoutMs ?? 90_000,
      vars: { AURAISON_KEY_SECRET: platform.AURAISON_KEY_SECRET, ...options.vars },
    });
    proc = central.process;
    last = proc;
  };

  const stop = async () => {
    const current = proc;
    proc = null;
    if (!current) return;
    await current.stop("SIGTERM", 5_000);
    // workerd may hold the port a moment longer than wrangler lives.
    await waitPortFree(port, 10_000);
  };

  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    bootstrapKey,
    persistDir,
    pid: () => proc?.child.pid ?? null,
    output: () => last?.output() ?? "",
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

let tenants = 0;

/** A fresh tenant with its gateway configured; returns the admin key. */
export async function gatewayTenant(
  central: Pick<CentralDev, "url" | "bootstrapKey">,
  config: unknown,
): Promise<{ tenant: string; admin: string }> {
  tenants += 1;
  const tenant = `gw-${tenants}-${randomBytes(3).toString("hex")}`;
  const admin = await createTenant(central.url, central.bootstrapKey, tenant);
  const put = await fetch(`${central.url}/v1/gateway/config`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify(config),
  });
  if (put.status !== 200)
    throw new Error(`PUT /v1/gateway/config answered ${put.status}: ${await put.text()}`);
  return { tenant, admin };
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

async function waitPortFree(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await portFree(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`port ${port} is still in use after stopping wrangler dev`);
}
