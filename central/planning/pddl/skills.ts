import type { Skill } from "../../../contract";
import {
  type ActionSchema,
  type Domain,
  emptyDomain,
  PddlError,
  type PredicateDecl,
  readDomain,
  type TypedName,
} from "../../../contract/pddl";
import type { PlanStep } from "./solve";

/** Skills whose PDDL declarations cannot be combined: which ones, and what they disagree on. */
export class SkillDomainError extends Error {
  constructor(
    message: string,
    readonly skills: string[],
  ) {
    super(message);
    this.name = "SkillDomainError";
  }
}

/** The fleet's planning domain, and which skills can perform each action schema. */
export interface SkillsDomain {
  domain: Domain;
  skillsByAction: Map<string, string[]>;
}

/** The key a step's params give an action's parameter: `?sample-id` is `sample_id`. */
export const paramKey = (variable: string) => variable.replace(/^\?/, "").replace(/-/g, "_");

/** A declaration without its source positions, for comparing two skills' definitions. */
const shape = (value: unknown) => JSON.stringify(value, (k, v) => (k === "pos" ? undefined : v));
const signature = (params: TypedName[]) => params.map((p) => p.types.join("|")).join(" ");

/**
 * Builds one PDDL domain from the PDDL declarations of many skills (each a whole domain).
 * Types, constants, predicates and functions may be declared by several skills only if they
 * agree; an action declared identically by several skills can be done by any of them.
 * Disagreements are refused naming both skills. Skills without a declaration are ignored.
 */
export function buildSkillsDomain(
  skills: readonly Pick<Skill, "name" | "pddl">[],
  name = "fleet",
): SkillsDomain {
  const domain = emptyDomain(name);
  const skillsByAction = new Map<string, string[]>();
  const owners = new Map<string, { skill: string; shape: string }>();
  /** Adds a declaration unless another skill declared the same name differently. */
  const declare = (kind: string, key: string, skill: string, value: string): boolean => {
    const id = `${kind} ${key}`;
    const seen = owners.get(id);
    if (!seen) {
      owners.set(id, { skill, shape: value });
      return true;
    }
    if (seen.shape !== value)
      throw new SkillDomainError(
        `skills '${seen.skill}' and '${skill}' declare ${kind} '${key}' differently`,
        [seen.skill, skill],
      );
    return false;
  };
  const seenSkills = new Map<string, string>();
  for (const skill of skills) {
    if (!skill.pddl) continue;
    const previous = seenSkills.get(skill.name);
    if (previous !== undefined) {
      if (previous !== skill.pddl)
        throw new SkillDomainError(
          `skill '${skill.name}' is registered with two different PDDL declarations (two versions in the fleet?)`,
          [skill.name],
        );
      continue;
    }
    seenSkills.set(skill.name, skill.pddl);
    let own: Domain;
    try {
      own = readDomain(skill.pddl);
    } catch (error) {
      if (error instanceof PddlError)
        throw new SkillDomainError(`skill '${skill.name}': ${error.message}`, [skill.name]);
      throw error;
    }
    for (const r of own.requirements)
      if (!domain.requirements.includes(r)) domain.requirements.push(r);
    for (const t of own.types)
      if (declare("type", t.name, skill.name, t.parent)) domain.types.push(t);
    for (const c of own.constants)
      if (declare("constant", c.name, skill.name, c.types.join("|"))) domain.constants.push(c);
    const decls = (kind: string, list: PredicateDecl[], into: PredicateDecl[]) => {
      for (const p of list)
        if (declare(kind, p.name, skill.name, signature(p.params))) into.push(p);
    };
    decls("predicate", own.predicates, domain.predicates);
    decls("function", own.functions, domain.functions);
    for (const a of own.actions) addAction(a, skill.name);
  }
  function addAction(a: ActionSchema, skill: string) {
    // A step's params hold the ground action under `action` and each parameter under its key;
    // a key taken twice, or one a JSON object cannot hold, would lose an argument.
    const keys = new Set(["action"]);
    for (const p of a.params) {
      const key = paramKey(p.name);
      if (keys.has(key) || key === "__proto__")
        throw new SkillDomainError(
          `skill '${skill}': parameter '${p.name}' of action '${a.name}' cannot be a step's param '${key}' (${key === "__proto__" ? "not a name JSON can carry" : "taken by the ground action or another parameter"})`,
          [skill],
        );
      keys.add(key);
    }
    if (declare("action", a.name, skill, shape(a))) domain.actions.push(a);
    const list = skillsByAction.get(a.name);
    if (list) list.push(skill);
    else skillsByAction.set(a.name, [skill]);
  }
  return { domain, skillsByAction };
}

/** The skills that can perform each step of a plan (to dispatch it to an agent with one). */
export function skillsForSteps(fleet: SkillsDomain, steps: readonly PlanStep[]): string[][] {
  return steps.map((s) => fleet.skillsByAction.get(s.schema) ?? []);
}
