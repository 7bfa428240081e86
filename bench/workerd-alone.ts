import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  type ManagedProcess,
  spawnManaged,
  waitHealthy,
} from "../cli/local-stack/processes";
import { replaceFileSync } from "../edge/state-files";
import {
  buildCentralBundle,
  centralWorkerSettings,
  wranglerRequire,
} from "../test/helpers/central-workerd";

/**
 * Workers run by workerd alone, as Cloudflare runs a Worker: no Miniflare, so no worker of its
 * own in a request's path (its outbound worker, which every fetch() of a Worker under Miniflare
 * crosses, rewrites two headers and fetches again; Cloudflare has none). The workerd release is
 * the one `wrangler dev` runs. Benchmarks only: `npm start` and the tests run central as
 * wrangler does.
 */
export interface Served {
  url: string;
  /** The workerd process itself, whose CPU the benchmarks read. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * The native binary of the `workerd` package wrangler's Miniflare runs (resolved through it, as
 * Miniflare does; the package's bin entry may be a Node wrapper).
 */
const WORKERD = (
  createRequire(wranglerRequire().resolve("miniflare"))("workerd") as { default: string }
).default;

/**
 * workerd serving the config `config(port)` writes (Cap'n Proto text) from `dir`, which it
 * owns: removed when it stops, or when it fails to start.
 */
export async function serveWorkerdAlone(
  what: string,
  dir: string,
  config: (port: number) => string,
  healthPath: string,
): Promise<Served> {
  const removeDir = () => {
    process.off("exit", removeDir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  // If this process ends first, the local stack's exit handler kills workerd, then this runs.
  process.once("exit", removeDir);
  let proc: ManagedProcess | undefined;
  try {
    const port = await freePort();
    // Central's config holds the platform's secrets (as text bindings).
    replaceFileSync(join(dir, "config.capnp"), config(port));
    proc = spawnManaged(what, WORKERD, ["serve", "config.capnp"], { cwd: dir, keepLines: 50 });
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(`${url}${healthPath}`, proc, 60_000);
    const started = proc;
    return {
      url,
      pid: started.child.pid!,
      stop: async () => {
        await started.stop("SIGKILL", 0);
        removeDir();
      },
    };
  } catch (error) {
    await proc?.stop("SIGKILL", 0);
    removeDir();
    throw error;
  }
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
    mkdirSync(join(dir, "objects"));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { compatibilityDate, compatibilityFlags } = centralWorkerSettings();
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
    (name = "no-r2", worker = (
      modules = [(name = "refuse.js", esModule = ${text(refuse)})],
      compatibilityDate = ${text(compatibilityDate)},
    )),
    (name = "objects", disk = (path = ${text(join(dir, "objects"))}, writable = true)),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  extensions = [(modules = [
    (name = "cloudflare-internal:email", internal = true, esModule = ${text(email)}),
  ])],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "central")],
);
const central :Workerd.Worker = (
  modules = [${modules.join(", ")}],
  compatibilityDate = ${text(compatibilityDate)},
  compatibilityFlags = [${compatibilityFlags.map(text).join(", ")}],
  bindings = [${bindings.join(", ")}],
  durableObjectNamespaces = [
    (className = "TenantAgent", uniqueKey = "auraison-central-TenantAgent", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "objects"),
);
`,
    "/health",
  );
}
