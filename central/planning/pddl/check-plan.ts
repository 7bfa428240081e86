import type { Domain, Literal, Problem } from "../../../contract/pddl";
import { deorder, type PartialOrder } from "./deorder";
import { key as atomKey, objectsByType } from "./ground";
import type { PlanStep } from "./solve";
import type { Operator, Task } from "./task";

/** A plan checked against its domain and problem, with its cost and partial order; or why not. */
export type CheckedPlan =
  | ({ ok: true; steps: PlanStep[]; cost: number } & PartialOrder)
  | { ok: false; error: string };

const ACTION = /^\(\s*([^\s()]+)((?:\s+[^\s()]+)*)\s*\)$/;

/**
 * Checks a sequential plan made elsewhere (an external planner's answer) the way VAL does,
 * lifted, without grounding the problem: each action names an action of the domain with
 * objects of the right types, its preconditions hold in the state the actions before it left
 * (deletes apply before adds), and the goal holds at the end. A valid plan is deordered like
 * one of central's own, so independent actions run in parallel.
 */
export function checkPlan(
  domain: Domain,
  problem: Problem,
  actions: readonly string[],
): CheckedPlan {
  const byType = objectsByType(domain, problem);
  const values = new Map(problem.values.map((v) => [atomKey(v.name, v.args), v.value]));
  const state = new Set(problem.init.map((l) => atomKey(l.predicate, l.args)));
  const facts = new Map<string, number>();
  const fact = (k: string) => {
    const id = facts.get(k);
    if (id !== undefined) return id;
    facts.set(k, facts.size);
    return facts.size - 1;
  };
  const operators: Operator[] = [];
  const steps: PlanStep[] = [];
  const refuse = (i: number, text: string, why: string): CheckedPlan => ({
    ok: false,
    error: `action ${i + 1} of ${actions.length}, ${text}: ${why}`,
  });
  for (const [i, text] of actions.entries()) {
    const match = ACTION.exec(text.trim().toLowerCase());
    if (!match) return refuse(i, text, "not a ground action such as (name arg ...)");
    const name = match[1]!;
    const args = match[2]!.trim().split(/\s+/).filter(Boolean);
    const schema = domain.actions.find((a) => a.name === name);
    if (!schema) return refuse(i, text, `the domain has no action '${name}'`);
    if (args.length !== schema.params.length)
      return refuse(
        i,
        text,
        `'${name}' takes ${schema.params.length} arguments, not ${args.length}`,
      );
    for (const [k, param] of schema.params.entries())
      if (!param.types.some((t) => byType.get(t)?.has(args[k]!)))
        return refuse(i, text, `'${args[k]}' is not an object of type ${param.types.join(" or ")}`);
    const bound = new Map(schema.params.map((p, k) => [p.name, args[k]!]));
    const ground = (l: Literal) => l.args.map((a) => bound.get(a) ?? a);
    const op: Operator = {
      name: `(${[name, ...args].join(" ")})`,
      schema: name,
      pre: [],
      preNeg: [],
      add: [],
      del: [],
      cost: 1,
    };
    for (const l of schema.precondition) {
      const at = ground(l);
      if (l.predicate === "=") {
        if ((at[0] === at[1]) === l.negated)
          return refuse(i, text, `its precondition ${show(l, at)} does not hold`);
        continue;
      }
      const k = atomKey(l.predicate, at);
      if (state.has(k) === l.negated)
        return refuse(
          i,
          text,
          `its precondition ${l.negated ? `(not ${k})` : k} does not hold after the actions before it`,
        );
      (l.negated ? op.preNeg : op.pre).push(fact(k));
    }
    const effects = schema.effect.map((l) => ({ l, k: atomKey(l.predicate, ground(l)) }));
    for (const { l, k } of effects) if (l.negated) state.delete(k);
    for (const { l, k } of effects) if (!l.negated) state.add(k);
    for (const { l, k } of effects) (l.negated ? op.del : op.add).push(fact(k));
    op.del = op.del.filter((f) => !op.add.includes(f));
    if (problem.minimizeTotalCost) {
      const c = schema.cost;
      if (!c) op.cost = 0;
      else if (c.kind === "number") op.cost = c.value;
      else
        op.cost =
          values.get(
            atomKey(
              c.name,
              c.args.map((a) => bound.get(a) ?? a),
            ),
          ) ?? 0;
    }
    operators.push(op);
    steps.push({ action: op.name, schema: name, cost: op.cost });
  }
  const goal: number[] = [];
  const goalNeg: number[] = [];
  for (const l of problem.goal) {
    if (l.predicate === "=") {
      if ((l.args[0] === l.args[1]) === l.negated)
        return { ok: false, error: `the goal ${show(l, l.args)} can never hold` };
      continue;
    }
    const k = atomKey(l.predicate, l.args);
    if (state.has(k) === l.negated)
      return {
        ok: false,
        error: `the goal ${l.negated ? `(not ${k})` : k} does not hold after the plan's ${actions.length} actions`,
      };
    (l.negated ? goalNeg : goal).push(fact(k));
  }
  const task: Task = {
    facts: [...facts.keys()],
    operators,
    init: problem.init.flatMap((l) => {
      const id = facts.get(atomKey(l.predicate, l.args));
      return id === undefined ? [] : [id];
    }),
    goal,
    goalNeg,
    hasCosts: problem.minimizeTotalCost,
  };
  const order = deorder(
    task,
    operators.map((_, i) => i),
  );
  return { ok: true, steps, cost: steps.reduce((sum, s) => sum + s.cost, 0), ...order };
}

function show(l: Literal, args: readonly string[]): string {
  const atom = `(${[l.predicate, ...args].join(" ")})`;
  return l.negated ? `(not ${atom})` : atom;
}

/** How big a problem is before grounding it: its objects, and an upper bound on its ground actions. */
export function problemSize(
  domain: Domain,
  problem: Problem,
): { objects: number; ground_actions: number } {
  const byType = objectsByType(domain, problem);
  let groundActions = 0;
  for (const action of domain.actions) {
    let product = 1;
    for (const p of action.params) {
      const objects = new Set(p.types.flatMap((t) => [...(byType.get(t) ?? [])]));
      product *= objects.size;
    }
    groundActions += product;
  }
  return {
    objects: domain.constants.length + problem.objects.length,
    ground_actions: groundActions,
  };
}
