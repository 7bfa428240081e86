import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
  const devVars = join(projectRoot, ".dev.vars");
  const fromDevVars = existsSync(devVars)
    ? readVar(readFileSync(devVars, "utf8"), BOOTSTRAP_VAR)
    : null;
  const saved = join(home, "bootstrap.env");
  const baseFiles = existsSync(devVars) ? [devVars] : [];
  const withSaved = (key: string, source: BootstrapKey["source"]): BootstrapKey => {
    writeSecretFile(saved, `${BOOTSTRAP_VAR}=${key}\n`);
    return { key, source, envFiles: [...baseFiles, saved] };
  };
  const fromEnv = env[BOOTSTRAP_VAR];
  if (fromEnv) return withSaved(checked(fromEnv, "the environment"), "env");
  if (fromDevVars)
    return { key: checked(fromDevVars, devVars), source: "dev.vars", envFiles: [devVars] };
  const fromSaved = existsSync(saved) ? readVar(readFileSync(saved, "utf8"), BOOTSTRAP_VAR) : null;
  if (fromSaved)
    return { key: checked(fromSaved, saved), source: "saved", envFiles: [...baseFiles, saved] };
  return withSaved(`aur_boot_${randomBytes(32).toString("base64url")}`, "generated");
}

function checked(key: string, where: string): string {
  if (key.length < MIN_LENGTH)
    throw new CliError(
      `${BOOTSTRAP_VAR} from ${where} is shorter than ${MIN_LENGTH} characters`,
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

export function writeSecretFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}
