import type { Command } from "commander";
import type { Lake } from "../../lakehouse/lake/open";
import type { BatchResult } from "../../lakehouse/projection/commit";
import type { SyncReport } from "../../lakehouse/projection/sync";
import type { QueryResult } from "../../lakehouse/query/result";
import type { EventSource } from "../../lakehouse/sources/source";
import { globals } from "../context";
import { parseDuration, TIMER_LIMIT } from "../durations";
import { CliError, EXIT } from "../errors";
import { asCliError, withLake } from "../memory/lake";
import { printResult, type ResultFormat } from "../memory/print";
import { parseAt, parseSince } from "../memory/time";
import { positive } from "../numbers";
import { printRows, printValue } from "../output";
import { resolveConnection } from "../settings";

interface SourceFlags {
  from?: string;
  fromDir?: string;
}

interface QueryFlags {
  at?: string;
  csv?: boolean;
  since?: string;
  app?: string;
  limit?: string;
}

export function registerMemory(program: Command): void {
  const memory = program
    .command("memory")
    .description("query what agents did: the event log projected into DuckLake")
    .option("--lake <dir>", "lake directory (else AURAISON_LAKE, else <state dir>/lake)")
    .option(
      "--catalog <spec>",
      "catalog: sqlite:<file>, duckdb:<file> or postgres:<conninfo> (else AURAISON_LAKE_CATALOG)",
    )
    .option(
      "--data-path <path>",
      "Parquet data: a directory, s3:// or r2:// (else AURAISON_LAKE_DATA)",
    );

  memory
    .command("sync")
    .description("project new events into the lake, from central or from a directory")
    .option("--from <url>", "central's URL (else --central, AURAISON_URL, the local stack)")
    .option("--from-dir <dir>", "NDJSON segments (central's archive) or an edge outbox")
    .option("--follow", "keep tailing until interrupted")
    .option("--poll <duration>", "with --follow: wait between polls when caught up", "2s")
    .option(
      "--batch-size <n>",
      "events per lake transaction (more is faster and takes more memory)",
      BATCH_SIZE,
    )
    .action(
      async (
        opts: SourceFlags & { follow?: boolean; poll: string; batchSize: string },
        command: Command,
      ) => {
        const json = globals(command).json;
        // Checked before the lake is opened (and, on first use, made).
        const pollMs = parseDuration(opts.poll, "--poll", TIMER_LIMIT);
        const batchSize = positive(opts.batchSize, "--batch-size");
        const source = await openSource(command, opts);
        const { sync } = await import("../../lakehouse/projection/sync");
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        try {
          const report = await withLake(command, {}, (lake) =>
            sync(lake, source, {
              follow: opts.follow === true,
              pollMs,
              batchSize,
              signal: stop.signal,
              onBatch: json ? undefined : printBatch,
            }),
          );
          printSync(report, json);
        } catch (error) {
          throw asCliError(error);
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        }
      },
    );

  memory
    .command("rebuild")
    .description(
      "drop the projection and replay the whole log: the lake's events, or (with --from/--from-dir) a source's, replacing everything",
    )
    .option("--from <url>", "replay central's log from its beginning")
    .option("--from-dir <dir>", "replay a directory of NDJSON segments from its beginning")
    .option(
      "--batch-size <n>",
      "with --from/--from-dir: events per batch (all batches are one lake transaction)",
      BATCH_SIZE,
    )
    .action(async (opts: SourceFlags & { batchSize: string }, command: Command) => {
      const json = globals(command).json;
      const replay = opts.from !== undefined || opts.fromDir !== undefined;
      const source = replay ? await openSource(command, opts) : null;
      const { rebuild, rebuildFrom } = await import("../../lakehouse/projection/rebuild");
      try {
        if (source) {
          const batchSize = positive(opts.batchSize, "--batch-size");
          const onBatch = json ? undefined : printBatch;
          printSync(
            await withLake(command, {}, (lake) =>
              rebuildFrom(lake, source, { batchSize, onBatch }),
            ),
            json,
          );
          return;
        }
        const report = await withLake(command, {}, (lake) => rebuild(lake));
        if (json) printValue(report, true);
        else
          process.stdout.write(
            `rebuilt ${report.runs} runs from ${report.events} events in ${report.seconds.toFixed(1)} s\n`,
          );
      } catch (error) {
        throw asCliError(error);
      }
    });

  const query = (name: string, description: string) =>
    memory
      .command(name)
      .description(description)
      .option(
        "--at <snapshot|time>",
        "time travel: a snapshot id, an ISO time, or a duration ago (2h)",
      )
      .option("--csv", "CSV output");

  query("sql", "run a read-only SQL query against the lake (tables and views of `memory`)")
    .argument("<query>", 'e.g. "SELECT app, count(*) FROM runs GROUP BY app"')
    .action(async (sql: string, opts: QueryFlags, command: Command) => {
      const { runSql } = await import("../../lakehouse/query/sql");
      await printQuery(command, opts, (lake) => runSql(lake, sql), { rawHeaders: true });
    });

  query("runs", "recent runs; --failed for failures with their errors")
    .option("--failed", "only failed runs (the failed_runs view)")
    .option("--status <status>", "only runs in this status")
    .option("--app <app>", "only this app")
    .option("--since <time>", "only since: a duration ago (1d) or an ISO time")
    .option("--limit <n>", "at most this many", "50")
    .action(async (opts: QueryFlags & { failed?: boolean; status?: string }, command: Command) => {
      const named = await import("../../lakehouse/query/named");
      const filter = namedFilter(opts);
      const sql = opts.failed
        ? named.failedRunsSql(filter)
        : named.runsSql({ ...filter, status: opts.status });
      await printNamed(command, opts, sql);
    });

  query("costs", "model cost by app, provider and model (the cost_by_app_model view)")
    .option("--app <app>", "only this app")
    .option("--since <time>", "only since: a duration ago (7d) or an ISO time")
    .action(async (opts: QueryFlags, command: Command) => {
      const named = await import("../../lakehouse/query/named");
      await printNamed(command, opts, named.costsSql(namedFilter(opts)));
    });

  query("slow-tools", "tools by average duration (the slow_tools view)")
    .option("--since <time>", "only since: a duration ago (1d) or an ISO time")
    .option("--limit <n>", "at most this many tools", "20")
    .action(async (opts: QueryFlags, command: Command) => {
      const named = await import("../../lakehouse/query/named");
      await printNamed(command, opts, named.slowToolsSql(namedFilter(opts)));
    });

  query("denials", "policy denials, newest first (the policy_denials view)")
    .option("--app <app>", "only this app")
    .option("--since <time>", "only since: a duration ago (1d) or an ISO time")
    .option("--limit <n>", "at most this many", "50")
    .action(async (opts: QueryFlags, command: Command) => {
      const named = await import("../../lakehouse/query/named");
      await printNamed(command, opts, named.denialsSql(namedFilter(opts)));
    });

  memory
    .command("snapshots")
    .description("the lake's snapshots, newest first (what --at can travel to)")
    .option("--limit <n>", "at most this many", "20")
    .option("--csv", "CSV output")
    .action(async (opts: { limit: string; csv?: boolean }, command: Command) => {
      const { snapshots } = await import("../../lakehouse/query/status");
      const result = await withLake(command, { readOnly: true }, (lake) =>
        snapshots(lake, positive(opts.limit, "--limit")),
      );
      const shown = format(command, opts.csv);
      if (shown !== "json")
        for (const row of result.rows)
          row.changes = Object.entries(row.changes as Record<string, string[]>)
            .map(([change, what]) => `${change}: ${what.join(", ")}`)
            .join("; ");
      printResult(result, shown);
    });

  memory
    .command("status")
    .description("where the lake is, how far each source was synced, files and rows")
    .action(async (_opts: unknown, command: Command) => {
      const { lakeStatus } = await import("../../lakehouse/query/status");
      const status = await withLake(command, { readOnly: true }, (lake) => lakeStatus(lake));
      if (globals(command).json) {
        printValue(status, true);
        return;
      }
      const snapshot = status.snapshot ? `${status.snapshot.id} at ${status.snapshot.time}` : "-";
      process.stdout.write(
        `catalog   ${status.catalog}\ndata      ${status.dataPath}\nschema    v${status.schemaVersion}\nsnapshot  ${snapshot}\n` +
          `rows      ${status.events} events, ${status.runs} runs, ${status.quarantined} quarantined\n` +
          `files     ${status.files.files} data (${status.files.bytes} bytes), ${status.files.deleteFiles} delete, ${status.files.inlinedRows} rows inlined\n\n`,
      );
      printRows(status.sources, ["origin", "files", "lines", "updated_at"], false);
    });

  memory
    .command("compact")
    .description("flush inlined rows, merge small files; optionally expire old snapshots")
    .option(
      "--expire-older-than <duration>",
      "expire snapshots older than this (ends time travel before it)",
    )
    .action(async (opts: { expireOlderThan?: string }, command: Command) => {
      const { compact } = await import("../../lakehouse/lake/maintenance");
      const expireBefore = opts.expireOlderThan
        ? new Date(Date.now() - parseDuration(opts.expireOlderThan, "--expire-older-than"))
        : undefined;
      // Asked for by hand, it flushes every inlined row (a sync waits until there are many).
      const report = await withLake(command, {}, (lake) =>
        compact(lake.connection, { expireBefore, flushInlinedAt: 0 }),
      );
      if (globals(command).json) printValue(report, true);
      else
        process.stdout.write(
          `compacted ${report.before.files} -> ${report.after.files} files, ${report.before.inlinedRows - report.after.inlinedRows} inlined rows flushed to Parquet` +
            `${report.after.inlinedRows ? ` (${report.after.inlinedRows} still inlined)` : ""}, in ${report.seconds.toFixed(1)} s\n`,
        );
    });
}

