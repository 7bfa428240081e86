import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readDomain, readProblem, writeDomain, writeProblem } from "../../../contract/pddl";

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
/** A domain or problem without source positions (they differ between two texts). */
const shape = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (k, v) => (k === "pos" ? undefined : v)));

describe("writing PDDL", () => {
  it("writes a domain and a problem that read back the same (types, either, constants, negation, equality, costs)", () => {
    const domain = readDomain(read("examples/pddl/lab-domain.pddl"));
    const problem = readProblem(read("examples/pddl/lab-problem.pddl"), domain);
    const again = readDomain(writeDomain(domain));
    expect(shape(again)).toEqual(shape(domain));
    expect(shape(readProblem(writeProblem(problem, again.name), again))).toEqual(shape(problem));
  });

  it("declares the requirements the domain uses even when its source did not", () => {
    const domain = readDomain(`(define (domain d) (:requirements :strips :typing)
      (:types t) (:predicates (p ?x - t) (q ?x - t))
      (:action a :parameters (?x ?y - t)
        :precondition (and (p ?x) (not (= ?x ?y))) :effect (q ?y)))`);
    domain.requirements = [];
    const text = writeDomain(domain);
    expect(text).toMatch(/\(:requirements :typing :equality :strips\)/);
    expect(shape(readDomain(text).actions)).toEqual(shape(domain.actions));
  });
});
