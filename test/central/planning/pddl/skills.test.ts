import { describe, expect, it } from "vitest";
import {
  buildSkillsDomain,
  SkillDomainError,
  skillsForSteps,
  solve,
} from "../../../../central/planning/pddl";
import { readProblem } from "../../../../contract/pddl";
import { ARM, SCANNER } from "./fleet-domains";

const skill = (name: string, pddl?: string) => ({ name, pddl });

describe("a domain from the fleet's skills", () => {
  it("merges skills' declarations and maps each step back to the skill that can do it", () => {
    const fleet = buildSkillsDomain([skill("arm", ARM), skill("scanner", SCANNER), skill("notes")]);
    expect(fleet.domain.actions.map((a) => a.name)).toEqual(["carry", "scan"]);
    const problem = readProblem(
      `(define (problem p) (:domain fleet) (:objects s1 s2 - sample shelf - station)
        (:init (at s1 shelf) (at s2 shelf)) (:goal (and (scanned s1) (scanned s2) (at s1 shelf))))`,
      fleet.domain,
    );
    const result = solve(fleet.domain, problem, { optimal: true });
    if (result.status !== "solved") throw new Error(result.status);
    expect(result.cost).toBe(5);
    const skills = skillsForSteps(fleet, result.steps);
    result.steps.forEach((step, i) => {
      expect(skills[i]).toEqual([step.schema === "scan" ? "scanner" : "arm"]);
    });
  });

  it("lets several skills offer the same action when they declare it identically", () => {
    const fleet = buildSkillsDomain([
      skill("arm", ARM),
      skill("arm-2", ARM.replace("domain arm", "domain arm2")),
    ]);
    expect(fleet.skillsByAction.get("carry")).toEqual(["arm", "arm-2"]);
    expect(buildSkillsDomain([skill("arm", ARM), skill("arm", ARM)]).domain.actions).toHaveLength(
      1,
    );
  });

  it("refuses disagreements, naming the skills", () => {
    const refuse = (other: string, message: RegExp) => {
      try {
        buildSkillsDomain([skill("arm", ARM), skill("other", other)]);
      } catch (e) {
        expect(e).toBeInstanceOf(SkillDomainError);
        expect((e as SkillDomainError).skills).toEqual(["arm", "other"]);
        expect((e as Error).message).toMatch(message);
        return;
      }
      throw new Error("expected a SkillDomainError");
    };
    refuse(
      SCANNER.replace("(scanned ?s - sample))", "(scanned ?s - station))"),
      /skills 'arm' and 'other' declare predicate 'scanned' differently/,
    );
    refuse(
      SCANNER.replace("(:types sample station)", "(:types sample - thing station thing)"),
      /declare type 'sample' differently/,
    );
    refuse(ARM.replace("(at ?s ?to)", "(at ?s ?from)"), /declare action 'carry' differently/);
  });

  it("refuses a skill's bad PDDL with the skill, line and column, and two versions of one skill", () => {
    expect(() =>
      buildSkillsDomain([skill("arm", "(define (domain a)\n (:requirements :fluents))")]),
    ).toThrow(/skill 'arm': line 2, column 17: unsupported requirement :fluents/);
    expect(() => buildSkillsDomain([skill("arm", ARM), skill("arm", SCANNER)])).toThrow(
      /skill 'arm' is registered with two different PDDL declarations/,
    );
  });

  it("refuses action parameters that would not keep their own key in a step's params", () => {
    const refuse = (params: string, message: RegExp) =>
      expect(() =>
        buildSkillsDomain([
          skill(
            "arm",
            `(define (domain d) (:requirements :strips :typing) (:types t) (:predicates (p ?x - t))
              (:action go :parameters (${params}) :precondition (p ?x) :effect (not (p ?x))))`,
          ),
        ]),
      ).toThrow(message);
    refuse(
      "?x ?action - t",
      /parameter '\?action' of action 'go' cannot be a step's param 'action' \(taken/,
    );
    refuse(
      "?x ?a-b ?a_b - t",
      /parameter '\?a_b' of action 'go' cannot be a step's param 'a_b' \(taken/,
    );
    refuse("?x ?__proto__ - t", /param '__proto__' \(not a name JSON can carry\)/);
    expect(buildSkillsDomain([skill("arm", ARM)]).domain.actions).toHaveLength(1);
  });
});
