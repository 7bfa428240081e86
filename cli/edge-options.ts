import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { API_KEY_PATTERN, AppName, check, WITHHELD_MIN_LENGTH, withholdValues } from "../contract";
import { SHELL_SANDBOX_MODES, type ShellSandboxMode } from "../edge/session/shell-sandbox";
import { parseDuration, type TIMER_LIMIT } from "./durations";
import { CliError, EXIT } from "./errors";
import { checkCentralUrl, flagKey, stateDir } from "./settings";

/** Flags `edge start` and `edge run` share. */
export interface EdgeFlags {
  app?: string;
  agentId?: string;
  appDir?: string;
  skills?: string;
  workdir?: string;
  state?: string;
  model?: string;
  fallbackBaseUrl?: string;
  fallbackModel?: string;
  fallbackKey?: string;
  fallbackKeyFile?: string;
  extension?: string[];
  tenant?: string;
  shellSandbox?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addEdgeFlags(command: Command): Command {
  return command
    .option(
      "--app <name>",
      "the application this agent serves (default: the app folder's app.json `app`, else its name)",
    )
    .option("--app-dir <dir>", "the app folder: app.json, skills/, adapters/")
    .option("--skills <dir>", "the app's skills folder (default: <app-dir>/skills)")
    .option("--workdir <dir>", "where runs work; file and shell tools stay inside it")
    .option("--state <dir>", "sessions, outbox and agent state (default: .auraison/edge/<app>)")
    .option(
      "--model <provider/model>",
      "model for runs (default: app.json, else central's gateway auraison/auto)",
    )
    .option("--fallback-base-url <url>", "OpenAI-compatible server used while central is away")
    .option("--fallback-model <id>", "model id on the fallback server")
    .option(
      "--fallback-key-file <path>",
      "file holding the fallback API key (else AURAISON_FALLBACK_KEY)",
    )
    .option("--fallback-key <key>", "fallback API key on the command line (visible in ps)")
    .option("--extension <path>", "load a pi extension module (repeatable)", collect)
    .option(
      "--shell-sandbox <mode>",
      "the model's shell: auto (in bubblewrap when it runs here), bwrap (required), off",
      "auto",
    )
    .option("--agent-id <id>", "this agent's id (default: <hostname>-<app>)")
    .option("--tenant <tenant>", "tenant for events when no agent key says it (default: local)");
}

/** Central for an edge agent: flags, then env. Never the local stack's admin key. */
export function edgeCentral(
  globals: { central?: string; key?: string; keyFile?: string },
  env: NodeJS.ProcessEnv = process.env,
): { url: string; key: string } | null {
  const url = globals.central || env.AURAISON_URL;
  const key = flagKey(globals.key, globals.keyFile) || env.AURAISON_KEY;
  if (!url && !key) return null;
  if (!url) throw new CliError("a key given without --central <url> (or AURAISON_URL)", EXIT.usage);
  checkCentralUrl(url, globals.central ? "from --central" : "from AURAISON_URL");
  if (!key)
    throw new CliError(
      `no agent key for ${url}: pass --key-file <path> or set AURAISON_KEY (create one with \`auraison keys create --role agent\`)`,
      EXIT.usage,
    );
  return { url, key };
}

/**
 * The agent's own credentials (its key and the fallback's, from flags, files or the
 * environment), once read: out of this process's environment, so no tool, extension or child
 * process finds them there, and masked like a run's secrets in everything the agent writes
 * (events, the outbox, run records, pi session files). A value shorter than the redactor's
 * minimum would mask ordinary words, and is left as it is.
 */
export function withholdAgentKeys(
  keys: ReadonlyArray<string | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  delete env.AURAISON_KEY;
  delete env.AURAISON_FALLBACK_KEY;
  withholdValues(
    keys.filter((k): k is string => k !== undefined && k.length >= WITHHELD_MIN_LENGTH),
  );
}

/** `--shell-sandbox`, checked. */
export function shellSandboxMode(value: string | undefined): ShellSandboxMode {
  const mode = value ?? "auto";
  if (!(SHELL_SANDBOX_MODES as readonly string[]).includes(mode))
    throw new CliError(
      `--shell-sandbox '${mode}': expected one of ${SHELL_SANDBOX_MODES.join(", ")}`,
      EXIT.usage,
    );
  return mode as ShellSandboxMode;
}

/** The tenant named in an agent key (`aur_agent_<tenant>_...`). */
export function keyTenant(key: string): string | null {
  return API_KEY_PATTERN.exec(key)?.[2] ?? null;
}

/** `--app`, else the app folder's `app.json` `app`, else the folder's name. */
export function appOf(opts: { app?: string | undefined; appDir?: string | undefined }): string {
  if (opts.app) return checkedApp(opts.app);
  if (!opts.appDir)
    throw new CliError(
      "say which app: --app <name>, or --app-dir <dir> (its app.json `app`, else the folder's name)",
      EXIT.usage,
    );
  const dir = resolve(opts.appDir);
  const file = join(dir, "app.json");
  let named: unknown;
  try {
    named = existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as { app?: unknown }).app
      : undefined;
  } catch {
    // A broken app.json is reported with its field paths when the folder loads.
  }
  const app = typeof named === "string" ? named : basename(dir);
  const parsed = check(AppName, app);
  if (!parsed.ok)
    throw new CliError(
      `--app-dir ${opts.appDir}: '${app}' is not an app name (${parsed.issues[0]!.message}); pass --app <name>`,
      EXIT.usage,
    );
  return app;
}

export function checkedApp(app: string): string {
  const parsed = check(AppName, app);
  if (!parsed.ok) throw new CliError(`--app '${app}': ${parsed.issues[0]!.message}`, EXIT.usage);
  return app;
}

export function defaultAgentId(app: string): string {
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return `${host || "host"}-${app}`.slice(0, 128);
}

export function defaultStateDir(app: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), "edge", app);
}

export function durationOption(
  value: string | undefined,
  flag: string,
  fallback: number,
  max?: typeof TIMER_LIMIT,
): number {
  return value === undefined ? fallback : parseDuration(value, flag, max);
}
