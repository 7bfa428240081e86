import { describe, expect, it } from "vitest";
import { IPC_DOMAINS, ipcDomain } from "../../../../bench/pddl/domains";
import { deorder, solve } from "../../../../central/planning/pddl";
import { simulate } from "../../../../central/planning/pddl/plan";
import { readDomain, readProblem } from "../../../../contract/pddl";
import { linearisation, taskOf } from "./support";

/** Solves and returns the plan as operator indices of the grounded task, with its order. */
function planOf(domain: string, problem: string, optimal: boolean) {
  const task = taskOf(domain, problem);
  const d = readDomain(domain);
  const result = solve(d, readProblem(problem, d), { optimal });
  if (result.status !== "solved") throw new Error(result.status);
  const ops = result.steps.map((s) => task.operators.findIndex((o) => o.name === s.action));
  return { task, ops, result };
}

describe("deordering", () => {
  it("every linearisation of the partial order is a valid plan (property, all domains)", () => {
    for (const d of IPC_DOMAINS)
      for (const seed of [1, 2])
        for (const optimal of [false, true]) {
          const { task, ops, result } = planOf(d.domain, d.problem(optimal ? 3 : 6, seed), optimal);
          const { order, layers } = result;
          for (const [i, j] of order) expect(i).toBeLessThan(j);
          const layerOf = new Map(layers.flatMap((l, k) => l.map((s) => [s, k] as const)));
          for (const [i, j] of order) expect(layerOf.get(i)!).toBeLessThan(layerOf.get(j)!);
          expect(layers.flat().sort((a, b) => a - b)).toEqual(ops.map((_, i) => i));
          for (let k = 0; k < 25; k++) {
            const permutation = linearisation(ops.length, order, 1000 * seed + k);
            expect(
              simulate(
                task,
                permutation.map((i) => ops[i]!),
              ),
              `${d.name} #${k}`,
            ).toEqual({
              ok: true,
            });
          }
        }
  });

  it("keeps only the edges no other path implies", () => {
    const d = ipcDomain("logistics");
    const { result } = planOf(d.domain, d.problem(6, 3), false);
    const reach = (from: number, to: number, skip: [number, number]): boolean =>
      result.order.some(
        ([i, j]) =>
          i === from && !(i === skip[0] && j === skip[1]) && (j === to || reach(j, to, skip)),
      );
    for (const edge of result.order) expect(reach(edge[0], edge[1], edge)).toBe(false);
    // Packages in different cities move independently.
    expect(result.layers.length).toBeLessThan(result.steps.length);
  });

  it("orders a step that undoes a condition after the step that needs it", () => {
    const task = taskOf(
      `(define (domain d) (:predicates (p) (q) (r) (s))
        (:action make :parameters () :effect (p))
        (:action use :parameters () :precondition (p) :effect (q))
        (:action spoil :parameters () :effect (not (p)))
        (:action other :parameters () :effect (s)))`,
      "(define (problem x) (:domain d) (:init) (:goal (and (q) (s))))",
    );
    const id = (name: string) => task.operators.findIndex((o) => o.name === name);
    const plan = ["(make)", "(use)", "(other)", "(spoil)"].map(id);
    const { order, layers } = deorder(task, plan);
    expect(order).toEqual([
      [0, 1],
      [1, 3],
    ]);
    expect(layers).toEqual([[0, 2], [1], [3]]);
  });
});
