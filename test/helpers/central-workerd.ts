import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { PROJECT_ROOT, wranglerBin } from "../../cli/wrangler";

/** The Worker's runtime settings, as wrangler.toml gives them to `wrangler dev` and `deploy`. */
export function centralWorkerSettings(): {
  compatibilityDate: string;
  compatibilityFlags: string[];
} {
  const toml = parse(readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8")) as {
    compatibility_date: string;
    compatibility_flags?: string[];
  };
  return {
    compatibilityDate: toml.compatibility_date,
    compatibilityFlags: toml.compatibility_flags ?? [],
  };
}

/** A require that resolves as the project's wrangler does: its Miniflare, and through it workerd. */
export const wranglerRequire = () =>
  createRequire(createRequire(import.meta.url).resolve("wrangler"));

/** Central's bundle as `wrangler deploy` would upload it (the entry and its SQL), into `out`. */
export function buildCentralBundle(out: string): void {
  const built = spawnSync(
    process.execPath,
    [wranglerBin(), "deploy", "--dry-run", "--outdir", out],
    {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  if (built.status !== 0)
    throw new Error(`wrangler deploy --dry-run failed:\n${built.stdout}\n${built.stderr}`);
}

/**
 * Central in local workerd with nothing in front of it: the bundle `wrangler deploy --dry-run`
 * builds, run by the same Miniflare (and workerd) `wrangler dev` uses, with the Worker on a
 * socket of its own, so requests cross neither wrangler's dev proxy (a second workerd process)
 * nor Miniflare's entry worker, neither of which production has. The benchmarks run central
 * both ways.
 */
export async function startCentralWorkerd(
  vars: Record<string, string>,
  options: {
    /** A port for workerd's V8 inspector (CPU profiles of central's isolate), none by default. */
    inspectorPort?: number;
  } = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  // The Miniflare wrangler itself depends on, so workerd is the one `wrangler dev` runs.
  const { Miniflare, convertV4MiniflareOptions } = wranglerRequire()("miniflare") as {
    Miniflare: new (
      options: unknown,
    ) => {
      ready: Promise<URL>;
      unsafeGetDirectURL(worker: string): Promise<URL>;
      dispose(): Promise<void>;
    };
    // Miniflare 5 takes worker configs; this converts the per-worker options of Miniflare 4.
    convertV4MiniflareOptions(options: Record<string, unknown>): unknown;
  };
  const out = mkdtempSync(join(tmpdir(), "auraison-bench-bundle-"));
  const state = mkdtempSync(join(tmpdir(), "auraison-bench-state-"));
  const removeDirs = () => {
    process.off("exit", removeDirs);
    for (const dir of [out, state]) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  // Interrupted, Miniflare's own exit handler stops workerd; the directories go after it.
  process.once("exit", removeDirs);
  let mf: InstanceType<typeof Miniflare> | undefined;
  try {
    buildCentralBundle(out);
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
        // Central's request logs are dropped, as the `wrangler dev` run drops them below "warn".
        handleStructuredLogs() {},
        resourcePersistencePath: state,
        workers: [
          {
            name: "auraison-central",
            // The bundle's modules: the entry first, then the SQL migrations it imports as text.
            modules: [
              { type: "ESModule", path: join(out, "index.js") },
              ...readdirSync(out)
                .filter((file) => file.endsWith(".sql"))
                .map((file) => ({ type: "Text", path: join(out, file) })),
            ],
            modulesRoot: out,
            ...centralWorkerSettings(),
            durableObjects: { TENANT: { className: "TenantAgent", useSQLite: true } },
            r2Buckets: ["ARCHIVE"],
            bindings: vars,
            // The Worker on a socket of its own, as Cloudflare serves it: not behind Miniflare's
            // entry worker, which routes every request to a worker by name first.
            unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
          },
        ],
      }),
    );
    await mf.ready;
    const url = await mf.unsafeGetDirectURL("auraison-central");
    const started = mf;
    return {
      url: url.origin,
      stop: async () => {
        await started.dispose();
        removeDirs();
      },
    };
  } catch (error) {
    await mf?.dispose().catch(() => undefined);
    removeDirs();
    throw error;
  }
}
