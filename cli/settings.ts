import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { replaceFileSync } from "../edge/state-files";
import { CliError, EXIT } from "./errors";

/** `AURAISON_HOME`, else `.auraison/` in the working directory. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.AURAISON_HOME ?? ".auraison");
}

/** What `auraison dev` saves so other commands find the local stack by themselves. */
export const LocalSettings = z.object({
  url: z.string().url(),
  tenant: z.string(),
  admin_key: z.string(),
  admin_key_id: z.string(),
  written_at: z.string(),
});
export type LocalSettings = z.infer<typeof LocalSettings>;

export function localSettingsPath(home: string = stateDir()): string {
  return join(home, "local.json");
}

export function readLocalSettings(home: string = stateDir()): LocalSettings | null {
  const file = localSettingsPath(home);
  if (!existsSync(file)) return null;
  const invalid = () =>
    new CliError(`${file} is not valid local settings; delete it and run \`npm start\``);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // Cut short (a full disk, a crash while it was written) or edited by hand.
    throw invalid();
  }
  const parsed = LocalSettings.safeParse(value);
  if (!parsed.success) throw invalid();
  return parsed.data;
}

export function writeLocalSettings(settings: LocalSettings, home: string = stateDir()): void {
  mkdirSync(home, { recursive: true });
  replaceFileSync(localSettingsPath(home), `${JSON.stringify(settings, null, 2)}\n`);
}

export type SettingSource = "flag" | "env" | "state";

export interface Connection {
  url: string;
  key: string;
  source: { url: SettingSource; key: SettingSource };
}

/**
 * A key given on the command line: `--key-file <path>` (the file's first line), or `--key`,
 * which `ps` shows every user of the host (kept for scripts; prefer the file or the environment).
 */
export function flagKey(
  key: string | undefined,
  keyFile: string | undefined,
  flag = "--key",
): string | undefined {
  if (key && keyFile) throw new CliError(`give ${flag} or ${flag}-file, not both`, EXIT.usage);
  if (!keyFile) return key;
  let text: string;
  try {
    text = readFileSync(keyFile, "utf8");
  } catch (error) {
    throw new CliError(
      `${flag}-file ${keyFile}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
    );
  }
  const value = text.split(/\r?\n/)[0]!.trim();
  if (!value) throw new CliError(`${flag}-file ${keyFile} is empty`, EXIT.usage);
  return value;
}

/**
 * The one place connection settings resolve, first match wins: flags (--central; --key-file or
 * --key), then AURAISON_URL / AURAISON_KEY, then the local stack's saved settings.
 */
export function resolveConnection(
  flags: { central?: string | undefined; key?: string | undefined; keyFile?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
  home: string = stateDir(env),
): Connection {
  const saved = readLocalSettings(home);
  const url = pick(flags.central, env.AURAISON_URL, saved?.url);
  const key = pick(flagKey(flags.key, flags.keyFile), env.AURAISON_KEY, saved?.admin_key);
  if (!url) {
    throw new CliError(
      "no central URL: pass --central <url>, set AURAISON_URL, or start the local stack with `npm start`",
      EXIT.usage,
    );
  }
  if (!key) {
    throw new CliError(
      "no API key: pass --key-file <path>, set AURAISON_KEY, or start the local stack with `npm start`",
      EXIT.usage,
    );
  }
  checkCentralUrl(url.value, `from ${url.source}`);
  return { url: url.value, key: key.value, source: { url: url.source, key: key.source } };
}

/**
 * Refuses a central URL that is not one, or that carries a user or password (which fetch
 * refuses, and which no message may repeat: the key goes in --key-file or AURAISON_KEY).
 */
export function checkCentralUrl(url: string, from: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // What looks like a user or password is not repeated either.
    const shown = url.replace(/\/\/.*@/, "//…@");
    throw new CliError(`central URL '${shown}' (${from}) is not a valid URL`, EXIT.usage);
  }
  if (parsed.username || parsed.password)
    throw new CliError(
      `the central URL (${from}) carries a user or password: give central's URL alone, and the key with --key-file or AURAISON_KEY`,
      EXIT.usage,
    );
}

function pick(
  flag: string | undefined,
  env: string | undefined,
  state: string | undefined,
): { value: string; source: SettingSource } | null {
  if (flag) return { value: flag, source: "flag" };
  if (env) return { value: env, source: "env" };
  if (state) return { value: state, source: "state" };
  return null;
}
