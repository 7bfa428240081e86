import type { Pos } from "./sexpr";

/**
 * The PDDL subset Auraison plans with: STRIPS with typing, negative preconditions, equality
 * and action costs (a `total-cost` metric). Names are lowercased; variables keep their `?`.
 */
export const SUPPORTED_REQUIREMENTS = [
  ":strips",
  ":typing",
  ":negative-preconditions",
  ":equality",
  ":action-costs",
] as const;

/** A parameter or object with its type; `either` types list several. */
export interface TypedName {
  name: string;
  types: string[];
  pos: Pos;
}

export interface TypeDecl {
  name: string;
  parent: string;
  pos: Pos;
}

export interface PredicateDecl {
  name: string;
  params: TypedName[];
  pos: Pos;
}

/** `(p ?x c)`, `(not (p ?x))`, `(= ?x ?y)`; args are variables (`?x`) or constants. */
export interface Literal {
  predicate: string;
  args: string[];
  negated: boolean;
  pos: Pos;
}

/** An action's cost: `(increase (total-cost) 3)` or `(increase (total-cost) (dist ?a ?b))`. */
export type CostExpr =
  | { kind: "number"; value: number }
  | { kind: "function"; name: string; args: string[]; pos: Pos };

export interface ActionSchema {
  name: string;
  params: TypedName[];
  precondition: Literal[];
  effect: Literal[];
  cost?: CostExpr;
  pos: Pos;
}

export interface Domain {
  name: string;
  requirements: string[];
  types: TypeDecl[];
  constants: TypedName[];
  predicates: PredicateDecl[];
  /** Numeric functions (`total-cost` and static cost tables), :action-costs only. */
  functions: PredicateDecl[];
  actions: ActionSchema[];
}

export function emptyDomain(name: string): Domain {
  return {
    name,
    requirements: [],
    types: [],
    constants: [],
    predicates: [],
    functions: [],
    actions: [],
  };
}

/** `(= (dist a b) 5)` in a problem's init. */
export interface FunctionValue {
  name: string;
  args: string[];
  value: number;
  pos: Pos;
}

export interface Problem {
  name: string;
  domain: string;
  requirements: string[];
  objects: TypedName[];
  init: Literal[];
  values: FunctionValue[];
  goal: Literal[];
  /** True with `(:metric minimize (total-cost))`: plans are then compared by their cost. */
  minimizeTotalCost: boolean;
}
