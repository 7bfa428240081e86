import { join } from "node:path";
import type { Command } from "commander";
import { type AgentEvent, type BudgetLimits, parse } from "../../contract";
import { REJECTED_FILE, type RunRecord, STANDALONE_TENANT } from "../../edge/index";
import type { ShellSandbox, ShellSandboxMode } from "../../edge/session/shell-sandbox";
import { globals } from "../context";
import { parseDuration, TIMER_LIMIT } from "../durations";
import {
  addEdgeFlags,
  appOf,
  checkedApp,
  defaultAgentId,
  defaultStateDir,
  durationOption,
  type EdgeFlags,
  edgeCentral,
  keyTenant,
  shellSandboxMode,
  withholdAgentKeys,
} from "../edge-options";
import { printEdgeEvent, printRunOutcome } from "../edge-output";
import { CliError, EXIT } from "../errors";
import { findLocalStack, type LocalStack } from "../local-stack/discover";
import { amount, wholeNumber } from "../numbers";
import { flagKey, stateDir as homeDir } from "../settings";
import { shownPath } from "../shown-path";

interface StartFlags extends EdgeFlags {
  drainTimeout?: string;
  outboxRetention?: string;
}

interface RunFlags extends EdgeFlags {
  maxTokens?: string;
  maxCost?: string;
  maxWall?: string;
  maxToolCalls?: string;
  maxTurns?: string;
  allowTool?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The edge modules (and pi) load only when an edge command runs, so `--help` stays fast. */
const loadEdge = () => import("../../edge/index");

export function registerEdge(program: Command): void {
  const edge = program
    .command("edge")
    .description("run an edge agent for one application on this host");

  addEdgeFlags(
    edge
      .command("start")
      .description(
        "start an edge agent: register with central, take intents, run them on pi; keeps working while central is away",
      ),
  )
    .option("--drain-timeout <duration>", "on SIGTERM, how long running runs may finish", "30s")
    .option(
      "--outbox-retention <duration>",
      "delete outbox segments central has acknowledged once older than this (default: keep all)",
    )
    .action(async (opts: StartFlags, command: Command) => {
      const setup = await agentSetup(opts, command, { findLocalStack: true });
      const { EdgeAgent } = await loadEdge();
      const agent = await startupErrors(() =>
        EdgeAgent.start({
          ...setup,
          drainTimeoutMs: durationOption(opts.drainTimeout, "--drain-timeout", 30_000, TIMER_LIMIT),
          outbox: {
            retainDeliveredMs: durationOption(opts.outboxRetention, "--outbox-retention", 0),
          },
          log: (line) =>
            process.stderr.write(`${new Date().toISOString()} ${setup.agentId}: ${line}\n`),
        }),
      );
      process.stderr.write(
        `edge agent ${setup.agentId} (app ${setup.app}) started: state ${setup.stateDir}, socket ${agent.socketPath}, ` +
          `central ${setup.central?.url ?? "none (standalone)"}, model ${agent.health().model}\n`,
      );
      warnUnconfinedShell(agent.runtime.shellSandbox, setup.shellSandbox);
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals === 1) {
            process.stderr.write(`${signal}: shutting down (again to stop now)\n`);
            void agent.stop().then(resolve);
          } else {
            void agent.forceStop().then(resolve);
          }
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      });
    });

  addEdgeFlags(
    edge
      .command("run")
      .description(
        "run one task on this host: through the running agent if there is one, else in this process without central (degraded mode)",
      )
      .argument("<prompt>", "the task"),
  )
    .option("--max-tokens <n>", "token budget for the run")
    .option("--max-cost <usd>", "cost budget for the run, in USD")
    .option("--max-wall <duration>", "wall-time budget, e.g. 10m")
    .option("--max-tool-calls <n>", "tool-call budget")
    .option("--max-turns <n>", "turn budget")
    .option("--allow-tool <pattern>", "allow only these tools (repeatable, '*' wildcards)", collect)
    .action(async (prompt: string, opts: RunFlags, command: Command) => {
      const app = appOf(opts);
      const state = opts.state ?? defaultStateDir(app);
      const json = globals(command).json;
      const request = {
        type: "task",
        params: {},
        prompt,
        ...budgetOf(opts),
        ...(opts.allowTool ? { allowed_tools: opts.allowTool } : {}),
      };
      const edgeModule = await loadEdge();
      const socket = join(state, edgeModule.SOCKET_NAME);
      let final: RunRecord;
      if (await edgeModule.answers(socket)) {
        const client = new edgeModule.RpcClient(socket);
        const record = await client.startRun(request).catch(rpcFailure("start the run"));
        if (!json) process.stderr.write(`run ${record.run_id} on the running agent\n`);
        await client.follow(record.run_id, (e) => printEdgeEvent(e, json));
        final = await client.run(record.run_id);
      } else {
        final = await runInProcess(opts, command, request, json);
      }
      printRunOutcome(final, json);
      process.exitCode = final.status === "completed" ? EXIT.ok : EXIT.failure;
    });

  edge
    .command("status")
    .description("show a running agent's health and its recent runs")
    .requiredOption("--app <name>", "the application")
    .option("--state <dir>", "the agent's state dir (default: .auraison/edge/<app>)")
    .action(async (opts: { app: string; state?: string }, command: Command) => {
      const client = await runningAgent(opts);
      const health = await client.health();
      const runs = await client.runs(20);
      if (globals(command).json) {
        process.stdout.write(`${JSON.stringify({ health, runs }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${health.agent_id} (app ${health.app}, tenant ${health.tenant}) ${health.status}, pid ${health.pid}\n` +
          `central: ${health.central.url ?? "none"} ${health.central.connected ? "connected" : `not connected${health.central.last_error ? ` (${health.central.last_error})` : ""}`}\n` +
          `outbox: ${health.outbox.pending} of ${health.outbox.size} event(s) not yet delivered${health.outbox.rejected ? `; ${health.outbox.rejected} refused by central (kept in ${REJECTED_FILE})` : ""}\n` +
          `model: ${health.model}\n`,
      );
      for (const r of runs)
        process.stdout.write(
          `${r.run_id}  ${r.status.padEnd(10)} ${r.origin.padEnd(7)} ${r.created_at}${r.error ? `  ${r.error.reason}` : ""}\n`,
        );
    });

  edge
    .command("cancel")
    .description("cancel a run of the running agent")
    .requiredOption("--app <name>", "the application")
    .option("--state <dir>", "the agent's state dir (default: .auraison/edge/<app>)")
    .option("--reason <text>", "why", "cancelled by user")
    .argument("<run>", "run id")
    .action(
      async (
        runId: string,
        opts: { app: string; state?: string; reason: string },
        command: Command,
      ) => {
        const client = await runningAgent(opts);
        const record = await client.cancel(runId, opts.reason).catch(rpcFailure("cancel the run"));
        if (globals(command).json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
        else process.stdout.write(`cancelling run ${runId}\n`);
      },
    );

  edge
    .command("fork")
    .description("fork a run of a running agent locally, from an entry of its session tree")
    .requiredOption("--app <name>", "the application")
    .option("--state <dir>", "the agent's state dir (default: .auraison/edge/<app>)")
    .option("--at <entry>", "session tree entry id (default: the run's latest entry)")
    .argument("<run>", "run id to fork")
    .argument("[prompt]", "the fork's instruction (default: the source's)")
    .action(
      async (
        runId: string,
        prompt: string | undefined,
        opts: { app: string; state?: string; at?: string },
        command: Command,
      ) => {
        const client = await runningAgent(opts);
        const json = globals(command).json;
        const record = await client
          .fork(runId, { ...(opts.at ? { entry_id: opts.at } : {}), ...(prompt ? { prompt } : {}) })
          .catch(rpcFailure("fork the run"));
        if (!json) process.stderr.write(`forked ${runId} into run ${record.run_id}\n`);
        await client.follow(record.run_id, (e) => printEdgeEvent(e, json));
        const final = await client.run(record.run_id);
        printRunOutcome(final, json);
        process.exitCode = final.status === "completed" ? EXIT.ok : EXIT.failure;
      },
    );
}

/**
 * What an agent runs with. `edge start` given no central (no --central/--key, no
 * AURAISON_URL/AURAISON_KEY) joins the local stack when one runs from this state dir, with an
 * agent key of its own, and runs on the scripted model when the stack has no model provider.
 */
async function agentSetup(
  opts: EdgeFlags,
  command: Command,
  options: { findLocalStack?: boolean } = {},
) {
  const app = appOf(opts);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let central = edgeCentral(globals(command));
  let stack: LocalStack = { kind: "none" };
  if (!central && options.findLocalStack) {
    stack = await findLocalStack(app, homeDir());
    if (stack.kind === "running") {
      central = { url: stack.url, key: stack.key };
      say(
        `central: the local stack at ${stack.url} (${shownPath(join(homeDir(), "local.json"))}); agent key in ${shownPath(stack.keyFile)}`,
      );
    } else if (stack.kind === "stopped")
      say(
        `central: none; the local stack saved in ${homeDir()} does not answer at ${stack.url} (start it with \`auraison dev\`); running standalone`,
      );
  }
  const {
    loadAppFolder,
    resolveModelSettings,
    ModelConfigError,
    AppFolderError,
    PLACEHOLDER_SCENARIO,
    SCRIPTED_PROVIDER,
  } = await loadEdge();
  let folder: ReturnType<typeof loadAppFolder>;
  try {
    folder = loadAppFolder({
      app,
      ...(opts.appDir ? { appDir: opts.appDir } : {}),
      ...(opts.skills ? { skillsDir: opts.skills } : {}),
    });
  } catch (error) {
    if (error instanceof AppFolderError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  const fallbackKey =
    flagKey(opts.fallbackKey, opts.fallbackKeyFile, "--fallback-key") ??
    process.env.AURAISON_FALLBACK_KEY;
  // Both keys are read: from here on they are in no environment and in nothing the agent writes.
  withholdAgentKeys([central?.key, fallbackKey]);
  const model = opts.model || process.env.AURAISON_MODEL || undefined;
  // The local stack without a provider cannot answer `auraison/auto`: run on the app's scripted
  // scenario (or a placeholder that says so), labelled like the stack's own sample app.
  const noProvider =
    stack.kind === "running" && !stack.hasProvider && !model && !folder.config.model;
  const scenario = folder.scripted ?? (noProvider ? PLACEHOLDER_SCENARIO : null);
  let models: ReturnType<typeof resolveModelSettings>;
  try {
    models = resolveModelSettings({
      model: model ?? (noProvider ? `${SCRIPTED_PROVIDER}/${app}` : undefined),
      appModel: folder.config.model,
      app,
      scripted: scenario ? { scenario, skillsDir: folder.skillsDir ?? folder.root ?? "." } : null,
      gateway: central,
      fallback: {
        baseUrl: opts.fallbackBaseUrl || process.env.AURAISON_FALLBACK_BASE_URL || undefined,
        model: opts.fallbackModel || process.env.AURAISON_FALLBACK_MODEL || undefined,
        apiKey: fallbackKey,
      },
    });
  } catch (error) {
    if (error instanceof ModelConfigError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
  if (models.scripted) {
    const what =
      models.scripted.scenario === PLACEHOLDER_SCENARIO
        ? "a placeholder that answers with a notice (the app has no scripted-model.json)"
        : "the app's fixed offline demo scenario";
    say(
      `MODEL: scripted/${app} is ${what}, NOT a real model (every model_call event says scripted: true)` +
        `${noProvider ? "; the local stack has no model provider" : ""}; set ANTHROPIC_API_KEY, OPENAI_API_KEY, ` +
        "AURAISON_FALLBACK_BASE_URL or --model for real runs",
    );
  }
  const stateDir = opts.state ?? defaultStateDir(app);
  // Beside its state, the agent withholds from the model this home (the local stack's admin
  // key) and the key files read above.
  const keyFiles = [
    globals(command).keyFile,
    opts.fallbackKeyFile,
    stack.kind === "running" ? stack.keyFile : undefined,
  ];
  return {
    app,
    agentId: opts.agentId ?? defaultAgentId(app),
    tenant: (central && keyTenant(central.key)) ?? opts.tenant ?? STANDALONE_TENANT,
    central,
    stateDir,
    ...(opts.workdir ? { workdir: opts.workdir } : {}),
    ...(opts.appDir ? { appDir: opts.appDir } : {}),
    ...(opts.skills ? { skillsDir: opts.skills } : {}),
    models,
    extensionPaths: opts.extension ?? [],
    shellSandbox: shellSandboxMode(opts.shellSandbox),
    withheld: [homeDir(), ...keyFiles.filter((f): f is string => f !== undefined)],
  };
}

/** Degraded mode: the run happens in this process, events go to the agent's outbox. */
async function runInProcess(
  opts: RunFlags,
  command: Command,
  request: Record<string, unknown>,
  json: boolean,
): Promise<RunRecord> {
  const setup = await agentSetup(opts, command);
  const { EdgeRuntime, LocalRunRequest } = await loadEdge();
  const run = parse(LocalRunRequest, request, "run request");
  const runtime = await startupErrors(() => EdgeRuntime.open(setup));
  try {
    const reachable = setup.central ? await reachableCentral(setup.central.url) : false;
    runtime.centralReachable = () => reachable;
    warnUnconfinedShell(runtime.shellSandbox, setup.shellSandbox);
    if (!json)
      process.stderr.write(
        `no running agent for ${setup.app}: running here${setup.central ? (reachable ? "" : " (central unreachable)") : " (no central)"}; events go to ${setup.stateDir}/outbox\n`,
      );
    const unsubscribe = runtime.eventSink.subscribe((e: AgentEvent) => {
      if (e.run_id) printEdgeEvent(e, json);
    });
    const execution = await runtime.startLocal(run);
    const cancel = () =>
      execution.control.stop({ kind: "cancel", reason: "interrupted", by: "local" });
    process.once("SIGINT", cancel);
    process.once("SIGTERM", cancel);
    const final = await execution.done;
    process.off("SIGINT", cancel);
    process.off("SIGTERM", cancel);
    unsubscribe();
    return final;
  } finally {
    await runtime.close();
  }
}

/** `auto` found no sandbox: the operator hears what the model's shell can reach. */
function warnUnconfinedShell(sandbox: ShellSandbox, mode: ShellSandboxMode): void {
  if (sandbox.kind === "none" && mode === "auto")
    process.stderr.write(
      `SHELL: the model's shell runs unconfined (${sandbox.why}): as this user it can read the agent's key and state; install bubblewrap, or pass --shell-sandbox off to say so\n`,
    );
}

/**
 * Problems with the app, its skills, the workdir or the state dir are the user's to fix: say
 * so, exit 2/1.
 */
async function startupErrors<T>(start: () => Promise<T>): Promise<T> {
  const {
    AdapterStartError,
    AppFolderError,
    SkillFolderError,
    StateLockedError,
    ShellSandboxError,
    WorkdirError,
  } = await loadEdge();
  try {
    return await start();
  } catch (error) {
    if (
      error instanceof AppFolderError ||
      error instanceof SkillFolderError ||
      error instanceof WorkdirError
    )
      throw new CliError(error.message, EXIT.usage);
    if (
      error instanceof StateLockedError ||
      error instanceof AdapterStartError ||
      error instanceof ShellSandboxError
    )
      throw new CliError(error.message, EXIT.failure);
    throw error;
  }
}

async function reachableCentral(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL("/health", url), { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function runningAgent(opts: { app: string; state?: string }) {
  const app = checkedApp(opts.app);
  const { RpcClient, SOCKET_NAME, answers } = await loadEdge();
  const socket = join(opts.state ?? defaultStateDir(app), SOCKET_NAME);
  if (!(await answers(socket)))
    throw new CliError(
      `no running edge agent for ${app} (nothing answers on ${socket})`,
      EXIT.failure,
    );
  return new RpcClient(socket);
}

function budgetOf(opts: RunFlags): { budget?: BudgetLimits } {
  const budget: Record<string, number> = {};
  const count = (raw: string | undefined, flag: string, key: string) => {
    if (raw !== undefined) budget[key] = wholeNumber(raw, flag);
  };
  count(opts.maxTokens, "--max-tokens", "max_tokens");
  count(opts.maxToolCalls, "--max-tool-calls", "max_tool_calls");
  count(opts.maxTurns, "--max-turns", "max_turns");
  if (opts.maxCost !== undefined) budget.max_cost_usd = amount(opts.maxCost, "--max-cost");
  if (opts.maxWall !== undefined) budget.max_wall_ms = parseDuration(opts.maxWall, "--max-wall");
  return Object.keys(budget).length > 0 ? { budget: budget as BudgetLimits } : {};
}

/**
 * Refusals of the local RPC become CLI errors with the exit code the same refusal by central
 * gets (bad input 2, no such run 5), saying what was refused.
 */
function rpcFailure(action: string): (error: unknown) => never {
  return (error) => {
    const e = error as { status?: number; message?: string };
    if (e && typeof e.status === "number")
      throw new CliError(
        `the agent refused to ${action}: ${e.message}`,
        e.status === 400 ? EXIT.usage : e.status === 404 ? EXIT.notFound : EXIT.failure,
      );
    throw error;
  };
}
