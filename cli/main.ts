import { Command, CommanderError } from "commander";
import { CentralApiError, CentralUnreachableError, ContractValidationError } from "../contract";
import { registerAgents } from "./commands/agents";
import { registerDeploy } from "./commands/deploy";
import { registerDev } from "./commands/dev";
import { registerEdge } from "./commands/edge";
import { registerGateway } from "./commands/gateway";
import { registerIntent } from "./commands/intent";
import { registerKeys } from "./commands/keys";
import { registerMemory } from "./commands/memory";
import { registerRuns } from "./commands/runs";
import { CliError, EXIT } from "./errors";
import { VERSION } from "./version";

export function buildProgram(): Command {
  const program = new Command("auraison")
    .description(
      "Run fleets of AI agents beside real systems: a central agent, edge agents, and memory.",
    )
    .version(VERSION, "-V, --version")
    .option("--json", "machine-readable JSON output")
    .option("--central <url>", "central's URL (else AURAISON_URL, else the local stack)")
    .option(
      "--key-file <path>",
      "file holding the API key (else AURAISON_KEY, else the local stack's admin key)",
    )
    .option(
      "--key <key>",
      "API key on the command line (visible in ps: prefer --key-file or AURAISON_KEY)",
    )
    .showHelpAfterError("(run with --help for usage)");
  registerDev(program);
  registerEdge(program);
  registerIntent(program);
  registerRuns(program);
  registerAgents(program);
  registerKeys(program);
  registerGateway(program);
  registerMemory(program);
  registerDeploy(program);
  for (const command of walk(program)) command.exitOverride();
  return program;
}

function* walk(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands) yield* walk(sub);
}

/** Runs the CLI and returns the exit code; never throws. */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed the message (or the help/version text).
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version")
      return EXIT.ok;
    if (error.code === "commander.help") return EXIT.ok;
    return EXIT.usage;
  }
  const fail = (message: string, code: number) => {
    process.stderr.write(`auraison: ${message}\n`);
    return code;
  };
  if (error instanceof CliError) return fail(error.message, error.code);
  if (error instanceof ContractValidationError) {
    return fail(
      `invalid ${error.where}:\n${error.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
      EXIT.usage,
    );
  }
  if (error instanceof CentralUnreachableError) return fail(error.message, EXIT.unreachable);
  if (error instanceof CentralApiError) {
    const code =
      error.status === 401 || error.status === 403
        ? EXIT.auth
        : error.status === 404
          ? EXIT.notFound
          : error.status < 500
            ? EXIT.usage
            : EXIT.failure;
    return fail(`central answered ${error.status} ${error.code}: ${error.message}`, code);
  }
  return fail(
    `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    EXIT.failure,
  );
}
