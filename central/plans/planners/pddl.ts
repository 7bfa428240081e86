import {
  check,
  type ExternalPddlPlanner,
  emptyUsage,
  isKept,
  isUnderway,
  type JsonValue,
  type Plan,
  PlanSpec,
  type PlanStep,
  type PlanStepSpec,
} from "../../../contract";
import {
  type Domain,
  type Literal,
  PddlError,
  type Problem,
  readProblem,
  writeDomain,
  writeProblem,
} from "../../../contract/pddl";
import {
  buildSkillsDomain,
  checkPlan,
  paramKey,
  problemSize,
  SkillDomainError,
  type SkillsDomain,
  type PlanStep as SolvedStep,
  solveAsync,
} from "../../planning/pddl";
import type { ExternalAnswer } from "./external-pddl";
import type { Planner, PlanningAnswer, PlanningAsk, PlanningFleet } from "./planner";

/**
 * How long (and how far) central's own solver may search for one plan. The object has 128 MB
 * for everything: ground actions and stored states are held to a part of it.
 */
const SOLVE_LIMITS = {
  timeoutMs: 20_000,
  maxExpansions: 2_000_000,
  maxStates: 1_000_000,
  maxStateBytes: 48 * 2 ** 20,
  maxGroundActions: 100_000,
};

/** The fleet's PDDL domain: every registered skill's declaration, combined. */
export function fleetDomain(fleet: PlanningFleet): SkillsDomain {
  return buildSkillsDomain(fleet.agents.flatMap((a) => a.skills));
}

/**
 * Checks a plan request's PDDL problem against the fleet's domain: null when it reads, else
 * what is wrong (with line and column).
 */
export function problemError(fleet: PlanningFleet, pddl: NonNullable<Plan["pddl"]>): string | null {
  try {
    const { domain } = fleetDomain(fleet);
    if (domain.actions.length === 0) return "no registered skill declares PDDL actions";
    readProblem(pddl.problem, domain);
    return null;
  } catch (error) {
    if (error instanceof PddlError || error instanceof SkillDomainError) return error.message;
    throw error;
  }
}

/** An external planner for large problems: the one in force, and how to ask it. */
export interface ExternalSolver {
  configured(): ExternalPddlPlanner | null;
  solve(
    config: ExternalPddlPlanner,
    request: { domain: string; problem: string; optimal: boolean },
  ): Promise<ExternalAnswer>;
}

/**
 * Plans with central's own PDDL solver over the domain the fleet's skills declare, or, for a
 * problem above the configured size, with an external planner whose plan central checks against
 * the domain before it uses it (and replaces with its own, or refuses, when it does not check).
 * The sequential plan is deordered by its causal links, so independent actions become steps
 * without a path between them and run in parallel; each step goes to an agent with a skill that
 * declared the action, with the action's arguments as params by the schema's parameter names.
 */
export class PddlPlanner implements Planner {
  constructor(private readonly external: ExternalSolver | null = null) {}

  async plan(ask: PlanningAsk): Promise<PlanningAnswer> {
    const usage = emptyUsage();
    const pddl = ask.plan.pddl;
    if (!pddl) return { ok: false, error: "the plan has no PDDL problem", usage };
    let fleet: SkillsDomain;
    let problem: Problem;
    try {
      fleet = fleetDomain(ask.fleet);
      problem = readProblem(pddl.problem, fleet.domain);
    } catch (error) {
      if (error instanceof PddlError || error instanceof SkillDomainError)
        return { ok: false, error: error.message, usage };
      throw error;
    }
    // A repair plans from where the plan stands: the actions done (and under way) applied.
    const kept = ask.round === "repair" ? ask.plan.steps.filter(isKept) : [];
    const applied = advance(fleet.domain, problem, kept);
    if (typeof applied === "string") return { ok: false, error: applied, usage };
    problem = applied;
    const config = this.external?.configured() ?? null;
    let note: string | undefined;
    if (config && (!pddl.optimal || config.optimal) && isLarge(config, fleet.domain, problem)) {
      const answer = await this.external!.solve(config, {
        domain: writeDomain(fleet.domain),
        problem: writeProblem(problem, fleet.domain.name),
        optimal: pddl.optimal,
      });
      const checked = answer.ok ? checkPlan(fleet.domain, problem, answer.actions) : answer;
      if (checked.ok) return steps(ask, fleet, kept, checked, { solver: "external" });
      const why = answer.ok ? `its plan does not check: ${checked.error}` : checked.error;
      if (config.on_failure === "fail")
        return { ok: false, error: `the external planner failed: ${why}`, usage };
      note = `the external planner failed (${why}); central's solver planned instead`;
    }
    const result = await solveAsync(fleet.domain, problem, {
      optimal: pddl.optimal,
      deadline: Date.now() + SOLVE_LIMITS.timeoutMs,
      maxExpansions: SOLVE_LIMITS.maxExpansions,
      maxStates: SOLVE_LIMITS.maxStates,
      maxStateBytes: SOLVE_LIMITS.maxStateBytes,
      maxGroundActions: SOLVE_LIMITS.maxGroundActions,
    });
    if (result.status === "unsolvable")
      return { ok: false, error: `no plan exists: ${result.reason}`, usage };
    if (result.status === "limit")
      return { ok: false, error: `no plan within the solver's limits (${result.reason})`, usage };
    return steps(ask, fleet, kept, result, { solver: "central", note });
  }
}

