import type { Command } from "commander";
import { CliError } from "../errors";

const notYet = () => {
  throw new CliError("memory is not built yet (issue 5: Memory)");
};

export function registerMemory(program: Command): void {
  const memory = program
    .command("memory")
    .description("query what agents did: the event log projected into DuckLake");
  memory
    .command("sync")
    .description("project new events into the lake, from central or from a directory")
    .option("--from <url>", "central's URL")
    .option("--from-dir <dir>", "NDJSON segments or an edge outbox")
    .option("--follow", "keep tailing")
    .action(notYet);
  memory
    .command("sql")
    .description("run SQL against the lake")
    .argument("<query>", "a SELECT")
    .action(notYet);
  memory
    .command("rebuild")
    .description("drop the projection and replay the whole log")
    .action(notYet);
}
