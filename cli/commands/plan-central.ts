import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import {
  type CentralClient,
  isTerminal,
  PATHS,
  PLAN_STATUSES,
  Plan,
  PlanAccepted,
  PlanList,
  PlanRequest,
  parse,
  planMachine,
} from "../../contract";
import { centralClient, globals } from "../context";
import { parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { readJsonFile } from "../json-file";
import { amount, positive, wholeNumber } from "../numbers";
import { printRows, printValue } from "../output";
import { renderPlan } from "../plan-graph";

interface SubmitOptions {
  pddlProblem?: string;
  optimal?: boolean;
  steps?: string;
  model?: string;
  approveBeforeStart?: boolean;
  maxReplans?: string;
  maxTokens?: string;
  maxCost?: string;
  maxWall?: string;
  idempotencyKey?: string;
  wait?: boolean;
}

const POLL_MS = 500;

/** `auraison plan submit|show|list|cancel|pause|resume`: plans central makes and runs. */
export function registerCentralPlanCommands(plan: Command): void {
  plan
    .command("submit")
    .description(
      "submit a goal to central: planned by its model (default), by PDDL (--pddl-problem) or as given (--steps); with --wait, follow it to the end",
    )
    .argument("<goal>", "what the plan is for, in words")
    .option("--pddl-problem <file>", "plan with PDDL: a problem over the fleet's skills' domain")
    .option("--optimal", "with --pddl-problem: a cheapest plan (A* with LM-cut)")
    .option("--steps <file>", "run these steps as given (a JSON array of plan steps)")
    .option("--model <model>", "the gateway model central plans with", "auto")
    .option("--approve-before-start", "the plan waits for a person's approval before it starts")
    .option("--max-replans <n>", "repairs allowed when a step fails for good")
    .option("--max-tokens <n>", "token budget over the plan's planning and all its runs")
    .option("--max-cost <usd>", "cost budget over the whole plan, in USD")
    .option("--max-wall <duration>", "wall-time budget for the whole plan, e.g. 30m")
    .option("--idempotency-key <key>", "resubmitting with the same key returns the first plan")
    .option("--wait", "follow the plan until it ends and exit with its outcome")
    .action(async (goal: string, opts: SubmitOptions, command: Command) => {
      const request = parse(PlanRequest, buildRequest(goal, opts), "plan request");
      const client = centralClient(command);
      const json = globals(command).json;
      const accepted = await client.request("POST", PATHS.plans, PlanAccepted, request);
      const { plan } = accepted;
      if (!opts.wait) {
        if (json) printValue(accepted, true);
        else
          process.stdout.write(
            `${accepted.duplicate ? "already submitted" : "submitted"}: plan ${plan.plan_id} (${plan.status})\n`,
          );
        return;
      }
      if (!json) process.stdout.write(`plan ${plan.plan_id}\n`);
      const final = await follow(client, plan.plan_id, json);
      if (json) printValue(final, true);
      else process.stdout.write(`\n${renderPlan(final)}\n`);
      if (final.status !== "completed") process.exitCode = EXIT.failure;
    });

  plan
    .command("show")
    .description("show a plan: its steps as a graph in layers, their runs, results and errors")
    .argument("<plan>", "plan id")
    .action(async (id: string, _opts: unknown, command: Command) => {
      const shown = await getPlan(centralClient(command), id);
      if (globals(command).json) printValue(shown, true);
      else process.stdout.write(`${renderPlan(shown)}\n`);
    });

  plan
    .command("list")
    .description("list plans, newest first")
    .addOption(new Option("--status <status>", "only plans in this status").choices(PLAN_STATUSES))
    .option("--limit <n>", "at most this many", "50")
    .action(async (opts: { status?: string; limit: string }, command: Command) => {
      const query = new URLSearchParams({ limit: opts.limit });
      if (opts.status) query.set("status", opts.status);
      const { plans } = await centralClient(command).request(
        "GET",
        `${PATHS.plans}?${query}`,
        PlanList,
      );
      printRows(
        plans.map((p) => ({
          ...p,
          steps: `${p.steps_completed}/${p.steps}`,
          tokens: p.usage.tokens_in + p.usage.tokens_out,
          goal: p.goal.length > 60 ? `${p.goal.slice(0, 59)}…` : p.goal,
        })),
        ["plan_id", "status", "planner", "version", "steps", "tokens", "created_at", "goal"],
        globals(command).json,
      );
    });

  for (const [action, description] of [
    ["cancel", "cancel a plan: open steps are cancelled, running runs stopped"],
    ["pause", "pause a plan: running steps go on, no new step starts"],
    ["resume", "resume a paused plan"],
  ] as const)
    plan
      .command(action)
      .description(description)
      .argument("<plan>", "plan id")
      .option("--reason <text>", "why")
      .action(async (id: string, opts: { reason?: string }, command: Command) => {
        const after = await centralClient(command).request(
          "POST",
          `${PATHS.plans}/${encodeURIComponent(id)}/${action}`,
          Plan,
          opts.reason ? { reason: opts.reason } : {},
        );
        printRows([after], ["plan_id", "status", "version"], globals(command).json);
      });
}

function buildRequest(goal: string, opts: SubmitOptions): unknown {
  if (opts.pddlProblem && opts.steps)
    throw new CliError("--pddl-problem and --steps do not go together", EXIT.usage);
  if (opts.optimal && !opts.pddlProblem)
    throw new CliError("--optimal is for --pddl-problem", EXIT.usage);
  const budget: Record<string, number> = {};
  if (opts.maxTokens !== undefined) budget.max_tokens = positive(opts.maxTokens, "--max-tokens");
  if (opts.maxCost !== undefined) budget.max_cost_usd = amount(opts.maxCost, "--max-cost");
  if (opts.maxWall !== undefined) budget.max_wall_ms = parseDuration(opts.maxWall, "--max-wall");
  const policy: Record<string, unknown> = {};
  if (opts.approveBeforeStart) policy.approve_before_start = true;
  if (opts.maxReplans !== undefined)
    policy.max_replans = wholeNumber(opts.maxReplans, "--max-replans");
  return {
    goal,
    planner: opts.pddlProblem ? "pddl" : opts.steps ? "given" : "model",
    ...(opts.pddlProblem
      ? { pddl: { problem: readText(opts.pddlProblem), optimal: opts.optimal === true } }
      : {}),
    ...(opts.steps ? { steps: readJsonFile(opts.steps) } : {}),
    model: opts.model ?? "auto",
    policy,
    budget,
    ...(opts.idempotencyKey ? { idempotency_key: opts.idempotencyKey } : {}),
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
}

function getPlan(client: CentralClient, id: string): Promise<Plan> {
  return client.request("GET", `${PATHS.plans}/${encodeURIComponent(id)}`, Plan);
}

/**
 * Polls the plan until it ends, printing each change of the plan's or a step's status (on
 * stdout, or nothing with --json), and once where it waits for an approval (on stderr).
 */
async function follow(client: CentralClient, id: string, json: boolean): Promise<Plan> {
  const seen = new Map<string, string>();
  const noted = new Set<string>();
  for (;;) {
    const plan = await getPlan(client, id);
    const say = (key: string, state: string, line: string) => {
      if (seen.get(key) === state) return;
      seen.set(key, state);
      if (!json) process.stdout.write(`${line}\n`);
    };
    say("plan", `${plan.status}:${plan.version}`, `plan ${plan.status} (version ${plan.version})`);
    for (const step of plan.steps) {
      const run = step.runs.at(-1);
      say(
        `step:${step.id}`,
        `${step.status}:${step.attempt}:${step.version}`,
        `  step ${step.id} ${step.status}${run && step.status === "running" ? ` (run ${run.run_id}, attempt ${step.attempt})` : ""}`,
      );
    }
    for (const approval of [plan.approval, ...plan.steps.map((s) => s.approval)])
      if (approval?.status === "pending" && !noted.has(approval.approval_id)) {
        noted.add(approval.approval_id);
        process.stderr.write(
          `note: waiting for approval: auraison approvals approve ${approval.approval_id} (or reject)\n`,
        );
      }
    if (isTerminal(planMachine, plan.status)) return plan;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
