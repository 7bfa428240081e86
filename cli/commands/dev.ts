import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { CliError, EXIT } from "../errors";
import { stateDir } from "../settings";
import { PROJECT_ROOT, spawnWrangler } from "../wrangler";

const VAR = "AURAISON_BOOTSTRAP_KEY";
const MIN_LENGTH = 32;

export interface BootstrapKey {
  key: string;
  source: "env" | "dev.vars" | "saved" | "generated";
  /** Env files for `wrangler dev --env-file`, in order (later ones win); none: wrangler reads .dev.vars itself. */
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
  const fromDevVars = existsSync(devVars) ? readVar(readFileSync(devVars, "utf8"), VAR) : null;
  const saved = join(home, "bootstrap.env");
  const baseFiles = existsSync(devVars) ? [devVars] : [];
  const withSaved = (key: string, source: BootstrapKey["source"]): BootstrapKey => {
    writeSecretFile(saved, `${VAR}=${key}\n`);
    return { key, source, envFiles: [...baseFiles, saved] };
  };
  const fromEnv = env[VAR];
  if (fromEnv) return withSaved(checked(fromEnv, "the environment"), "env");
  if (fromDevVars) return { key: checked(fromDevVars, devVars), source: "dev.vars", envFiles: [] };
  const fromSaved = existsSync(saved) ? readVar(readFileSync(saved, "utf8"), VAR) : null;
  if (fromSaved)
    return { key: checked(fromSaved, saved), source: "saved", envFiles: [...baseFiles, saved] };
  return withSaved(`aur_boot_${randomBytes(32).toString("base64url")}`, "generated");
}

function checked(key: string, where: string): string {
  if (key.length < MIN_LENGTH)
    throw new CliError(`${VAR} from ${where} is shorter than ${MIN_LENGTH} characters`, EXIT.usage);
  return key;
}

function readVar(text: string, name: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match?.[1] === name) return match[2]!.replace(/^(['"])(.*)\1$/, "$2") || null;
  }
  return null;
}

function writeSecretFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function registerDev(program: Command): void {
  program
    .command("dev")
    .description(
      "run central locally under wrangler dev, with Durable Object and R2 state in the state dir",
    )
    .option("--port <port>", "central's port on 127.0.0.1", "8787")
    .action(async (opts: { port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535)
        throw new CliError(`--port: '${opts.port}' is not a port`, EXIT.usage);
      const home = stateDir();
      mkdirSync(home, { recursive: true });
      const bootstrap = resolveBootstrapKey(home);
      if (bootstrap.source === "generated")
        process.stderr.write(
          `auraison: generated a platform bootstrap key (shown once; saved 0600 in ${join(home, "bootstrap.env")}):\n  ${bootstrap.key}\n` +
            `  create a tenant: curl -X POST http://127.0.0.1:${port}/v1/tenants -H "authorization: Bearer $KEY" -H "content-type: application/json" -d '{"tenant":"local"}'\n`,
        );
      else
        process.stderr.write(
          `auraison: using the platform bootstrap key from ${bootstrap.source === "saved" ? join(home, "bootstrap.env") : bootstrap.source === "env" ? `$${VAR}` : ".dev.vars"}\n`,
        );
      const args = [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--persist-to",
        join(home, "central"),
      ];
      for (const file of bootstrap.envFiles) args.push("--env-file", file);
      const child = spawnWrangler(args);
      const stop = () => child.kill("SIGINT");
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 0)));
      if (code !== 0 && code !== 130) throw new CliError(`wrangler dev exited with ${code}`, code);
    });
}