async function openSource(command: Command, opts: SourceFlags): Promise<EventSource> {
  if (opts.from !== undefined && opts.fromDir !== undefined)
    throw new CliError("give one source: --from <url> or --from-dir <dir>", EXIT.usage);
  if (opts.fromDir !== undefined) {
    const { DirectorySource } = await import("../../lakehouse/sources/directory");
    return new DirectorySource(opts.fromDir);
  }
  const flags = globals(command);
  const connection = resolveConnection({ ...flags, central: opts.from ?? flags.central });
  const { CentralSource } = await import("../../lakehouse/sources/central");
  return new CentralSource({ url: connection.url, key: connection.key });
}

const BATCH_SIZE = "1000000";

function printBatch(b: BatchResult): void {
  process.stderr.write(
    `batch: +${b.events} events, ${b.duplicates} duplicates, ${b.quarantined} quarantined, ${b.runs} runs${b.attempts > 1 ? ` (committed on attempt ${b.attempts}: another writer committed first)` : ""}\n`,
  );
}

function printSync(report: SyncReport, json: boolean): void {
  if (json) {
    printValue(report, true);
    return;
  }
  const compaction = report.compactions.at(-1);
  const lines = [
    `synced ${report.events} events from ${report.origin} in ${report.batches} batches, ${report.seconds.toFixed(1)} s: ` +
      `${report.duplicates} duplicates skipped, ${report.quarantined} quarantined, ${report.runs} runs derived`,
    ...(compaction
      ? [
          `compacted ${compaction.before.files} -> ${compaction.after.files} files in ${compaction.seconds.toFixed(1)} s`,
        ]
      : []),
    `busy time: read ${secs(report.timings.read)}, validate ${secs(report.timings.validate)}, stage ${secs(report.timings.stage)}, ` +
      `transactions ${secs(report.timings.transaction)}, compaction ${secs(report.timings.compact)} (reading overlaps the transactions)`,
    ...report.notes.map((n) => `note: ${n}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function namedFilter(opts: QueryFlags) {
  return {
    since: opts.since ? parseSince(opts.since) : undefined,
    app: opts.app,
    limit: opts.limit ? positive(opts.limit, "--limit") : undefined,
  };
}

async function printNamed(command: Command, opts: QueryFlags, sql: string): Promise<void> {
  const { readQuery } = await import("../../lakehouse/query/result");
  await printQuery(command, opts, (lake) => readQuery(lake.connection, sql));
}

async function printQuery(
  command: Command,
  opts: QueryFlags,
  run: (lake: Lake) => Promise<QueryResult>,
  print: { rawHeaders?: boolean } = {},
): Promise<void> {
  const at = opts.at ? parseAt(opts.at) : undefined;
  const result = await withLake(command, { readOnly: true, at }, (lake) => {
    if (lake.note) process.stderr.write(`note: ${lake.note}\n`);
    return run(lake);
  });
  printResult(result, format(command, opts.csv), print);
}

function format(command: Command, csv: boolean | undefined): ResultFormat {
  if (csv) return "csv";
  return globals(command).json ? "json" : "table";
}
