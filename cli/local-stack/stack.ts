import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CentralClient, GatewayConfigView, PATHS, TenantSettings } from "../../contract";
import { replaceFileSync } from "../../edge/state-files";
import { StateLock, StateLockedError } from "../../edge/state-lock";
import { readGatewayConfigFile } from "../commands/gateway";
import { readSettingsFile } from "../commands/settings";
import { CliError, EXIT } from "../errors";
import { allAgents } from "../fleet-agents";
import { readLocalSettings, writeLocalSettings } from "../settings";
import { shownPath } from "../shown-path";
import { PROJECT_ROOT } from "../wrangler";
import {
  envFileText,
  resolveBootstrapKey,
  resolveGatewayKek,
  resolveKeySecret,
} from "./bootstrap-key";
import { startLocalCentral } from "./central";
import { describePlan, type LocalModelPlan, localModelPlan } from "./models";
import { type ManagedProcess, portFree, spawnManaged } from "./processes";
import { SAMPLE_GOAL, SECOND_SAMPLE_APP, samplePlannerConfig } from "./sample-planner";
import { INTERRUPTED, StackSupervisor } from "./supervisor";
import { ensureComponentKey, ensureLocalTenant } from "./tenant";

export interface LocalStackOptions {
  home: string;
  port: number;
  app: string;
  appDir: string;
  edge: boolean;
  memory: boolean;
  /** A TenantSettings JSON file applied to the local tenant at start. */
  settingsFile?: string;
  /** A gateway config file (as for `auraison gateway apply`) applied at start. */
  gatewayFile?: string;
}

const BIN = join(PROJECT_ROOT, "bin", "auraison.js");

/**
 * `auraison dev`: central under wrangler dev, the local tenant and its admin key, one edge agent
 * for the sample app and the memory projector following central's log — all on 127.0.0.1, all
 * state under the state dir, so a second start resumes where the first stopped. Runs until
 * SIGINT/SIGTERM (or until a component dies) and stops everything in order: the edge first (it
 * drains and delivers its events), then memory, then central.
 */
export async function runLocalStack(options: LocalStackOptions): Promise<number> {
  const { home } = options;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  // From here on a signal stops the stack: a Ctrl-C while it starts must not orphan what it
  // spawned so far (its children are in process groups of their own).
  const supervisor = new StackSupervisor({ say });
  supervisor.install();
  try {
    mkdirSync(join(home, "logs"), { recursive: true });
    const lock = lockStateDir(home);
    try {
      return await runLocked(options, supervisor, say);
    } finally {
      lock.release();
    }
  } finally {
    supervisor.uninstall();
  }
}

/**
 * One stack per state dir: a second one would run a second wrangler on the same Durable Object
 * state and point local.json at itself. Refused before anything starts, naming the holder.
 */
function lockStateDir(home: string): StateLock {
  try {
    return StateLock.acquire(home, { file: "dev.lock", holder: "auraison dev" });
  } catch (error) {
    if (!(error instanceof StateLockedError)) throw error;
    const url = readLocalSettings(home)?.url;
    throw new CliError(
      `${error.message}${url ? `, serving ${url}` : ""}. Use that stack (the CLI finds it by itself), or stop it first (Ctrl-C in its terminal${error.pid === null ? "" : `, or kill -INT ${error.pid}`}); ` +
        "a second stack needs a state dir of its own: AURAISON_HOME=<dir> auraison dev --port <port>",
      EXIT.failure,
    );
  }
}

