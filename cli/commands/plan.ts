import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import {
  buildSkillsDomain,
  SkillDomainError,
  type SkillsDomain,
  type SolveResult,
  skillsForSteps,
  solveAsync,
} from "../../central/planning/pddl";
import { type Domain, PddlError, readDomain, readProblem, readSExpr } from "../../contract/pddl";
import { globals } from "../context";
import { parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { positive } from "../numbers";
import { registerCentralPlanCommands } from "./plan-central";

interface PddlFlags {
  domain?: string;
  skills?: string;
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
    .option("--domain <file>", "PDDL domain file")
    .option(
      "--skills <dir>",
      "an app's skills folder: the domain merged from every skills/<name>/domain.pddl, as central merges the fleet's skills",
    )
    .requiredOption("--problem <file>", "PDDL problem file")
    .option("--optimal", "A* with LM-cut: a cheapest plan (else greedy search: a plan, fast)")
    .option("--timeout <duration>", "give up after this long", "5m")
    .option("--max-expansions <n>", "give up after expanding this many states")
    .action(async (opts: PddlFlags, command: Command) => {
      const json = globals(command).json;
      if ((opts.domain === undefined) === (opts.skills === undefined))
        throw new CliError("give one of --domain <file> or --skills <dir>", EXIT.usage);
      const skills = opts.skills === undefined ? null : skillsDomain(opts.skills, opts.problem);
      const domain: Domain = skills
        ? skills.domain
        : parse(opts.domain!, (text) => readDomain(text));
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
        print(result, json, skills);
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

/**
 * The domain central would plan in for these skills: every `<dir>/<skill>/domain.pddl`, merged.
 * It is named as the problem names its domain, since the merge has no name of its own.
 */
function skillsDomain(dir: string, problemFile: string): SkillsDomain {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "domain.pddl")))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    throw new CliError(`cannot read ${dir}: ${(error as Error).message}`, EXIT.usage);
  }
  if (names.length === 0) throw new CliError(`no skill in ${dir} has a domain.pddl`, EXIT.usage);
  const skills = names.map((name) => ({
    name,
    pddl: readFileSync(join(dir, name, "domain.pddl"), "utf8"),
  }));
  const name = parse(problemFile, (text) => {
    const section = readSExpr(text).items.find(
      (item) =>
        item.kind === "list" && item.items[0]?.kind === "atom" && item.items[0].value === ":domain",
    );
    const value = section?.kind === "list" ? section.items[1] : undefined;
    return value?.kind === "atom" ? value.value : "fleet";
  });
  try {
    return buildSkillsDomain(skills, name);
  } catch (error) {
    if (error instanceof SkillDomainError)
      throw new CliError(`${dir}: ${error.message}`, EXIT.usage);
    throw error;
  }
}

function print(result: SolveResult, json: boolean, skills: SkillsDomain | null): void {
  if (result.status === "unsolvable") throw new CliError(`no plan exists: ${result.reason}`);
  if (result.status === "limit")
    throw new CliError(
      `no plan within the limits (${result.reason}) after ${result.stats.expanded} expansions`,
    );
  const actions = result.steps.map((s) => s.action);
  const performers = skills ? skillsForSteps(skills, result.steps) : null;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        actions,
        ...(performers ? { skills: performers } : {}),
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
    ...actions.map(
      (a, i) =>
        `  ${String(i + 1).padStart(3)}. ${a}${performers ? `  [${performers[i]!.join(", ")}]` : ""}`,
    ),
    `parallel layers (${result.layers.length}):`,
    ...result.layers.map(
      (layer, i) => `  ${String(i + 1).padStart(3)}: ${layer.map((s) => actions[s]).join("  ")}`,
    ),
    `searched ${result.stats.expanded} states; ${result.stats.facts} facts, ${result.stats.operators} ground actions`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
