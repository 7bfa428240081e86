import { describe, expect, it } from "vitest";
import { check, Skill } from "../../../contract";
import { PddlError, readDomain, readProblem, readSExpr } from "../../../contract/pddl";

const DOMAIN = `; a comment
(define (domain Lab)
  (:requirements :strips :typing :negative-preconditions :equality :action-costs)
  (:types sample station - object robot)
  (:constants Hub - station)
  (:predicates (at ?x - (either sample robot) ?s - station) (busy ?s - station) (done ?x - sample))
  (:functions (dist ?a ?b - station) - number (total-cost) - number)
  (:action Move :parameters (?r - robot ?from ?to - station)
    :precondition (and (at ?r ?from) (not (busy ?to)) (not (= ?from ?to)))
    :effect (and (not (at ?r ?from)) (at ?r ?to) (increase (total-cost) (dist ?from ?to))))
  (:action finish :parameters (?x - sample)
    :precondition (at ?x hub)
    :effect (done ?x)))
`;

const PROBLEM = `(define (problem p1) (:domain lab)
  (:objects s1 - sample r1 - robot a b - station)
  (:init (at r1 a) (at s1 hub) (= (dist a b) 4) (= (total-cost) 0))
  (:goal (and (done s1) (not (busy b))))
  (:metric minimize (total-cost)))
`;

/** The error's message for a text that must not parse. */
function error(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PddlError);
    return (e as Error).message;
  }
  throw new Error("expected a PddlError");
}

const domainWith = (body: string, requirements = ":strips :typing") =>
  `(define (domain d) (:requirements ${requirements})
  (:types t)
  (:predicates (p ?x - t) (q ?x ?y - t))
  ${body})`;

