import type { Command } from "commander";
import { CliError } from "../errors";

const notYet = () => {
  throw new CliError("edge agents are not built yet (issue 4: Edge runtime)");
};

export function registerEdge(program: Command): void {
  const edge = program
    .command("edge")
    .description("run an edge agent for one application on this host");
  edge
    .command("start")
    .description("start an edge agent: register with central, take intents, run them on pi")
    .requiredOption("--app <name>", "the application this agent serves")
    .option("--skills <dir>", "the app's skills folder (SKILL.md + scripts per skill)")
    .option("--workdir <dir>", "where runs work; file and shell tools stay inside it")
    .option("--state <dir>", "sessions, outbox and agent state")
    .option("--model <provider/model>", "model to use (default: central's gateway)")
    .action(notYet);
  edge
    .command("run")
    .description("run one intent locally, with or without central (degraded mode)")
    .requiredOption("--app <name>", "the application")
    .argument("<prompt>", "the task")
    .action(notYet);
}
