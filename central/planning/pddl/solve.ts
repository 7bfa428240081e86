import { type Domain, type Problem, readDomain, readProblem } from "../../../contract/pddl";
import { deorder } from "./deorder";
import { ground } from "./ground";
import { Budget, LimitReached, type LimitReason, type Limits } from "./limits";
import { eliminateActions } from "./plan";
import { type AdmissibleHeuristic, astarSearch } from "./search/astar";
import { greedySearch } from "./search/greedy";
import type { SearchOutcome } from "./search/space";
import { SuccessorGenerator } from "./successors";
import type { Task } from "./task";

export interface SolveOptions extends Limits {
  /** A* with an admissible heuristic: a cheapest plan. Else greedy search: a plan, fast. */
  optimal?: boolean;
  /** The optimal search's heuristic (LM-cut unless asked otherwise). */
  heuristic?: AdmissibleHeuristic;
}

export interface SolveStats {
  facts: number;
  operators: number;
  expanded: number;
  groundMs: number;
  searchMs: number;
}

export interface PlanStep {
  /** The ground action in PDDL syntax, e.g. `(stack b1 b2)`. */
  action: string;
  /** The action schema's name (to find the skill that declared it). */
  schema: string;
  cost: number;
}

export type SolveResult =
  | {
      status: "solved";
      steps: PlanStep[];
      cost: number;
      /** Partial order edges [i, j], i < j: step i must finish before step j starts. */
      order: [number, number][];
      /** Steps by earliest start: each layer's steps may run in parallel. */
      layers: number[][];
      /** True when the plan is proved cheapest (optimal mode). */
      optimal: boolean;
      stats: SolveStats;
    }
  | { status: "unsolvable"; reason: string; stats: SolveStats }
  | { status: "limit"; reason: LimitReason; stats: SolveStats };

/**
 * Grounds and solves, pausing (yielding) every few hundred expansions: `solve` runs it to the
 * end, `solveAsync` gives the event loop a turn between slices. Limits end it with
 * `status: "limit"`, distinct from `unsolvable` (the search space was exhausted).
 */
function* solving(
  domain: Domain,
  problem: Problem,
  options: SolveOptions,
): Generator<void, SolveResult> {
  const now = options.now ?? Date.now;
  const budget = new Budget(options);
  const stats: SolveStats = { facts: 0, operators: 0, expanded: 0, groundMs: 0, searchMs: 0 };
  const started = now();
  const checked = function* <T>(steps: Generator<void, T>): Generator<void, T> {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      budget.check();
      yield;
    }
  };
  try {
    budget.check();
    const task: Task = yield* checked(
      ground(domain, problem, () => budget.check(), options.maxGroundActions),
    );
    stats.facts = task.facts.length;
    stats.operators = task.operators.length;
    budget.stateBytes = task.facts.length / 8 + 16;
    stats.groundMs = now() - started;
    if (task.unreachable) return { status: "unsolvable", reason: task.unreachable, stats };
    const successors = new SuccessorGenerator(task);
    const outcome: SearchOutcome = yield* checked(
      options.optimal
        ? astarSearch(task, successors, budget, options.heuristic)
        : greedySearch(task, successors, budget),
    );
    stats.expanded = budget.expansions;
    stats.searchMs = now() - started - stats.groundMs;
    if (outcome.kind === "unsolvable")
      return { status: "unsolvable", reason: "no plan: every reachable state was searched", stats };
    const ops = options.optimal ? outcome.ops : eliminateActions(task, outcome.ops);
    const { order, layers } = deorder(task, ops);
    const steps = ops.map((o) => {
      const op = task.operators[o]!;
      return { action: op.name, schema: op.schema, cost: op.cost };
    });
    return {
      status: "solved",
      steps,
      cost: steps.reduce((sum, s) => sum + s.cost, 0),
      order,
      layers,
      optimal: options.optimal === true,
      stats,
    };
  } catch (error) {
    if (!(error instanceof LimitReached)) throw error;
    stats.expanded = budget.expansions;
    stats.searchMs = Math.max(0, now() - started - stats.groundMs);
    return { status: "limit", reason: error.reason, stats };
  }
}

/**
 * Solves synchronously: bounded by `deadline` and `maxExpansions`. In workerd the clock does
 * not move during synchronous work, so there only `maxExpansions` bounds it: use solveAsync.
 */
export function solve(domain: Domain, problem: Problem, options: SolveOptions = {}): SolveResult {
  const run = solving(domain, problem, options);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

/** At most this many pauses (of a few hundred expansions each) between two yields. */
const PAUSES_PER_SLICE = 16;

/**
 * Solves in slices of about `sliceMs`, giving the event loop a turn between them, so a
 * Durable Object keeps answering and an AbortSignal can stop the solve. Use this one in
 * workerd: there the clock stands still during synchronous work, so a deadline is only seen
 * to pass after a yield, and slices are also cut by count.
 */
export async function solveAsync(
  domain: Domain,
  problem: Problem,
  options: SolveOptions & { sliceMs?: number } = {},
): Promise<SolveResult> {
  const now = options.now ?? Date.now;
  const slice = options.sliceMs ?? 50;
  const run = solving(domain, problem, options);
  let until = now() + slice;
  let pauses = 0;
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    if (++pauses >= PAUSES_PER_SLICE || now() >= until) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      until = now() + slice;
      pauses = 0;
    }
  }
}

/** Parses and solves PDDL text; bad or unsupported PDDL throws PddlError (line, column). */
export function solvePddl(
  domainText: string,
  problemText: string,
  options: SolveOptions = {},
): SolveResult {
  const domain = readDomain(domainText);
  return solve(domain, readProblem(problemText, domain), options);
}
