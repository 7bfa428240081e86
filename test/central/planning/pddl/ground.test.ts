import { describe, expect, it } from "vitest";
import { ipcDomain } from "../../../../bench/pddl/domains";
import { solvePddl } from "../../../../central/planning/pddl";
import { PddlError } from "../../../../contract/pddl";
import { ipcTask, taskOf } from "./support";

const names = (task: { operators: { name: string }[] }) => task.operators.map((o) => o.name);

describe("grounding", () => {
  it("settles static predicates from the initial state and respects types", () => {
    const task = ipcTask(ipcDomain("logistics"), 4);
    expect(task.facts.some((f) => f.startsWith("(in-city"))).toBe(false);
    // Trucks drive only within their city; airplanes fly only between airports.
    expect(names(task)).toContain("(drive-truck c1-t c1-ap c1-l1 c1)");
    expect(names(task).some((n) => /^\(drive-truck c1-t \S+ c2-/.test(n))).toBe(false);
    expect(names(task).some((n) => /^\(fly-airplane plane1 \S+-l1/.test(n))).toBe(false);
    expect(names(task).some((n) => /^\(load-truck \S+ plane1/.test(n))).toBe(false);
  });

  it("instantiates only what relaxed reachability allows", () => {
    const task = ipcTask(ipcDomain("gripper"), 3);
    // (move rooma rooma) satisfies the preconditions; nothing can put a ball in a gripper room.
    expect(names(task)).toContain("(move rooma roomb)");
    expect(task.facts.some((f) => f.includes("(at left"))).toBe(false);
    expect(task.operators).toHaveLength(2 * 2 + 3 * 2 * 2 * 2);
  });

  it("keeps negative preconditions on fluents and decides equality", () => {
    const task = ipcTask(ipcDomain("lab"), 3);
    const moves = task.operators.filter((o) => o.schema === "move");
    expect(moves.every((o) => !/\(move \S+ (\S+) \1\)/.test(o.name))).toBe(true);
    const move = moves[0]!;
    expect(move.preNeg.map((f) => task.facts[f])).toEqual([
      `(occupied ${move.name.split(" ")[3]!.slice(0, -1)})`,
    ]);
  });

  it("prunes instances a static negative precondition rules out", () => {
    const task = taskOf(
      `(define (domain d) (:predicates (blocked ?x) (done ?x))
        (:action go :parameters (?x) :precondition (not (blocked ?x)) :effect (done ?x)))`,
      "(define (problem p) (:domain d) (:objects a b) (:init (blocked a)) (:goal (done b)))",
    );
    expect(names(task)).toEqual(["(go b)"]);
    expect(task.operators[0]!.preNeg).toEqual([]);
  });

  it("lets an add win over a delete of the same fact", () => {
    const task = taskOf(
      `(define (domain d) (:predicates (p ?x) (q))
        (:action touch :parameters (?x) :precondition (p ?x) :effect (and (not (p ?x)) (p ?x) (q))))`,
      "(define (problem p) (:domain d) (:objects a) (:init (p a)) (:goal (q)))",
    );
    expect(task.operators[0]!.del).toEqual([]);
  });

  it("takes action costs from the metric and the function table", () => {
    const transport = ipcDomain("transport");
    const task = ipcTask(transport, 3);
    expect(task.hasCosts).toBe(true);
    const drive = task.operators.find((o) => o.schema === "drive")!;
    const [, , from, to] = drive.name.slice(1, -1).split(" ");
    const length = new RegExp(`\\(= \\(road-length ${from} ${to}\\) (\\d+)\\)`).exec(
      transport.problem(3, 1),
    )![1];
    expect(drive.cost).toBe(Number(length));
    expect(task.operators.find((o) => o.schema === "pick-up")!.cost).toBe(1);
    // Without the metric every action costs 1.
    const unit = taskOf(
      transport.domain,
      transport.problem(3, 1).replace(/\(:metric[^)]*\)\)/, ""),
    );
    expect(unit.hasCosts).toBe(false);
    expect(new Set(unit.operators.map((o) => o.cost))).toEqual(new Set([1]));
  });

  it("refuses a cost with no value in the problem, pointing at the action", () => {
    const transport = ipcDomain("transport");
    const problem = transport.problem(3, 1).replace(/\(= \(road-length [^)]*\) \d+\)/, "");
    expect(() => solvePddl(transport.domain, problem)).toThrow(PddlError);
    expect(() => solvePddl(transport.domain, problem)).toThrow(
      /line 9, column \d+: no initial value for \(road-length/,
    );
  });

  it("proves a goal unreachable while grounding", () => {
    const result = solvePddl(
      `(define (domain d) (:predicates (p) (q) (r))
        (:action a :parameters () :precondition (p) :effect (q)))`,
      "(define (problem x) (:domain d) (:init (q)) (:goal (and (q) (r))))",
    );
    expect(result).toMatchObject({ status: "unsolvable", reason: expect.stringMatching(/\(r\)/) });
  });
});
