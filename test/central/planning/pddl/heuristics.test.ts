import { describe, expect, it } from "vitest";
import { IPC_DOMAINS, ipcDomain, random } from "../../../../bench/pddl/domains";
import { FFHeuristic } from "../../../../central/planning/pddl/heuristics/ff";
import { LMCutHeuristic } from "../../../../central/planning/pddl/heuristics/lmcut";
import { Budget } from "../../../../central/planning/pddl/limits";
import { applicable, apply } from "../../../../central/planning/pddl/plan";
import { astarSearch } from "../../../../central/planning/pddl/search/astar";
import { bitsetOf, hasFact } from "../../../../central/planning/pddl/states";
import { SuccessorGenerator } from "../../../../central/planning/pddl/successors";
import type { Task } from "../../../../central/planning/pddl/task";
import { from, ipcTask, taskOf } from "./support";

const words = (task: Task) => Math.ceil(task.facts.length / 32);

/** The optimal cost from `facts` by blind uniform-cost search (Infinity if none). */
function optimalCost(task: Task, facts: number[]): number {
  const t = from(task, facts);
  const run = astarSearch(t, new SuccessorGenerator(t), new Budget(), "blind");
  for (;;) {
    const r = run.next();
    if (!r.done) continue;
    if (r.value.kind === "unsolvable") return Number.POSITIVE_INFINITY;
    return r.value.ops.reduce((sum, o) => sum + t.operators[o]!.cost, 0);
  }
}

/** States met on seeded random walks from the initial state. */
function sampleStates(task: Task, count: number, seed: number): number[][] {
  const rng = random(seed);
  const out: number[][] = [];
  for (let k = 0; k < count; k++) {
    const s = bitsetOf(task.init, words(task));
    const steps = Math.floor(rng() * 12);
    for (let i = 0; i < steps; i++) {
      const ops = task.operators.filter((o) => applicable(o, s));
      if (ops.length === 0) break;
      apply(ops[Math.floor(rng() * ops.length)]!, s);
    }
    out.push(task.facts.map((_, f) => f).filter((f) => hasFact(s, f)));
  }
  return out;
}

const SMALL: Record<string, number> = {
  blocksworld: 4,
  gripper: 3,
  logistics: 2,
  miconic: 3,
  visitall: 3,
  transport: 2,
  lab: 2,
};

describe("heuristics", () => {
  it("LM-cut and h_max are admissible: h_max <= LM-cut <= the true cost (spot checks)", () => {
    for (const d of IPC_DOMAINS) {
      const task = ipcTask(d, SMALL[d.name]!, 3);
      const lmcut = new LMCutHeuristic(task);
      for (const facts of sampleStates(task, 6, 11)) {
        const state = bitsetOf(facts, words(task));
        const hstar = optimalCost(task, facts);
        const h = lmcut.evaluate(state);
        const hmax = lmcut.hmax(state);
        expect(hmax, `${d.name} h_max`).toBeLessThanOrEqual(h);
        expect(h, `${d.name} LM-cut ${h} > h* ${hstar}`).toBeLessThanOrEqual(hstar);
      }
    }
  });

  it("LM-cut finds every disjoint landmark in visit-all (as Fast Downward's does)", () => {
    const visitall = ipcDomain("visitall");
    for (const [n, expected] of [
      [2, 3],
      [3, 8],
      [4, 15],
    ] as const) {
      const task = ipcTask(visitall, n);
      expect(new LMCutHeuristic(task).evaluate(bitsetOf(task.init, words(task)))).toBe(expected);
    }
  });

  it("is zero at goal states and infinite at dead ends, for FF and LM-cut alike", () => {
    const task = taskOf(
      `(define (domain oneway) (:constants c) (:predicates (at ?x) (road ?x ?y) (goal-reached))
        (:action go :parameters (?x ?y) :precondition (and (at ?x) (road ?x ?y)) :effect (and (at ?y) (not (at ?x))))
        (:action finish :parameters () :precondition (at c) :effect (goal-reached)))`,
      `(define (problem p) (:domain oneway) (:objects a b)
        (:init (at a) (road a b) (road a c)) (:goal (goal-reached)))`,
    );
    const fact = (name: string) => task.facts.indexOf(name);
    const ff = new FFHeuristic(task);
    const lmcut = new LMCutHeuristic(task);
    const atB = bitsetOf([fact("(at b)")], words(task));
    expect(ff.evaluate(atB)).toBe(Number.POSITIVE_INFINITY);
    expect(lmcut.evaluate(atB)).toBe(Number.POSITIVE_INFINITY);
    const init = bitsetOf(task.init, words(task));
    expect(ff.evaluate(init)).toBe(2);
    expect(ff.preferred.map((o) => task.operators[o]!.name)).toEqual(["(go a c)"]);
    expect(lmcut.evaluate(init)).toBe(2);
    const done = bitsetOf([fact("(goal-reached)")], words(task));
    expect(ff.evaluate(done)).toBe(0);
    expect(lmcut.evaluate(done)).toBe(0);
  });
});

describe("negative conditions in the heuristics", () => {
  it("count: a fact that must become false costs the cheapest way to delete it", () => {
    const task = taskOf(
      `(define (domain d) (:requirements :negative-preconditions :action-costs)
        (:predicates (p) (q)) (:functions (total-cost) - number)
        (:action clear-p :parameters () :precondition (q) :effect (and (not (p)) (increase (total-cost) 5)))
        (:action make-q :parameters () :effect (and (q) (increase (total-cost) 1))))`,
      `(define (problem x) (:domain d) (:init (p)) (:goal (not (p))) (:metric minimize (total-cost)))`,
    );
    const init = bitsetOf(task.init, words(task));
    expect(new LMCutHeuristic(task).evaluate(init)).toBe(6);
    expect(new FFHeuristic(task, "real").evaluate(init)).toBe(6);
  });
});
