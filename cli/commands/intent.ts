import { type Command, Option } from "commander";
import {
  type CentralClient,
  INTENT_STATUSES,
  IntentAccepted,
  IntentInfo,
  IntentList,
  IntentRequest,
  PATHS,
  parse,
  type RunState,
  type Target,
} from "../../contract";
import { centralClient, globals } from "../context";
import { parseDeadline, parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { followRun, printRunEnd } from "../follow";
import { amount, wholeNumber } from "../numbers";
import { printRows, printValue } from "../output";
import { describeTargets, whyPending } from "../waiting";

interface SubmitOptions {
  app?: string;
  agent?: string[];
  skill?: string;
  capability?: string[];
  type: string;
  param?: string[];
  maxTokens?: string;
  maxCost?: string;
  maxWall?: string;
  maxToolCalls?: string;
  allowTool?: string[];
  idempotencyKey?: string;
  deadline?: string;
  wait?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerIntent(program: Command): void {
  const intent = program.command("intent").description("submit work to the fleet");
  intent
    .command("submit")
    .description("submit an intent; with --wait, stream its run's events until it ends")
    .argument("[prompt]", "the task, for `task` intents")
    .option("--app <app>", "run on an online agent of this app")
    .option("--agent <id>", "run on this agent (repeatable: candidates in order)", collect)
    .option("--skill <name>", "run on an agent that has this skill")
    .option("--capability <cap>", "require this capability (repeatable)", collect)
    .option("--type <type>", "intent type", "task")
    .option(
      "--param <key=value>",
      "intent parameter; value parsed as JSON when it is JSON (repeatable)",
      collect,
    )
    .option("--max-tokens <n>", "token budget for the run")
    .option("--max-cost <usd>", "cost budget for the run, in USD")
    .option("--max-wall <duration>", "wall-time budget, e.g. 10m")
    .option("--max-tool-calls <n>", "tool-call budget")
    .option("--allow-tool <pattern>", "allow only these tools (repeatable, '*' wildcards)", collect)
    .option("--idempotency-key <key>", "resubmitting with the same key returns the first intent")
    .option("--deadline <when>", "ISO time or a duration from now (e.g. 30m)")
    .option("--wait", "stream the run's events live and exit with its outcome")
    .action(async (prompt: string | undefined, opts: SubmitOptions, command: Command) => {
      const request = parse(IntentRequest, buildRequest(prompt, opts), "intent");
      const client = centralClient(command);
      const accepted = await client.request("POST", "/v1/intents", IntentAccepted, request);
      const json = globals(command).json;
      const { run } = accepted;
      if (!opts.wait) {
        if (json) printValue(accepted, true);
        else {
          process.stdout.write(
            `${accepted.duplicate ? "already submitted" : "submitted"}: intent ${accepted.intent.intent_id}, run ${run.run_id} (${run.status})\n`,
          );
          await notePending(client, run, "it stays queued until one does");
        }
        return;
      }
      if (!json) {
        process.stdout.write(`run ${run.run_id} (intent ${accepted.intent.intent_id})\n`);
        await notePending(
          client,
          run,
          `waiting for one; Ctrl-C stops waiting, the run stays queued (auraison runs cancel ${run.run_id})`,
        );
      }
      const final = await followRun(client, run.run_id, json);
      printRunEnd(final, json);
      if (final.status !== "completed") process.exitCode = EXIT.failure;
    });

  intent
    .command("list")
    .description("list intents, newest first, with their status and run")
    .addOption(
      new Option("--status <status>", "only intents in this status").choices(INTENT_STATUSES),
    )
    .option("--limit <n>", "at most this many", "50")
    .action(async (opts: { status?: string; limit: string }, command: Command) => {
      const query = new URLSearchParams({ limit: opts.limit });
      if (opts.status) query.set("status", opts.status);
      const { intents } = await centralClient(command).request(
        "GET",
        `${PATHS.intents}?${query}`,
        IntentList,
      );
      if (globals(command).json) return printValue(intents, true);
      printRows(
        intents.map((i) => ({
          intent_id: i.intent.intent_id,
          status: i.status,
          type: i.intent.type,
          target: describeTargets(i.intent.targets),
          run_id: i.run?.run_id ?? null,
          run_status: i.run?.status ?? null,
          created: i.intent.created_at,
        })),
        ["intent_id", "status", "type", "target", "run_id", "run_status", "created"],
        false,
      );
    });

  intent
    .command("show")
    .description("show one intent: the request, its status and its run")
    .argument("<intent>", "intent id")
    .action(async (id: string, _opts: unknown, command: Command) => {
      printValue(
        await centralClient(command).request(
          "GET",
          `${PATHS.intents}/${encodeURIComponent(id)}`,
          IntentInfo,
        ),
        true,
      );
    });
}

/** A run that did not start at once: say what it waits for (on stderr), and what to do. */
async function notePending(client: CentralClient, run: RunState, then: string): Promise<void> {
  if (run.status !== "pending") return;
  const why = await whyPending(client, run);
  if (why) process.stderr.write(`note: ${why}; ${then}\n`);
}

function buildRequest(prompt: string | undefined, opts: SubmitOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of opts.param ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--param '${pair}' is not key=value`, EXIT.usage);
    const raw = pair.slice(eq + 1);
    params[pair.slice(0, eq)] = parseJsonOr(raw);
  }
  if (prompt !== undefined) params.prompt = prompt;
  if (opts.type === "task" && typeof params.prompt !== "string") {
    throw new CliError(
      'a task intent needs a prompt: auraison intent submit --app <app> "<task>"',
      EXIT.usage,
    );
  }
  const targets: Target[] = (opts.agent ?? []).map((agent_id) => ({ agent_id }));
  if (opts.app || opts.skill || opts.capability) {
    targets.push({ app: opts.app, skill: opts.skill, capabilities: opts.capability });
  }
  if (targets.length === 0)
    throw new CliError(
      "say where to run it: --app <app>, --agent <id> or --skill <name>",
      EXIT.usage,
    );
  const budget: Record<string, number> = {};
  if (opts.maxTokens !== undefined) budget.max_tokens = wholeNumber(opts.maxTokens, "--max-tokens");
  if (opts.maxCost !== undefined) budget.max_cost_usd = amount(opts.maxCost, "--max-cost");
  if (opts.maxWall !== undefined) budget.max_wall_ms = parseDuration(opts.maxWall, "--max-wall");
  if (opts.maxToolCalls !== undefined)
    budget.max_tool_calls = wholeNumber(opts.maxToolCalls, "--max-tool-calls");
  return {
    type: opts.type,
    params,
    targets: targets.map(dropUndefined),
    ...(Object.keys(budget).length ? { budget } : {}),
    ...(opts.allowTool ? { allowed_tools: opts.allowTool } : {}),
    ...(opts.idempotencyKey ? { idempotency_key: opts.idempotencyKey } : {}),
    ...(opts.deadline !== undefined ? { deadline: parseDeadline(opts.deadline) } : {}),
  };
}

function parseJsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
