import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { replaceFileSync } from "../../edge/state-files";
import { CliError, EXIT } from "../errors";
import { PROJECT_ROOT } from "../wrangler";

export const BOOTSTRAP_VAR = "AURAISON_BOOTSTRAP_KEY";
const MIN_LENGTH = 32;

export interface BootstrapKey {
  key: string;
  source: "env" | "dev.vars" | "saved" | "generated";
  /** Env files for `wrangler dev --env-file`, in order (later ones win). */
  envFiles: string[];
}

/**
 * The platform bootstrap key for local central: `AURAISON_BOOTSTRAP_KEY` from the environment,
 * else from `.dev.vars`, else the one saved in the state dir, else a new one (saved 0600).
 */
export function resolveBootstrapKey(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
  projectRoot: string = PROJECT_ROOT,
): BootstrapKey {
  return resolveLocalSecret(
    BOOTSTRAP_VAR,
    "bootstrap.env",
    home,
    env,
    projectRoot,
    () => `aur_boot_${randomBytes(32).toString("base64url")}`,
  );
}

/** AURAISON_KEY_SECRET (signs the API keys central mints), found or made like the bootstrap key. */
export function resolveKeySecret(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
  projectRoot: string = PROJECT_ROOT,
): BootstrapKey {
  return resolveLocalSecret("AURAISON_KEY_SECRET", "key-secret.env", home, env, projectRoot, () =>
    randomBytes(32).toString("base64url"),
  );
}

/**
 * AURAISON_GATEWAY_KEK (seals tenant secrets and provider keys given by value), found or made like
 * the bootstrap key, so `auraison secrets set` works on the local stack.
 */
export function resolveGatewayKek(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
  projectRoot: string = PROJECT_ROOT,
): BootstrapKey {
  return resolveLocalSecret("AURAISON_GATEWAY_KEK", "gateway-kek.env", home, env, projectRoot, () =>
    randomBytes(32).toString("base64url"),
  );
}

function resolveLocalSecret(
  name: string,
  fileName: string,
  home: string,
  env: NodeJS.ProcessEnv,
  projectRoot: string,
  generate: () => string,
): BootstrapKey {
  const devVars = join(projectRoot, ".dev.vars");
  const fromDevVars = existsSync(devVars) ? readVar(readFileSync(devVars, "utf8"), name) : null;
  const saved = join(home, fileName);
  const baseFiles = existsSync(devVars) ? [devVars] : [];
  const withSaved = (key: string, source: BootstrapKey["source"]): BootstrapKey => {
    replaceFileSync(saved, `${name}=${key}\n`);
    return { key, source, envFiles: [...baseFiles, saved] };
  };
  const fromEnv = env[name];
  if (fromEnv) return withSaved(checked(name, fromEnv, "the environment"), "env");
  if (fromDevVars)
    return { key: checked(name, fromDevVars, devVars), source: "dev.vars", envFiles: [devVars] };
  const fromSaved = existsSync(saved) ? readVar(readFileSync(saved, "utf8"), name) : null;
  if (fromSaved)
    return {
      key: checked(name, fromSaved, saved),
      source: "saved",
      envFiles: [...baseFiles, saved],
    };
  return withSaved(generate(), "generated");
}

function checked(name: string, key: string, where: string): string {
  if (key.length < MIN_LENGTH)
    throw new CliError(
      `${name} from ${where} is shorter than ${MIN_LENGTH} characters`,
      EXIT.usage,
    );
  return key;
}

function readVar(text: string, name: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match?.[1] === name) return match[2]!.replace(/^(['"])(.*)\1$/, "$2") || null;
  }
  return null;
}

/**
 * `NAME='value'` lines for wrangler's `--env-file` (dotenv): single quotes keep a value literal,
 * so JSON values survive; a value holding a quote or a newline cannot be written safely.
 */
export function envFileText(values: Record<string, string>): string {
  const lines = Object.entries(values).map(([name, value]) => {
    if (/['\r\n]/.test(value))
      throw new CliError(`${name}: a value with a quote or newline cannot go in an env file`);
    return `${name}='${value}'`;
  });
  return `${lines.join("\n")}\n`;
}