/** Whether a problem is above the size at which the external planner takes it. */
function isLarge(config: ExternalPddlPlanner, domain: Domain, problem: Problem): boolean {
  const size = problemSize(domain, problem);
  const { objects, ground_actions } = config.above;
  return (
    (objects !== undefined && size.objects > objects) ||
    (ground_actions !== undefined && size.ground_actions > ground_actions)
  );
}

/** A sequential plan and its partial order as plan steps, one per action. */
function steps(
  ask: PlanningAsk,
  fleet: SkillsDomain,
  kept: readonly PlanStep[],
  plan: { steps: readonly SolvedStep[]; order: readonly [number, number][] },
  how: { solver: "central" | "external"; note?: string | undefined },
): PlanningAnswer {
  const usage = emptyUsage();
  if (plan.steps.length === 0)
    return { ok: false, error: "the goal already holds: nothing to do", usage };
  const preds = plan.steps.map(() => [] as number[]);
  for (const [i, j] of plan.order) preds[j]!.push(i);
  // Ids of a repair's steps name its version, so they never clash with the steps kept.
  const prefix = ask.round === "repair" ? `v${ask.plan.version + 1}-` : "";
  const id = (i: number) => `${prefix}a${i + 1}`;
  const running = kept.filter(isUnderway).map((s) => s.id);
  const specs: PlanStepSpec[] = plan.steps.map((step, i) => {
    const schema = fleet.domain.actions.find((a) => a.name === step.schema)!;
    const args = step.action.slice(1, -1).split(/\s+/).slice(1);
    const params: Record<string, JsonValue> = { action: step.action };
    schema.params.forEach((p, k) => {
      params[paramKey(p.name)] = args[k] ?? null;
    });
    return {
      id: id(i),
      title: step.action,
      type: "task",
      params,
      targets: (fleet.skillsByAction.get(step.schema) ?? []).map((skill) => ({ skill })),
      // A new step with nothing before it waits for the kept steps still running: their
      // effects were assumed.
      depends_on: preds[i]!.length ? preds[i]!.map(id) : running,
      inputs: {},
      max_attempts: 2,
      requires_approval: false,
      action: step.action,
    };
  });
  // A solved plan is held to what any plan may be (its steps, each step's dependencies), as a
  // model's answer is: the plan is one document the object stores whole.
  const fits = check(PlanSpec, { steps: specs });
  if (!fits.ok)
    return {
      ok: false,
      error: `the solver's plan does not fit in a plan: ${fits.issues
        .slice(0, 3)
        .map((i) => `${i.path}: ${i.message}`)
        .join("; ")}`,
      usage,
    };
  return {
    ok: true,
    steps: specs,
    usage,
    solver: how.solver,
    ...(how.note ? { note: how.note } : {}),
  };
}

/**
 * The problem with the kept steps' actions applied to its initial state, in the order they
 * finished (those under way last, their effects assumed), or why an action cannot be applied.
 */
function advance(domain: Domain, problem: Problem, kept: readonly PlanStep[]): Problem | string {
  if (kept.length === 0) return problem;
  const key = (l: Pick<Literal, "predicate" | "args">) => `${l.predicate} ${l.args.join(" ")}`;
  const init = new Map(problem.init.map((l) => [key(l), l]));
  const order = [...kept].sort((a, b) =>
    (a.finished_at ?? "~").localeCompare(b.finished_at ?? "~"),
  );
  for (const step of order) {
    if (!step.action) return `step ${step.id} has no PDDL action to carry into the repair`;
    const [name, ...args] = step.action.slice(1, -1).trim().split(/\s+/);
    const schema = domain.actions.find((a) => a.name === name);
    if (!schema || schema.params.length !== args.length)
      return `step ${step.id}'s action ${step.action} is not an action of the fleet's domain`;
    const bound = new Map(schema.params.map((p, i) => [p.name, args[i]!]));
    for (const effect of schema.effect) {
      const ground = { ...effect, args: effect.args.map((a) => bound.get(a) ?? a), negated: false };
      if (effect.negated) init.delete(key(ground));
      else init.set(key(ground), ground);
    }
  }
  return { ...problem, init: [...init.values()] };
}