async function runLocked(
  options: LocalStackOptions,
  supervisor: StackSupervisor,
  say: (line: string) => void,
): Promise<number> {
  const { home, port, app } = options;
  const free = await portFree(port);
  supervisor.checkpoint();
  if (!free)
    throw new CliError(
      `127.0.0.1:${port} is in use by another program; stop it or pass --port <port>`,
      EXIT.usage,
    );
  const settings = options.settingsFile ? readSettingsFile(options.settingsFile) : null;
  // A bad gateway file stops the start before anything runs.
  const gatewayFile = options.gatewayFile
    ? { file: options.gatewayFile, config: readGatewayConfigFile(options.gatewayFile) }
    : undefined;
  const plan = localModelPlan(app, process.env, gatewayFile);

  const bootstrap = resolveBootstrapKey(home);
  if (bootstrap.source === "generated")
    say(
      `platform bootstrap key (shown once; saved 0600 in ${join(home, "bootstrap.env")}):\n  ${bootstrap.key}`,
    );
  say(
    `starting central on 127.0.0.1:${port} (wrangler dev; log: ${join(home, "logs", "central.log")}) ...`,
  );
  const logFile = (name: string) => join(home, "logs", `${name}.log`);
  try {
    const central = await startLocalCentral({
      port,
      persistDir: join(home, "central"),
      bootstrap: {
        envFiles: [
          ...bootstrap.envFiles,
          ...resolveKeySecret(home).envFiles,
          ...resolveGatewayKek(home).envFiles,
          ...providerKeysFile(home, plan),
        ],
      },
      // The local stack's providers live on this machine or the lab's network. The OpenTelemetry
      // variables `npm start` was given reach central too (the edge agents inherit them).
      vars: {
        AURAISON_PRIVATE_UPSTREAMS: "allow",
        ...Object.fromEntries(
          Object.entries(process.env).filter(
            (e): e is [string, string] => e[0].startsWith("OTEL_") && e[1] !== undefined,
          ),
        ),
      },
      logFile: logFile("central"),
      onSpawn: (proc) => supervisor.add(proc),
    });
    supervisor.checkpoint();
    const tenant = await ensureLocalTenant(central.url, bootstrap.key, home);
    supervisor.checkpoint();
    const admin = new CentralClient({ url: central.url, key: tenant.settings.admin_key });
    if (settings) await admin.request("PUT", PATHS.settings, TenantSettings, settings);
    if (plan.kind === "gateway")
      await admin.request("PUT", PATHS.gatewayConfig, GatewayConfigView, plan.config);
    // Without a provider, central's planner is the labelled scripted one (the edges' models are
    // their apps' scripted scenarios, which never touch the gateway).
    else await admin.request("PUT", PATHS.gatewayConfig, GatewayConfigView, samplePlannerConfig());
    supervisor.checkpoint();
    const childEnv = { ...process.env, AURAISON_HOME: home, AURAISON_URL: central.url };
    if (options.edge) {
      const edges: Array<[string, string]> = [[app, options.appDir]];
      if (withSecondSample(options)) edges.push([SECOND_SAMPLE_APP, secondSampleDir()]);
      for (const [edgeApp, dir] of edges) {
        const agentKey = await ensureComponentKey(admin, home, `edge-${edgeApp}`, "agent", edgeApp);
        supervisor.checkpoint();
        const name = edgeApp === app ? "edge" : `edge-${edgeApp}`;
        const edge = supervisor.add(
          spawnManaged(
            name,
            process.execPath,
            [
              BIN,
              "edge",
              "start",
              "--app",
              edgeApp,
              "--app-dir",
              dir,
              ...(plan.kind === "scripted" ? ["--model", `scripted/${edgeApp}`] : []),
            ],
            { env: { ...childEnv, AURAISON_KEY: agentKey }, logFile: logFile(name) },
          ),
        );
        await waitForAgent(admin, edgeApp, edge);
        supervisor.checkpoint();
      }
    }
    if (options.memory) {
      const viewerKey = await ensureComponentKey(admin, home, "memory", "viewer");
      supervisor.checkpoint();
      supervisor.add(
        spawnManaged(
          "memory",
          process.execPath,
          [BIN, "memory", "sync", "--from", central.url, "--follow"],
          {
            env: { ...childEnv, AURAISON_KEY: viewerKey },
            logFile: logFile("memory"),
          },
        ),
      );
    }
    writeFileSync(
      join(home, "dev.json"),
      `${JSON.stringify(
        {
          url: central.url,
          started_at: new Date().toISOString(),
          pid: process.pid,
          processes: supervisor.pids(),
        },
        null,
        2,
      )}\n`,
    );
    // Only now that everything is up does the CLI's way to this stack change.
    writeLocalSettings({ ...tenant.settings, written_at: new Date().toISOString() }, home);
    say(summary(options, central.url, tenant.newAdminKey, plan));
    return await supervisor.supervise();
  } catch (error) {
    await supervisor.stopAll();
    // A stop asked for while starting cuts start-up short, whatever that step then threw.
    if (!supervisor.stopSignal) throw error;
    say("stopped before the stack was up.");
    return INTERRUPTED;
  }
}

