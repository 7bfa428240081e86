import { Command, CommanderError } from "commander";
import { registerAgents } from "./commands/agents";
import { registerApp } from "./commands/app";
import { registerApprovals } from "./commands/approvals";
import { registerAudit } from "./commands/audit";
import { registerDeploy } from "./commands/deploy";
import { registerDev } from "./commands/dev";
import { registerEdge } from "./commands/edge";
import { registerEvents } from "./commands/events";
import { registerGateway } from "./commands/gateway";
import { registerIntent } from "./commands/intent";
import { registerKeys } from "./commands/keys";
import { registerMemory } from "./commands/memory";
import { registerPlan } from "./commands/plan";
import { registerRuns } from "./commands/runs";
import { registerSecrets } from "./commands/secrets";
import { registerSettings } from "./commands/settings";
import { EXIT } from "./errors";
import { commanderFailure, failureOf, printFailure } from "./report";
import { VERSION } from "./version";

export function buildProgram(options: { json?: boolean } = {}): Command {
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
    .showHelpAfterError(!options.json && "(run with --help for usage)");
  // With --json, commander's own refusals are printed by report() as JSON instead.
  if (options.json) program.configureOutput({ outputError: () => {} });
  registerDev(program);
  registerEdge(program);
  registerApp(program);
  registerIntent(program);
  registerRuns(program);
  registerEvents(program);
  registerAgents(program);
  registerKeys(program);
  registerSecrets(program);
  registerAudit(program);
  registerSettings(program);
  registerGateway(program);
  registerMemory(program);
  registerPlan(program);
  registerApprovals(program);
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
  const json = jsonRequested(argv);
  quietWhenPipeCloses();
  try {
    await buildProgram({ json }).parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (error) {
    return report(error, json);
  }
}

/** `--json` anywhere before `--` (it is a global option). */
function jsonRequested(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

/**
 * `auraison ... | head`: once the reader has gone, the rest of the output has nowhere to go.
 * Stop quietly, as Unix tools do, rather than die on an unhandled EPIPE.
 */
function quietWhenPipeCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      process.exit(process.exitCode === undefined ? EXIT.ok : Number(process.exitCode));
    });
  }
}

function report(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    // Commander already printed the help or version text, or (without --json) the refusal.
    // Help asked for (`--help`, `auraison help [command]`) is success; help shown for a command
    // given without its subcommand (`commander.help` with a failing exit code) is a usage
    // error, so a script's `auraison keys $EMPTY` does not pass.
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      (error.code === "commander.help" && error.exitCode === 0)
    )
      return EXIT.ok;
    if (json) printFailure(commanderFailure(error), true);
    return EXIT.usage;
  }
  const failure = failureOf(error);
  printFailure(failure, json);
  return failure.exit;
}
