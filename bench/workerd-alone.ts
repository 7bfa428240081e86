import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/helpers/central-dev";
import { buildCentralBundle } from "../test/helpers/central-workerd";

/**
 * Workers run by workerd alone, as Cloudflare runs a Worker: no Miniflare, so no worker of its
 * own in a request's path (its outbound worker, which every fetch() of a Worker under Miniflare
 * crosses, rewrites two headers and fetches again; Cloudflare has none). The workerd release is
 * the one `wrangler dev` runs (a dependency of ours pinned to wrangler's). Benchmarks only:
 * `npm start` and the tests run central as wrangler does.
 */
export interface Served {
  url: string;
  pid: number;
  stop(): void;
}

const WORKERD = fileURLToPath(new URL("../node_modules/.bin/workerd", import.meta.url));

/** A server process on 127.0.0.1:`port`, answering once it answers `GET /` at all. */
export async function spawnServer(
  what: string,
  command: string,
  args: string[],
  options: { port: number; cwd?: string; cleanup?: () => void },
): Promise<Served> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  const stop = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
    options.cleanup?.();
  };
  process.once("exit", stop);
  const url = `http://127.0.0.1:${options.port}`;
  for (let tries = 0; ; tries++) {
    try {
      await (await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) })).arrayBuffer();
      return { url, pid: child.pid!, stop };
    } catch {
      if (tries > 300 || child.exitCode !== null) {
        stop();
        throw new Error(`the ${what} did not come up at ${url}:\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** workerd serving `config` (Cap'n Proto text; `{{port}}` is its socket's port) from `dir`. */
export async function serveWorkerdAlone(
  what: string,
  dir: string,
  config: (port: number) => string,
): Promise<Served> {
  const port = await freePort();
  // Mode 0600: central's config holds the platform's secrets (as text bindings).
  writeFileSync(join(dir, "config.capnp"), config(port), { mode: 0o600 });
  return spawnServer(what, WORKERD, ["serve", "config.capnp"], {
    port,
    cwd: dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}

const text = (value: string) => JSON.stringify(value);

/**
 * Central's bundle (`wrangler deploy --dry-run`) in workerd alone, configured as wrangler.toml
 * configures it: the tenant Durable Object (SQLite, on disk) and `vars` as text bindings. R2 is
 * not here (Miniflare implements it): ARCHIVE is bound to a stand-in that refuses every
 * operation, so the archive pass (a timer of the tenant object, on no call's path) fails and
 * retries a minute later. `cloudflare:email`, which the agents SDK imports, is given the one
 * class it takes from workerd's internal module (Miniflare's own stand-in does the same).
 */
export async function startCentralAlone(vars: Record<string, string>): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), "auraison-bench-central-alone-"));
  try {
    buildCentralBundle(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  mkdirSync(join(dir, "objects"));
  const modules = [
    `(name = "index.js", esModule = embed "index.js")`,
    ...readdirSync(dir)
      .filter((file) => file.endsWith(".sql"))
      .map((file) => `(name = ${text(file)}, text = embed ${text(file)})`),
  ];
  const bindings = [
    `(name = "TENANT", durableObjectNamespace = "TenantAgent")`,
    `(name = "ARCHIVE", r2Bucket = "no-r2")`,
    ...Object.entries(vars).map(([name, value]) => `(name = ${text(name)}, text = ${text(value)})`),
  ];
  const email = `export default { EmailMessage: class EmailMessage { constructor(from, to, raw) { this.from = from; this.to = to; this.raw = raw; } } };`;
  const refuse = `export default { fetch() { return new Response("no R2 in this benchmark", { status: 503 }); } };`;
  return serveWorkerdAlone(
    "central in workerd alone",
    dir,
    (port) => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "central", worker = .central),
    (name = "no-r2", worker = (modules = [(name = "refuse.js", esModule = ${text(refuse)})], compatibilityDate = "2026-04-20")),
    (name = "objects", disk = (path = ${text(join(dir, "objects"))}, writable = true)),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  extensions = [(modules = [(name = "cloudflare-internal:email", internal = true, esModule = ${text(email)})])],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "central")],
);
const central :Workerd.Worker = (
  modules = [${modules.join(", ")}],
  compatibilityDate = "2026-04-20",
  compatibilityFlags = ["nodejs_compat"],
  bindings = [${bindings.join(", ")}],
  durableObjectNamespaces = [(className = "TenantAgent", uniqueKey = "auraison-central-TenantAgent", enableSql = true)],
  durableObjectStorage = (localDisk = "objects"),
);
`,
  );
}
