import type { Command } from "commander";
import { AuditList, PATHS } from "../../contract";
import { centralClient, globals } from "../context";
import { printRows } from "../output";

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("the tenant's audit log, newest first: who did what to which target (admin)")
    .option("--limit <n>", "at most this many", "50")
    .option("--before <id>", "entries older than this id (the next page)")
    .action(async (opts: { limit: string; before?: string }, command: Command) => {
      const query = new URLSearchParams({ limit: opts.limit });
      if (opts.before) query.set("before", opts.before);
      const page = await centralClient(command).request(
        "GET",
        `${PATHS.audit}?${query}`,
        AuditList,
      );
      const json = globals(command).json;
      printRows(
        page.entries,
        ["id", "at", "principal", "role", "action", "target", "outcome", "status"],
        json,
      );
      if (page.next !== null && !json)
        process.stderr.write(`older entries: auraison audit --before ${page.next}\n`);
    });
}
