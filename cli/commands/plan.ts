import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { type SolveResult, solveAsync } from "../../central/planning/pddl";
import { PddlError, readDomain, readProblem } from "../../contract/pddl";
import { globals } from "../context";
import { parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { positive } from "../numbers";
import { registerCentralPlanCommands } from "./plan-central";

interface PddlFlags {
  domain: string;
  problem: string;
  optimal?: boolean;
  timeout: string;
  maxExpansions?: string;
}

export function registerPlan(program: Command): void {
  const plan = program
    .command("plan")
    .description("plans: goals central plans and runs across the fleet, or PDDL solved locally");
  registerCentralPlanCommands(plan);
  plan
    .command("pddl")
    .description(
      "solve a PDDL problem locally with central's planner, without dispatching (STRIPS, :typing, :negative-preconditions, :equality, :action-costs)",
    )
    .requiredOption("--domain <file>", "PDDL domain file")
    .requiredOption("--problem <file>", "PDDL problem file")
    .option("--optimal", "A* with LM-cut: a cheapest plan (else greedy search: a plan, fast)")
    .option("--timeout <duration>", "give up after this long", "5m")
    .option("--max-expansions <n>", "give up after expanding this many states")
    .action(async (opts: PddlFlags, command: Command) => {
      const json = globals(command).json;
      const domain = parse(opts.domain, (text) => readDomain(text));
      const problem = parse(opts.problem, (text) => readProblem(text, domain));
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      try {
        const result = await solveAsync(domain, problem, {
          optimal: opts.optimal === true,
          deadline: Date.now() + parseDuration(opts.timeout, "--timeout"),
          maxExpansions:
            opts.maxExpansions === undefined
              ? undefined
              : positive(opts.maxExpansions, "--max-expansions"),
          signal: stop.signal,
        });
        print(result, json);
      } finally {
        process.off("SIGINT", onSignal);
      }
    });
}

function parse<T>(file: string, read: (text: string) => T): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    return read(text);
  } catch (error) {
    if (error instanceof PddlError) throw new CliError(`${file}: ${error.message}`, EXIT.usage);
    throw error;
  }
}

function print(result: SolveResult, json: boolean): void {
  if (result.status === "unsolvable") throw new CliError(`no plan exists: ${result.reason}`);
  if (result.status === "limit")
    throw new CliError(
      `no plan within the limits (${result.reason}) after ${result.stats.expanded} expansions`,
    );
  const actions = result.steps.map((s) => s.action);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        actions,
        cost: result.cost,
        order: result.order,
        layers: result.layers,
        optimal: result.optimal,
        stats: result.stats,
      })}\n`,
    );
    return;
  }
  const lines = [
    `plan: ${actions.length} actions, cost ${result.cost}${result.optimal ? " (optimal)" : ""}`,
    ...actions.map((a, i) => `  ${String(i + 1).padStart(3)}. ${a}`),
    `parallel layers (${result.layers.length}):`,
    ...result.layers.map(
      (layer, i) => `  ${String(i + 1).padStart(3)}: ${layer.map((s) => actions[s]).join("  ")}`,
    ),
    `searched ${result.stats.expanded} states; ${result.stats.facts} facts, ${result.stats.operators} ground actions`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
