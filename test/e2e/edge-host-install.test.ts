import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ManagedProcess, spawnManaged } from "../../cli/local-stack/processes";
import { PROJECT_ROOT } from "../../cli/wrangler";
import { AgentList, CentralClient, IntentAccepted, PATHS, RunState } from "../../contract";
import { type CentralDev, createKey, createTenant, startCentralDev } from "../helpers/central-dev";
import { copyCheckout } from "../helpers/checkout";

/** Packages only central, its tests and its tools need: none may land on an edge host. */
const NOT_ON_AN_EDGE_HOST = [
  "agents",
  "drizzle-orm",
  "@hono/zod-openapi",
  "wrangler",
  "miniflare",
  "workerd",
  "@cloudflare/vitest-plugin",
  "vitest",
  "tsx",
  "typescript",
];

/**
 * An edge host installs a clean clone with `npm install --omit=dev` (README, "Installing an edge
 * host"): no central-only or development package arrives, the CLI is built, and the agent it
 * runs registers with a real central, takes an intent and runs it to the end.
 */
describe("an edge host's production install", () => {
  let root = "";
  let central: CentralDev | undefined;
  let edge: ManagedProcess | undefined;

  beforeAll(() => {
    root = copyCheckout();
    // Packages come from npm's cache when it has them (CI has just installed the same lockfile);
    // the DuckDB extension binaries from this checkout rather than PyPI again.
    execFileSync("npm", ["install", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], {
      cwd: root,
      env: { ...process.env, AURAISON_DUCKDB_EXTENSIONS: join(PROJECT_ROOT, ".duckdb/extensions") },
      stdio: "pipe",
    });
  }, 600_000);

  afterAll(async () => {
    await edge?.stop("SIGKILL", 0);
    await central?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("installs no central-only or development package, builds the CLI, keeps the lockfile", () => {
    for (const name of NOT_ON_AN_EDGE_HOST)
      expect(existsSync(join(root, "node_modules", name)), name).toBe(false);
    const tree = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
      cwd: root,
      encoding: "utf8",
    });
    for (const name of NOT_ON_AN_EDGE_HOST)
      expect(tree, name).not.toContain(`/node_modules/${name}\n`);
    expect(tree).toContain("/node_modules/@earendil-works/pi-coding-agent\n");
    expect(existsSync(join(root, "dist/cli.js"))).toBe(true);
    expect(readFileSync(join(root, "package-lock.json"), "utf8")).toBe(
      readFileSync(join(PROJECT_ROOT, "package-lock.json"), "utf8"),
    );
  });

  it("says what is missing when a central command runs there", () => {
    const deploy = spawnSync(process.execPath, ["bin/auraison.js", "deploy", "--dry-run"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(deploy.status).toBe(1);
    expect(deploy.stderr).toContain("wrangler is not installed here");
    expect(deploy.stderr).toContain("full `npm install`");
  });

  it("runs an edge agent that registers with central and runs an intent to the end", async () => {
    central = await startCentralDev();
    const adminKey = await createTenant(central.url, central.bootstrapKey, "lab");
    const admin = new CentralClient({ url: central.url, key: adminKey });
    const agentKey = await createKey(central.url, adminKey, "agent", "edge host", "lab-notes");
    edge = spawnManaged(
      "edge",
      process.execPath,
      [
        join(root, "bin/auraison.js"),
        "edge",
        "start",
        "--app",
        "lab-notes",
        "--app-dir",
        join(root, "examples/apps/lab-notes"),
        "--state",
        mkdtempSync(join(tmpdir(), "auraison-edge-host-")),
        "--model",
        "scripted/lab-notes",
      ],
      { cwd: root, env: { ...process.env, AURAISON_URL: central.url, AURAISON_KEY: agentKey } },
    );
    await vi.waitFor(
      async () => {
        const { agents } = await admin.request("GET", PATHS.agents, AgentList);
        expect(
          agents.map((a) => a.status),
          edge!.output(),
        ).toEqual(["online"]);
      },
      { timeout: 60_000, interval: 250 },
    );
    const accepted = await admin.request("POST", PATHS.intents, IntentAccepted, {
      targets: [{ app: "lab-notes" }],
      params: { prompt: "summarise the notebook" },
    });
    const run = await vi.waitFor(
      async () => {
        const state = await admin.request("GET", `${PATHS.runs}/${accepted.run.run_id}`, RunState);
        expect(state.status, edge!.output()).toBe("completed");
        return state;
      },
      { timeout: 120_000, interval: 500 },
    );
    expect(run.usage.tool_calls).toBeGreaterThan(0);
    expect(await edge.stop("SIGTERM", 30_000)).toBe(0);
  }, 300_000);
});