describe("PDDL reader", () => {
  it("reads s-expressions with comments, lowercasing names and keeping positions", () => {
    const e = readSExpr("(A ; x\n  (B c))");
    expect(e.items[0]).toMatchObject({ kind: "atom", value: "a", pos: { line: 1, column: 2 } });
    expect(e.items[1]).toMatchObject({ kind: "list", pos: { line: 2, column: 3 } });
    expect(error(() => readSExpr("(a (b)"))).toBe(
      "line 1, column 1: unbalanced '(': missing ')' before the end",
    );
    expect(error(() => readSExpr("(a)) x"))).toMatch(/line 1, column 4: unbalanced '\)'/);
    expect(error(() => readSExpr("  "))).toMatch(/empty input/);
  });

  it("reads a domain: types, constants, either, predicates, functions, actions and costs", () => {
    const d = readDomain(DOMAIN);
    expect(d.name).toBe("lab");
    expect(d.types.map((t) => [t.name, t.parent])).toEqual([
      ["sample", "object"],
      ["station", "object"],
      ["robot", "object"],
    ]);
    expect(d.constants.map((c) => [c.name, c.types])).toEqual([["hub", ["station"]]]);
    expect(d.predicates[0]!.params[0]!.types).toEqual(["sample", "robot"]);
    const move = d.actions[0]!;
    expect(move.name).toBe("move");
    expect(move.precondition.map((l) => [l.negated, l.predicate, l.args])).toEqual([
      [false, "at", ["?r", "?from"]],
      [true, "busy", ["?to"]],
      [true, "=", ["?from", "?to"]],
    ]);
    expect(move.effect.map((l) => [l.negated, l.predicate])).toEqual([
      [true, "at"],
      [false, "at"],
    ]);
    expect(move.cost).toMatchObject({ kind: "function", name: "dist", args: ["?from", "?to"] });
    expect(d.actions[1]!.precondition[0]!.args).toEqual(["?x", "hub"]);
  });

  it("reads a problem against its domain", () => {
    const d = readDomain(DOMAIN);
    const p = readProblem(PROBLEM, d);
    expect(p.objects.map((o) => o.name)).toEqual(["s1", "r1", "a", "b"]);
    expect(p.init.map((l) => l.args)).toEqual([
      ["r1", "a"],
      ["s1", "hub"],
    ]);
    expect(p.values).toEqual([
      expect.objectContaining({ name: "dist", args: ["a", "b"], value: 4 }),
      expect.objectContaining({ name: "total-cost", args: [], value: 0 }),
    ]);
    expect(p.goal.map((l) => [l.negated, l.predicate])).toEqual([
      [false, "done"],
      [true, "busy"],
    ]);
    expect(p.minimizeTotalCost).toBe(true);
  });

  it("refuses unsupported requirements, naming all of them and where", () => {
    expect(
      error(() => readDomain("(define (domain d)\n (:requirements :strips :adl :fluents))")),
    ).toBe(
      "line 2, column 25: unsupported requirements :adl :fluents (supported: :strips :typing :negative-preconditions :equality :action-costs)",
    );
  });

  it("refuses constructs beyond the subset with the requirement they need", () => {
    const pre = (f: string) =>
      domainWith(`(:action a :parameters (?x - t) :precondition ${f} :effect (p ?x))`);
    expect(error(() => readDomain(pre("(or (p ?x) (q ?x ?x))")))).toMatch(
      /'or' needs :disjunctive-preconditions/,
    );
    expect(error(() => readDomain(pre("(exists (?y - t) (q ?x ?y))")))).toMatch(
      /needs :existential-preconditions/,
    );
    expect(error(() => readDomain(pre("(forall (?y - t) (q ?x ?y))")))).toMatch(
      /needs :universal-preconditions/,
    );
    expect(
      error(() =>
        readDomain(domainWith("(:action a :parameters (?x - t) :effect (when (p ?x) (q ?x ?x)))")),
      ),
    ).toMatch(/line 4, column 43: 'when' needs :conditional-effects/);
    expect(
      error(() =>
        readDomain(
          domainWith("(:action a :parameters (?x - t) :effect (forall (?y - t) (q ?x ?y)))"),
        ),
      ),
    ).toMatch(/'forall' needs :conditional-effects/);
    expect(error(() => readDomain(domainWith("(:derived (p ?x - t) (q ?x ?x))")))).toMatch(
      /':derived' needs :derived-predicates/,
    );
    expect(error(() => readDomain(domainWith("(:durative-action a)")))).toMatch(
      /needs :durative-actions/,
    );
  });

  it("reads predicates and actions named like Object members as names", () => {
    for (const name of ["constructor", "__proto__", "tostring"]) {
      const d = readDomain(
        domainWith(
          `(:action ${name} :parameters (?x - t) :precondition (and (p ?x) (not (${name} ?x))) :effect (${name} ?x))`,
        ).replace("(:predicates", `(:predicates (${name} ?x - t)`),
      );
      expect(d.actions[0]).toMatchObject({ name, params: [{ name: "?x" }] });
    }
  });

  it("checks names, arities, variables and types with their positions", () => {
    const action = (pre: string, params = "(?x - t)") =>
      domainWith(`(:action a :parameters ${params} :precondition ${pre} :effect (p ?x))`);
    expect(error(() => readDomain(action("(r ?x)")))).toMatch(
      /line 4, column 49: unknown predicate 'r'/,
    );
    expect(error(() => readDomain(action("(p ?x ?x)")))).toMatch(
      /'p' takes 1 argument\(s\), found 2/,
    );
    expect(error(() => readDomain(action("(p ?y)")))).toMatch(/unknown variable \?y/);
    expect(error(() => readDomain(action("(p c)")))).toMatch(/unknown constant 'c'/);
    expect(error(() => readDomain(action("(p ?x)", "(?x - u)")))).toMatch(
      /unknown type 'u' of \?x/,
    );
    expect(error(() => readDomain(action("(p ?x)", "(?x ?x - t)")))).toMatch(
      /parameter '\?x' is declared twice/,
    );
    expect(error(() => readDomain("(define (domain d) (:types a - b b - a))"))).toMatch(
      /its own ancestor/,
    );
    expect(error(() => readDomain("(define (problem d))"))).toMatch(/expected \(domain <name>\)/);
  });

  it("checks problems: domain name, objects, facts, the goal and the metric", () => {
    const d = readDomain(domainWith(""));
    const problem = (body: string, domain = "d") =>
      `(define (problem x) (:domain ${domain}) (:objects o1 o2 - t)\n ${body})`;
    expect(error(() => readProblem(problem("(:init) (:goal (p o1))", "e"), d))).toMatch(
      /the problem is for domain 'e', not 'd'/,
    );
    expect(error(() => readProblem(problem("(:init (p o3)) (:goal (p o1))"), d))).toMatch(
      /line 2, column 12: unknown object 'o3'/,
    );
    expect(error(() => readProblem(problem("(:init (not (p o1))) (:goal (p o1))"), d))).toMatch(
      /only true facts/,
    );
    expect(error(() => readProblem(problem("(:init)"), d))).toMatch(/no \(:goal/);
    expect(error(() => readProblem(problem("(:init) (:goal (p ?x))"), d))).toMatch(
      /variable \?x in a ground formula/,
    );
    expect(
      error(() =>
        readProblem(problem("(:init) (:goal (p o1)) (:metric maximize (total-cost))"), d),
      ),
    ).toMatch(/needs :numeric-fluents/);
    expect(readProblem(problem("(:init) (:goal (and))"), d).goal).toEqual([]);
    expect(
      error(() => readProblem(problem("(:init) (:goal (p o1))").replace("o1 o2", "o1 o1"), d)),
    ).toMatch(/object 'o1' is declared twice/);
    const withConstant = readDomain(DOMAIN);
    const again = PROBLEM.replace("a b - station", "a b hub - station");
    expect(readProblem(again, withConstant).objects.map((o) => o.name)).toEqual([
      "s1",
      "r1",
      "a",
      "b",
    ]);
    expect(
      error(() => readProblem(PROBLEM.replace("s1 - sample", "s1 hub - sample"), withConstant)),
    ).toMatch(/object 'hub' is a constant of another type/);
  });
});

describe("Skill.pddl", () => {
  const skill = (pddl: string) => ({
    name: "arm",
    description: "Moves the arm.",
    app: "lab",
    version: "1.0.0",
    pddl,
  });

  it("accepts a skill's PDDL domain", () => {
    const parsed = check(Skill, skill(DOMAIN));
    expect(parsed.ok).toBe(true);
  });

  it("refuses bad PDDL at the boundary, at the field and with the line and column", () => {
    const parsed = check(Skill, skill("(define (domain d)\n  (:requirements :adl))"));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues).toEqual([
      expect.objectContaining({
        path: "pddl",
        message: expect.stringContaining(
          "PDDL domain: line 2, column 18: unsupported requirement :adl",
        ),
      }),
    ]);
    expect(check(Skill, skill("x".repeat(20_000))).ok).toBe(false);
  });
});