/**
 * The provider keys the environment names, as Worker secrets for local central, with their
 * offer to the local tenant: a 0600 env file in the state dir, rewritten at every start (so the
 * gateway config refers to them by name).
 */
function providerKeysFile(home: string, plan: LocalModelPlan): string[] {
  const file = join(home, "provider-keys.env");
  if (plan.kind !== "gateway" || Object.keys(plan.secrets).length === 0) {
    rmSync(file, { force: true });
    return [];
  }
  replaceFileSync(
    file,
    envFileText({ ...plan.secrets, AURAISON_PROVIDER_SECRETS: JSON.stringify(plan.offers) }),
  );
  return [file];
}

async function waitForAgent(
  admin: CentralClient,
  app: string,
  edge: ManagedProcess,
): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    const agents = await allAgents(admin);
    if (agents.some((a) => a.app === app && (a.status === "online" || a.status === "busy"))) return;
    if (edge.child.exitCode !== null || edge.child.signalCode !== null)
      throw new CliError(`the ${app} edge agent exited while starting:\n${edge.output()}`);
    if (Date.now() > until)
      throw new CliError(`the ${app} edge agent did not register within 90 s:\n${edge.output()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function summary(
  options: LocalStackOptions,
  url: string,
  newAdminKey: string | null,
  plan: LocalModelPlan,
): string {
  const home = options.home;
  const lines = [
    "",
    "Auraison is running on 127.0.0.1:",
    `  central  ${url}  (wrangler dev; Durable Object and R2 state in ${shownPath(join(home, "central"))})`,
    `  tenant   local; admin key in ${shownPath(join(home, "local.json"))}`,
  ];
  if (newAdminKey) lines.push(`           admin key (shown once): ${newAdminKey}`);
  if (options.edge) {
    lines.push(
      `  edge     ${options.app} agent (${shownPath(options.appDir)}), workdir ${shownPath(join(home, "edge", options.app, "work"))}`,
    );
    if (withSecondSample(options))
      lines.push(
        `  edge     ${SECOND_SAMPLE_APP} agent (${shownPath(secondSampleDir())}), for plans across apps`,
      );
    lines.push(`  model    ${describePlan(plan)}`);
    if (plan.kind === "scripted")
      lines.push(
        "  planner  central's plans come from a scripted planner on its gateway (local-planner/sample-plan): one fixed plan across both apps, NOT a real model",
      );
  }
  if (options.memory)
    lines.push(`  memory   DuckLake in ${shownPath(join(home, "lake"))}, following central's log`);
  lines.push(
    `  logs     ${shownPath(join(home, "logs"))}/`,
    "",
    "From another terminal (the CLI finds this stack by itself):",
    `  npx auraison intent submit --app ${options.app} "summarise the notebook" --wait`,
    ...(options.edge && withSecondSample(options)
      ? [`  npx auraison plan submit "${SAMPLE_GOAL}" --wait   # a plan across both apps`]
      : []),
    "  npx auraison runs list",
    "  npx auraison agents list",
    '  npx auraison memory sql "select r.run_id, r.status, count(t.tool) as tools from runs r left join tool_calls t using (run_id) group by all"',
    "  npx auraison app init my-app && npx auraison edge start --app-dir my-app   # your own app, on this stack",
    "",
    "Ctrl-C stops everything; the next start resumes with the same state.",
  );
  return lines.join("\n");
}

/** The second sample app runs beside the first sample app, not beside an app of the user's. */
function withSecondSample(options: LocalStackOptions): boolean {
  return resolve(options.appDir) === defaultAppDir();
}

function secondSampleDir(): string {
  return resolve(PROJECT_ROOT, "examples", "apps", SECOND_SAMPLE_APP);
}

export function defaultAppDir(): string {
  return resolve(PROJECT_ROOT, "examples", "apps", "lab-notes");
}
