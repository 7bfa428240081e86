import { type Command, Option } from "commander";
import {
  EventsPage,
  ForkRequest,
  IntentAccepted,
  PATHS,
  parse,
  RUN_STATUSES,
  RunList,
  RunState,
  type StoredEvent,
} from "../../contract";
import { centralClient, globals } from "../context";
import { EXIT } from "../errors";
import { followRun, printRunEnd } from "../follow";
import { formatEvent } from "../format-event";
import { printRows, printValue } from "../output";
import { describeTargets, whyPending } from "../waiting";

export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("inspect and control runs");

  runs
    .command("list")
    .description("list runs, newest first")
    .addOption(new Option("--status <status>", "only runs in this status").choices(RUN_STATUSES))
    .option("--app <app>", "only runs of this app")
    .option("--limit <n>", "at most this many", "50")
    .action(async (opts: { status?: string; app?: string; limit: string }, command: Command) => {
      const query = new URLSearchParams({ limit: opts.limit });
      if (opts.status) query.set("status", opts.status);
      if (opts.app) query.set("app", opts.app);
      const { runs: list } = await centralClient(command).request(
        "GET",
        `/v1/runs?${query}`,
        RunList,
      );
      const rows = list.map((r) => ({
        ...r,
        target: describeTargets(r.targets),
        created: r.timings.created_at,
        tokens: r.usage.tokens_in + r.usage.tokens_out,
        cost_usd: r.usage.cost_usd,
        error: r.error?.reason ?? null,
      }));
      printRows(
        rows,
        [
          "run_id",
          "status",
          "app",
          "target",
          "agent_id",
          "attempt",
          "created",
          "tokens",
          "cost_usd",
          "error",
        ],
        globals(command).json,
      );
    });

  runs
    .command("show")
    .description("show one run")
    .argument("<run>", "run id")
    .action(async (id: string, _opts: unknown, command: Command) => {
      printValue(
        await centralClient(command).request("GET", `/v1/runs/${encodeURIComponent(id)}`, RunState),
        true,
      );
    });

  runs
    .command("events")
    .description("print a run's events in order")
    .argument("<run>", "run id")
    .option("--follow", "keep streaming until the run ends")
    .action(async (id: string, opts: { follow?: boolean }, command: Command) => {
      const client = centralClient(command);
      const json = globals(command).json;
      if (opts.follow) {
        const run = await client.request(
          "GET",
          `${PATHS.runs}/${encodeURIComponent(id)}`,
          RunState,
        );
        const why = run.status === "pending" && !json ? await whyPending(client, run) : null;
        if (why) process.stderr.write(`note: run ${id} is pending: ${why}; waiting for one\n`);
        const final = await followRun(client, id, json);
        printRunEnd(final, json);
        if (final.status !== "completed") process.exitCode = EXIT.failure;
        return;
      }
      let after = 0;
      for (;;) {
        const page = await client.request(
          "GET",
          `/v1/events?run=${encodeURIComponent(id)}&after=${after}&limit=500`,
          EventsPage,
        );
        for (const event of page.events as StoredEvent[]) {
          process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`);
        }
        if (!page.has_more) break;
        after = page.next_cursor;
      }
    });

  runs
    .command("cancel")
    .description("cancel a run; a running one is stopped on its edge agent")
    .argument("<run>", "run id")
    .option("--reason <text>", "why", "cancelled by user")
    .action(async (id: string, opts: { reason: string }, command: Command) => {
      const run = await centralClient(command).request(
        "POST",
        `/v1/runs/${encodeURIComponent(id)}/cancel`,
        RunState,
        {
          reason: opts.reason,
        },
      );
      printRows([run], ["run_id", "status", "agent_id"], globals(command).json);
    });

  runs
    .command("fork")
    .description("start a new run from a point in an earlier run's session tree")
    .argument("<run>", "run id to fork")
    .argument("[prompt]", "the fork's instruction (default: the original intent's prompt)")
    .option(
      "--at <entry>",
      "session tree entry id, as `runs events` shows them in [brackets] (default: the run's latest entry)",
    )
    .action(
      async (id: string, prompt: string | undefined, opts: { at?: string }, command: Command) => {
        const body = parse(
          ForkRequest,
          { ...(opts.at ? { entry_id: opts.at } : {}), ...(prompt ? { prompt } : {}) },
          "fork request",
        );
        const accepted = await centralClient(command).request(
          "POST",
          `/v1/runs/${encodeURIComponent(id)}/fork`,
          IntentAccepted,
          body,
        );
        if (globals(command).json) printValue(accepted, true);
        else
          process.stdout.write(
            `forked ${id} into run ${accepted.run.run_id} (intent ${accepted.intent.intent_id})\n`,
          );
      },
    );
}
