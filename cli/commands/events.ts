import type { Command } from "commander";
import { EventsPage, PATHS, type StoredEvent } from "../../contract";
import { centralClient, globals } from "../context";
import { followEvents } from "../follow";
import { formatEvent } from "../format-event";
import { wholeNumber } from "../numbers";

interface EventsFlags {
  follow?: boolean;
  after?: string;
  run?: string;
  agent?: string;
  kind?: string;
  limit: string;
}

export function registerEvents(program: Command): void {
  program
    .command("events")
    .description(
      "the tenant's event log, every run and agent: a page of it, or with --follow what happens from now on",
    )
    .option("--follow", "stream new events live until interrupted (with --after: replay first)")
    .option(
      "--after <cursor>",
      "start after this cursor (default: the beginning; with --follow, now)",
    )
    .option("--run <id>", "only this run's events")
    .option("--agent <id>", "only this agent's events")
    .option("--kind <kinds>", "only these kinds, comma-separated (e.g. run_started,run_failed)")
    .option("--limit <n>", "without --follow: at most this many events", "100")
    .action(async (opts: EventsFlags, command: Command) => {
      const client = centralClient(command);
      const json = globals(command).json;
      const after = opts.after === undefined ? undefined : wholeNumber(opts.after, "--after");
      const print = (event: StoredEvent) =>
        process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${line(event)}\n`);
      const filter = { run: opts.run, agent: opts.agent, kind: opts.kind };
      if (opts.follow) {
        await followEvents(client, { ...filter, after }, (event) => {
          print(event);
          return false;
        });
        return;
      }
      const limit = wholeNumber(opts.limit, "--limit", 1);
      const query = new URLSearchParams({ after: String(after ?? 0) });
      for (const [name, value] of Object.entries(filter)) if (value) query.set(name, value);
      let printed = 0;
      for (;;) {
        query.set("limit", String(Math.min(1_000, limit - printed)));
        const page = await client.request("GET", `${PATHS.events}?${query}`, EventsPage);
        for (const event of page.events as StoredEvent[]) print(event);
        printed += page.events.length;
        query.set("after", String(page.next_cursor));
        if (!page.has_more) return;
        if (printed >= limit) {
          if (!json) process.stderr.write(`more: auraison events --after ${page.next_cursor}\n`);
          return;
        }
      }
    });
}

/** The cursor and the run first: in a tenant-wide view, they say where a line belongs. */
function line(event: StoredEvent): string {
  return `${String(event.cursor).padStart(6)} ${(event.run_id ?? "-").padEnd(36)} ${formatEvent(event)}`;
}
