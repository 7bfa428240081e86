import { emptyUsage, type JsonValue, type Plan, type PlanStepSpec } from "../../../contract";
import { PddlError, readProblem } from "../../../contract/pddl";
import {
  buildSkillsDomain,
  SkillDomainError,
  type SkillsDomain,
  solveAsync,
} from "../../planning/pddl";
import type { Planner, PlanningAnswer, PlanningAsk, PlanningFleet } from "./planner";

/** How long (and how far) central's own solver may search for one plan. */
const SOLVE_LIMITS = { timeoutMs: 20_000, maxExpansions: 2_000_000, maxStates: 1_000_000 };

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

/**
 * Plans with central's own PDDL solver over the domain the fleet's skills declare. The
 * sequential plan is deordered by its causal links, so independent actions become steps without
 * a path between them and run in parallel; each step goes to an agent with a skill that declared
 * the action, with the action's arguments as params by the schema's parameter names.
 */
export class PddlPlanner implements Planner {
  async plan(ask: PlanningAsk): Promise<PlanningAnswer> {
    const usage = emptyUsage();
    const pddl = ask.plan.pddl;
    if (!pddl) return { ok: false, error: "the plan has no PDDL problem", usage };
    let fleet: SkillsDomain;
    let problem: ReturnType<typeof readProblem>;
    try {
      fleet = fleetDomain(ask.fleet);
      problem = readProblem(pddl.problem, fleet.domain);
    } catch (error) {
      if (error instanceof PddlError || error instanceof SkillDomainError)
        return { ok: false, error: error.message, usage };
      throw error;
    }
    const result = await solveAsync(fleet.domain, problem, {
      optimal: pddl.optimal,
      deadline: Date.now() + SOLVE_LIMITS.timeoutMs,
      maxExpansions: SOLVE_LIMITS.maxExpansions,
      maxStates: SOLVE_LIMITS.maxStates,
    });
    if (result.status === "unsolvable")
      return { ok: false, error: `no plan exists: ${result.reason}`, usage };
    if (result.status === "limit")
      return { ok: false, error: `no plan within the solver's limits (${result.reason})`, usage };
    if (result.steps.length === 0)
      return { ok: false, error: "the goal already holds: nothing to do", usage };
    const preds = result.steps.map(() => [] as number[]);
    for (const [i, j] of result.order) preds[j]!.push(i);
    const id = (i: number) => `a${i + 1}`;
    const steps: PlanStepSpec[] = result.steps.map((step, i) => {
      const schema = fleet.domain.actions.find((a) => a.name === step.schema)!;
      const args = step.action.slice(1, -1).split(/\s+/).slice(1);
      const params: Record<string, JsonValue> = { action: step.action };
      schema.params.forEach((p, k) => {
        params[p.name.replace(/^\?/, "").replace(/-/g, "_")] = args[k] ?? null;
      });
      return {
        id: id(i),
        title: step.action,
        type: "task",
        params,
        targets: (fleet.skillsByAction.get(step.schema) ?? []).map((skill) => ({ skill })),
        depends_on: preds[i]!.map(id),
        inputs: {},
        max_attempts: 2,
        requires_approval: false,
        action: step.action,
      };
    });
    return { ok: true, steps, usage };
  }
}
