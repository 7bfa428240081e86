import { z } from "zod";
import { describeTarget, isAgentTarget, type Target, targetMatches } from "../intent";
import type { Skill } from "../skill";
import { formatPath, type ValidationIssue } from "../validation";
import type { PlanStep, PlanStepSpec } from "./plan";

/** What the fleet offers a planner: every registered agent, its app, skills and capabilities. */
export interface FleetCatalogue {
  agents: readonly {
    agent_id: string;
    app: string;
    skills: readonly Pick<Skill, "name" | "params">[];
    capabilities: readonly string[];
  }[];
}

/**
 * Checks a plan's steps before any runs: ids unique, dependencies known and without cycles,
 * inputs taken only from steps it waits for, every target served by a registered agent, and
 * static params valid for the skill a target names. `kept` are the steps of earlier versions a
 * replan builds on (completed, or under way): new steps may depend on them but not reuse their
 * ids, and take inputs from one under way only by waiting for it.
 */
export function checkPlanSteps(
  steps: readonly PlanStepSpec[],
  catalogue: FleetCatalogue,
  kept: readonly Pick<PlanStep, "id" | "status">[] = [],
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (path: PropertyKey[], expected: string, message: string) =>
    issues.push({ path: formatPath(path), expected, message, code: "invalid_plan" });
  const keptIds = new Set(kept.map((s) => s.id));
  const results = new Set(kept.filter((s) => s.status === "completed").map((s) => s.id));
  const index = new Map<string, number>();
  steps.forEach((step, i) => {
    if (index.has(step.id) || keptIds.has(step.id))
      add(["steps", i, "id"], "an id no other step has", `step id '${step.id}' is used twice`);
    else index.set(step.id, i);
  });
  steps.forEach((step, i) => {
    step.depends_on.forEach((dep, j) => {
      if (!index.has(dep) && !keptIds.has(dep))
        add(["steps", i, "depends_on", j], "the id of a step in the plan", `no step '${dep}'`);
      if (dep === step.id)
        add(["steps", i, "depends_on", j], "another step", `step '${step.id}' depends on itself`);
    });
  });
  const cycle = findCycle(steps, index);
  if (cycle)
    add(
      ["steps", index.get(cycle[0]!)!, "depends_on"],
      "dependencies without a cycle",
      `the steps depend on each other in a cycle: ${[...cycle, cycle[0]].join(" -> ")}`,
    );
  else
    steps.forEach((step, i) => {
      const before = ancestors(step.id, steps, index);
      for (const [param, input] of Object.entries(step.inputs))
        if (!before.has(input.step) && !results.has(input.step))
          add(
            ["steps", i, "inputs", param, "step"],
            `a step '${step.id}' depends on`,
            `input '${param}' comes from '${input.step}', which '${step.id}' does not wait for`,
          );
    });
  steps.forEach((step, i) => {
    step.targets.forEach((target, j) => {
      const path = ["steps", i, "targets", j];
      const serving = catalogue.agents.filter((a) => serves(a, target));
      if (serving.length === 0) {
        add(
          path,
          "a target a registered agent serves",
          `no registered agent serves ${describeTarget(target)}`,
        );
        return;
      }
      if (isAgentTarget(target) || target.skill === undefined) return;
      const schema = serving
        .flatMap((a) => a.skills)
        .find((s) => s.name === target.skill && s.params)?.params;
      if (schema) checkParams(step, schema, ["steps", i, "params"], issues);
    });
  });
  return issues;
}

/** Static params against the skill's JSON Schema; params filled from inputs are checked later. */
function checkParams(
  step: PlanStepSpec,
  schema: Record<string, unknown>,
  path: PropertyKey[],
  issues: ValidationIssue[],
): void {
  const fromInputs = new Set(Object.keys(step.inputs));
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  const relaxed = {
    ...schema,
    properties: Object.fromEntries(Object.entries(properties).filter(([k]) => !fromInputs.has(k))),
    required: ((schema.required ?? []) as string[]).filter((k) => !fromInputs.has(k)),
  };
  const params = Object.fromEntries(
    Object.entries(step.params).filter(([k]) => !fromInputs.has(k)),
  );
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(relaxed as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return;
  }
  const checked = validator.safeParse(params);
  if (checked.success) return;
  for (const issue of checked.error.issues)
    issues.push({
      path: formatPath([...path, ...issue.path]),
      expected: "params the skill accepts",
      message: issue.message,
      code: "invalid_plan",
    });
}

function serves(agent: FleetCatalogue["agents"][number], target: Target): boolean {
  return targetMatches(target, agent);
}

function findCycle(
  steps: readonly PlanStepSpec[],
  index: ReadonlyMap<string, number>,
): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    const s = state.get(id);
    if (s === "done") return null;
    if (s === "open") return stack.slice(stack.indexOf(id));
    state.set(id, "open");
    stack.push(id);
    const step = steps[index.get(id)!]!;
    for (const dep of step.depends_on) {
      if (!index.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, "done");
    return null;
  };
  for (const step of steps) {
    if (!index.has(step.id)) continue;
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return null;
}

function ancestors(
  id: string,
  steps: readonly PlanStepSpec[],
  index: ReadonlyMap<string, number>,
): Set<string> {
  const out = new Set<string>();
  const todo = [...(steps[index.get(id)!]?.depends_on ?? [])];
  while (todo.length) {
    const dep = todo.pop()!;
    if (out.has(dep)) continue;
    out.add(dep);
    const i = index.get(dep);
    if (i !== undefined) todo.push(...steps[i]!.depends_on);
  }
  return out;
}
